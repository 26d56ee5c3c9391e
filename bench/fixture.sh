# shellcheck shell=bash
# Fixtures of the pipeline benchmark, sourced by run.sh: the tools it needs, a PostgreSQL 15
# source tree in a bare git repository, a busybox base image, two private containers stores,
# the project copies both sides build from, and a registry on loopback.
# Everything lives under $B (the benchmark directory); $ROOT is the project checkout.

# bench_packages are the Debian packages the benchmark uses, by the command each provides.
declare -A bench_packages=(
    [hyperfine]=hyperfine [buildah]=buildah [docker-registry]=docker-registry
    [busybox]=busybox-static [git]=git [jq]=jq [curl]=curl [bzip2]=bzip2 [ss]=iproute2
)

install_tools() {
    local missing=() command
    [[ -x /usr/bin/time ]] || missing+=(time)
    for command in "${!bench_packages[@]}"; do
        command -v "$command" >/dev/null || missing+=("${bench_packages[$command]}")
    done
    ((${#missing[@]} == 0)) && return
    if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
        echo "missing: ${missing[*]}; install these Debian packages, or run as root" >&2
        return 1
    fi
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# fetch_postgres downloads Debian's PostgreSQL 15 source with a private apt state (a deb-src
# list of its own), leaving the machine's apt configuration as it is.
fetch_postgres() {
    local apt=$B/cache/apt
    compgen -G "$B/cache/postgresql-15_*.orig.tar.bz2" >/dev/null && return
    mkdir -p "$apt/lists/partial"
    echo "deb-src http://deb.debian.org/debian bookworm main" >"$apt/sources.list"
    local options=(-q -o "Dir::Etc::SourceList=$apt/sources.list"
        -o Dir::Etc::SourceParts=/nonexistent -o "Dir::State::Lists=$apt/lists")
    apt-get "${options[@]}" update >"$apt/update.log"
    (cd "$B/cache" && apt-get "${options[@]}" source --download-only postgresql-15 \
        >"$apt/source.log" 2>&1)
}

# make_engine_repo makes $B/engine.git: the PostgreSQL 15 tree, marked as PolarDB 15 the way
# the engine's configure.ac is, committed on POLARDB_15_STABLE, and $B/engine-work, a clone
# in which the benchmark makes further commits.
make_engine_repo() {
    [[ -d $B/engine.git ]] && return
    fetch_postgres
    local tree=$B/engine-tree
    rm -rf "$tree" && mkdir -p "$tree"
    tar -xjf "$B"/cache/postgresql-15_*.orig.tar.bz2 -C "$tree" --strip-components 1
    sed -i '/^AC_INIT(/a POLAR_MINORVERSION="4.0"\nPOLAR_RELEASE_DATE="20250101"' \
        "$tree/configure.ac"
    grep -q '^POLAR_RELEASE_DATE=' "$tree/configure.ac"
    git -C "$tree" init -q -b POLARDB_15_STABLE
    git -C "$tree" add -A
    GIT_AUTHOR_DATE=2025-01-01T00:00:00Z GIT_COMMITTER_DATE=2025-01-01T00:00:00Z \
        git -C "$tree" -c user.name=Bench -c user.email=bench@example.com \
        commit -q -m "PolarDB 15 engine source"
    git clone -q --bare "$tree" "$B/engine.git.tmp"
    git -C "$B/engine.git.tmp" repack -a -d -q
    mv "$B/engine.git.tmp" "$B/engine.git"
    rm -rf "$tree"
    git clone -q "$B/engine.git" "$B/engine-work"
}

# move_engine commits a one-line change to the engine and pushes it.
move_engine() {
    local file=$B/engine-work/src/backend/utils/misc/guc.c
    echo "/* benchmark change $(date +%s%N) */" >>"$file"
    git -C "$B/engine-work" -c user.name=Bench -c user.email=bench@example.com \
        commit -q -a -m "Change one engine file"
    git -C "$B/engine-work" push -q origin POLARDB_15_STABLE
}

# write_storage_conf SIDE writes $B/store-SIDE/storage.conf, an overlay store of its own.
write_storage_conf() {
    local dir=$B/store-$1
    mkdir -p "$dir"
    cat >"$dir/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$dir/root"
runroot = "$dir/run"
EOF
}

# make_base builds localhost/bench/busybox:latest (FROM scratch, static busybox) once and
# saves it as $B/base.tar, from which reset_store restores it.
make_base() {
    [[ -f $B/base.tar ]] && return
    local context=$B/base-context
    rm -rf "$context" && mkdir -p "$context"
    cp "$(command -v busybox)" "$context/busybox"
    printf '%s\n' 'FROM scratch' 'COPY busybox /bin/busybox' \
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]' >"$context/Dockerfile"
    CONTAINERS_STORAGE_CONF=$B/store-cli/storage.conf buildah bud --quiet \
        --isolation chroot --network host -t localhost/bench/busybox:latest "$context" >/dev/null
    CONTAINERS_STORAGE_CONF=$B/store-cli/storage.conf buildah push --quiet \
        localhost/bench/busybox:latest "oci-archive:$B/base.tar.tmp"
    mv "$B/base.tar.tmp" "$B/base.tar"
}

# reset_store SIDE empties a store, layer cache included, and restores the base image.
reset_store() {
    local -x CONTAINERS_STORAGE_CONF=$B/store-$1/storage.conf
    buildah rm --all >/dev/null
    buildah rmi --all --force >/dev/null 2>&1 || true
    local id
    id=$(buildah pull --quiet "oci-archive:$B/base.tar")
    buildah tag "$id" localhost/bench/busybox:latest
}

# make_projects makes the project both sides build from: this checkout's committed tree plus
# its benchmark files as they are now, committed in a repository of its own at $B/project,
# and a clone of it for the command line at $B/project-cli.
make_projects() {
    rm -rf "$B/project" "$B/project-cli"
    mkdir -p "$B/project"
    git -C "$ROOT" archive HEAD | tar -x -C "$B/project"
    rm -rf "$B/project/bench" && cp -r "$ROOT/bench" "$B/project/bench"
    cp "$ROOT/magefiles/bench.go" "$B/project/magefiles/bench.go"
    write_image_yml 3 >"$B/project/bench-image.yml"
    local n
    for n in 1 3 10 30; do write_image_yml "$n" >"$B/project/bench-image-$n.yml"; done
    # The same three images with the result file written outside the project tree.
    { echo "result: ../results-outside/image.result" && write_image_yml 3; } \
        >"$B/project/bench-image-result-outside.yml"
    mkdir -p "$B/results-outside"
    git -C "$B/project" init -q -b main
    git -C "$B/project" remote add origin https://example.com/polardb/imagebuilder.git
    git -C "$B/project" config user.email bench@example.com
    git -C "$B/project" config user.name Bench
    git -C "$B/project" add -A
    git -C "$B/project" commit -q -m "Benchmark project"
    git clone -q "$B/project" "$B/project-cli"
    git -C "$B/project-cli" remote set-url origin https://example.com/polardb/imagebuilder.git
    git -C "$B/project-cli" config user.email bench@example.com
}

# change_manager_file appends a line to the manager's configuration in both projects.
change_manager_file() {
    local line project
    line="# changed $(date +%s%N)"
    for project in "$B/project" "$B/project-cli"; do
        echo "$line" >>"$project/bench/testdata/rootfs/manager/etc/polardb/manager.conf"
    done
}

# write_image_yml N prints an image.yml of N images on one engine repository: engines in
# pairs (test, release), each pair followed by a manager on its release engine. N=3 is the
# default shape; the three of it are pushed to the registry.
write_image_yml() {
    local n=$1 i kind kinds id previous=""
    echo "images:"
    for ((i = 0; i < n; i++)); do
        kinds=(test release manager)
        kind=${kinds[i % 3]}
        id=$kind
        ((n > 3)) && id=$kind-$((i / 3))
        if [[ $kind == manager ]]; then
            manager_entry "$id" "$previous" "$n"
        else
            engine_entry "$id" "$kind" "$n"
        fi
        previous=$id
    done
}

engine_entry() {
    local id=$1 kind=$2 n=$3
    cat <<EOF
  - id: $id
    type: engine
    build_image_name: localhost/bench/engine-$id
    build_image_dockerfile: ./bench/testdata/docker/Dockerfile.engine.$kind
    engine_repo: file://$B/engine.git
    engine_branch: POLARDB_15_STABLE
    engine_config_template: src/backend/utils/misc/postgresql.conf.sample
    enable: true
EOF
    push_entry "engine-$id" "$n"
}

manager_entry() {
    local id=$1 engine=$2 n=$3
    cat <<EOF
  - id: $id
    type: manager
    build_image_name: localhost/bench/$id
    build_image_dockerfile: ./bench/testdata/docker/Dockerfile.manager
    engine_image_id: $engine
    enable: true
EOF
    push_entry "$id" "$n"
}

push_entry() {
    if (($2 == 3)); then
        printf '    push: true\n    push_to: [%s]\n' "$OURS_REGISTRY/ours/$1"
    else
        printf '    push: false\n'
    fi
}

# start_registry SIDE (re)starts SIDE's reference registry, on $OURS_REGISTRY or
# $CLI_REGISTRY, with empty storage. Each side has its own, so emptying one for a cold run
# leaves the other's images in place.
start_registry() {
    stop_registry "$1"
    local dir=$B/registry-$1 address tries
    address=$(registry_address "$1")
    rm -rf "$dir/data" && mkdir -p "$dir/data"
    printf '%s\n' 'version: 0.1' 'log:' '  level: error' '  accesslog:' '    disabled: true' \
        'storage:' '  filesystem:' "    rootdirectory: $dir/data" '  delete:' \
        '    enabled: true' 'http:' "  addr: $address" >"$dir/config.yml"
    setsid docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 </dev/null &
    echo $! >"$dir/pid"
    for ((tries = 0; tries < 100; tries++)); do
        curl -fs "http://$address/v2/" >/dev/null && return
        sleep 0.05
    done
    echo "the registry did not start; see $dir/log" >&2
    return 1
}

registry_address() {
    if [[ $1 == ours ]]; then echo "$OURS_REGISTRY"; else echo "$CLI_REGISTRY"; fi
}

# stop_registry SIDE stops SIDE's registry if it runs.
stop_registry() {
    local pidfile=$B/registry-$1/pid
    [[ -f $pidfile ]] || return 0
    kill "$(cat "$pidfile")" 2>/dev/null || true
    while kill -0 "$(cat "$pidfile")" 2>/dev/null; do sleep 0.05; done
    rm -f "$pidfile"
}

# free_port [AFTER] prints a TCP port above AFTER on 127.0.0.1 that nothing listens on.
free_port() {
    local port
    for ((port = ${1:-5170} + 1; port < 5300; port++)); do
        ss -Htln "sport = :$port" | grep -q . || { echo "$port"; return; }
    done
    return 1
}
