#!/usr/bin/env bash
# build-base.sh WORKDIR
#
# Turns the root file system that setup.sh left in WORKDIR/base into the base
# image named by BASE_IMAGE in WORKDIR/fixture.env, with the buildah command.
# Skipped when the image already exists in the store (see lib.sh for choosing
# the store).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

if [[ $# -ne 1 ]]; then
	printf 'usage: build-base.sh WORKDIR\n' >&2
	exit 2
fi
env_file=$1/fixture.env
[[ -r $env_file ]] || die "$env_file is missing; run e2e/setup.sh $1 first"
# shellcheck source=/dev/null
. "$env_file"
require_buildah

if bh inspect --type image "$BASE_IMAGE" >/dev/null 2>&1; then
	log "$BASE_IMAGE: exists"
	exit 0
fi
log "$BASE_IMAGE: building from $BASE_TARBALL"
bh bud --isolation chroot --network host --layers=false \
	-f "$BASE_CONTAINERFILE" -t "$BASE_IMAGE" "$BASE_CONTEXT" >&2
log "$BASE_IMAGE: built"
