#!/bin/bash
# The peer of the benchmark: what the original Python builder ran for the three-image shape,
# with the buildah command line in place of docker. For each engine: a fresh shallow clone
# into the project's engine-source/, the config template copied to rootfs/postgresql.conf,
# `buildah bud`, `buildah push`, and the clone deleted; then the manager on the release
# engine, built and pushed the same way.
#
# Environment: CLI_PROJECT (project directory, the build context), ENGINE_URL, ENGINE_BRANCH,
# REGISTRY (host:port) and CONTAINERS_STORAGE_CONF (the store). Images are pushed to
# REGISTRY/cli/<image>.
set -euo pipefail

: "${CLI_PROJECT:?}" "${ENGINE_URL:?}" "${ENGINE_BRANCH:?}" "${REGISTRY:?}"
template=src/backend/utils/misc/postgresql.conf.sample
testdata=bench/testdata/docker

cd "$CLI_PROJECT"
code_source=$(git remote get-url origin 2>/dev/null || true)
code_branch=$(git rev-parse --abbrev-ref HEAD)
code_version=$(git rev-parse HEAD)
build_by=$(git config user.email || true)
build_time=$(date +%Y%m%d%H%M%S)

common_args=(
    --build-arg "CodeSource=$code_source" --build-arg "CodeBranch=$code_branch"
    --build-arg "CodeVersion=$code_version" --build-arg "BuildBy=$build_by"
)

# engine_tag prints the original's engine tag:
# <version>.<release date>.<first 8 of the commit>.<build time>.
engine_tag() {
    local pg minor date
    pg=$(sed -n 's/^AC_INIT(\[PostgreSQL\], \[\([^]]*\)\].*/\1/p' engine-source/configure.ac)
    minor=$(sed -n 's/^POLAR_MINORVERSION="\(.*\)"/\1/p' engine-source/configure.ac)
    date=$(sed -n 's/^POLAR_RELEASE_DATE="\(.*\)"/\1/p' engine-source/configure.ac)
    echo "$pg.$minor.$date.${1:0:8}.$build_time"
}

push() {
    buildah push --quiet --tls-verify=false "$1" "docker://$REGISTRY/cli/${1#localhost/bench/}"
}

# build_engine NAME DOCKERFILE: prints the full name of the image built and pushed.
build_engine() {
    local name=$1 dockerfile=$2 commit full
    rm -rf engine-source
    git clone --quiet --depth 1 --branch "$ENGINE_BRANCH" "$ENGINE_URL" engine-source
    git -C engine-source submodule --quiet update --init
    commit=$(git -C engine-source rev-parse HEAD)
    cp "engine-source/$template" rootfs/postgresql.conf
    full="localhost/$name:$(engine_tag "$commit")"
    buildah bud --quiet --isolation chroot --network host --layers -f "$dockerfile" \
        -t "$full" "${common_args[@]}" \
        --build-arg "PolarSource=$ENGINE_URL" --build-arg "PolarBranch=$ENGINE_BRANCH" \
        --build-arg "PolarVersion=$commit" --build-arg "POLAR_SOURCE_DIR=engine-source" \
        . >/dev/null
    push "$full" >&2
    rm -rf engine-source
    echo "$full"
}

mkdir -p rootfs
build_engine bench/engine-test "$testdata/Dockerfile.engine.test" >/dev/null
release=$(build_engine bench/engine-release "$testdata/Dockerfile.engine.release")

manager="localhost/bench/manager:$build_time.${code_version:0:8}"
buildah bud --quiet --isolation chroot --network host --layers -f "$testdata/Dockerfile.manager" \
    -t "$manager" "${common_args[@]}" --build-arg "ENGINE_IMAGE_FULL_NAME=$release" . >/dev/null
push "$manager"
