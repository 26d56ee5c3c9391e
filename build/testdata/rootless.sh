#!/bin/sh
# Runs TestRootlessBuild as an unprivileged user. Run as root from the repository root:
#   sh build/testdata/rootless.sh
# It installs uidmap (newuidmap, newgidmap) and busybox-static, creates the user ibtest with
# subordinate ID ranges, compiles the test binary and runs the test as that user, with its
# temporary stores under the user's home.
set -eu

user=ibtest
binary=/tmp/build.test

if ! command -v newuidmap >/dev/null || ! command -v newgidmap >/dev/null ||
	[ ! -x /bin/busybox ]; then
	apt-get update
	apt-get install -y uidmap busybox-static
fi

if ! id "$user" >/dev/null 2>&1; then
	useradd --create-home --shell /bin/sh "$user"
fi
grep -q "^$user:" /etc/subuid || usermod --add-subuids 100000-165535 "$user"
grep -q "^$user:" /etc/subgid || usermod --add-subgids 100000-165535 "$user"

GOFLAGS=-tags=containers_image_openpgp,exclude_graphdriver_btrfs \
	go test -c -o "$binary" ./build
chmod 755 "$binary"

home=$(getent passwd "$user" | cut -d: -f6)
install -d -o "$user" -g "$user" "$home/tmp"
cd "$home"
exec su "$user" -s /bin/sh -c "exec env -i HOME=$home PATH=/usr/sbin:/usr/bin:/sbin:/bin \
TMPDIR=$home/tmp IMAGEBUILDER_ROOTLESS=1 $binary -test.run TestRootlessBuild -test.v"
