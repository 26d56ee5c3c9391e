#!/bin/bash
# The pipeline benchmark: the image builder against the command-line sequence the original
# builder ran (git clone --depth 1, buildah bud, buildah push), side by side in one run, on a
# PostgreSQL-sized engine repository, a busybox base image and a registry on loopback, all
# made here under BENCH_DIR (default /var/tmp/imagebuilder-bench, kept between runs as a
# cache). It prints a table of medians and ratios and writes it to BENCH_DIR/results.
#
# Settings: BENCH_RUNS (runs of the slow cases, default 3), BENCH_QUICK_RUNS (runs of the
# nothing-changed cases, default 5). Needs root for buildah's overlay stores; installs the
# Debian packages it needs when run as root.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${BENCH_DIR:-/var/tmp/imagebuilder-bench}
RUNS=${BENCH_RUNS:-3}
QUICK=${BENCH_QUICK_RUNS:-5}
RESULTS=$B/results
SIDE=$ROOT/bench/side.sh
GOFLAGS=${GOFLAGS:--tags=containers_image_openpgp,exclude_graphdriver_btrfs}
export B ROOT RESULTS GOFLAGS
# shellcheck source=bench/fixture.sh
source "$ROOT/bench/fixture.sh"

log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }

cleanup() {
    local side
    for side in ours cli; do
        stop_registry "$side"
        [[ -f $B/store-$side/storage.conf ]] || continue
        CONTAINERS_STORAGE_CONF=$B/store-$side/storage.conf buildah rm --all >/dev/null 2>&1 ||
            true
    done
    mkdir -p "$RESULTS"
    if mount | grep -F " $B/" >"$RESULTS/mounts-left.txt"; then
        log "mounts left under $B:" && cat "$RESULTS/mounts-left.txt" >&2
    fi
}

setup() {
    install_tools
    mkdir -p "$B/cache"
    rm -rf "$RESULTS" "$B"/work*
    mkdir -p "$RESULTS"
    local port
    port=$(free_port)
    OURS_REGISTRY=127.0.0.1:$port
    CLI_REGISTRY=127.0.0.1:$(free_port "$port")
    export OURS_REGISTRY CLI_REGISTRY
    log "making the engine repository"
    make_engine_repo
    write_storage_conf ours
    write_storage_conf cli
    log "making the base image"
    make_base
    reset_store ours
    reset_store cli
    log "making the project and compiling the image builder"
    make_projects
    (cd "$B/project" && go run magefile.go -compile "$B/imagebuilder")
    (cd "$B/project" && go test -c -o "$B/bench.test" ./bench)
    start_registry ours
    start_registry cli
}

# timed CASE RUNS ARGS...: hyperfine over the commands in ARGS, exported to RESULTS/CASE.json.
timed() {
    local name=$1 runs=$2
    shift 2
    log "case $name ($runs runs; load $(cut -d' ' -f1-3 /proc/loadavg))"
    echo "$name $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RESULTS/load.txt"
    BENCH_CASE=$name hyperfine --style basic --runs "$runs" \
        --export-json "$RESULTS/$name.json" "$@" >>"$RESULTS/hyperfine.log"
}

run_cases() {
    local default="work bench-image.yml"
    timed fetch "$RUNS" -p "$SIDE prepare-fetch" \
        -n ours-fetch "$SIDE ours ours-fetch work-fetch bench-image.yml fetch" \
        -n cli-clone "$SIDE clone cli-clone"
    timed cold "$RUNS" -p "$SIDE prepare-cold ours" -p "$SIDE prepare-cold cli" \
        -n ours-push "$SIDE ours ours-push $default push" -n cli "$SIDE cli cli"
    # The compiled magefile `go run` uses is cached by Mage; make it before timing.
    BENCH_CASE=prime "$SIDE" gorun gorun work bench-image.yml build >/dev/null
    timed unchanged "$QUICK" -n ours-push "$SIDE ours ours-push $default push" \
        -n ours-build "$SIDE ours ours-build $default build" \
        -n gorun-build "$SIDE gorun gorun-build $default build" -n cli "$SIDE cli cli" \
        -n ours-build-result-outside \
        "$SIDE ours ours-build-result-outside work bench-image-result-outside.yml build"
    timed manager "$RUNS" -p "$SIDE change-manager" \
        -n ours-push "$SIDE ours ours-push $default push" -n cli "$SIDE cli cli"
    timed engine "$RUNS" -p "$SIDE move-engine" \
        -n ours-push "$SIDE ours ours-push $default push" -n cli "$SIDE cli cli"
    local n
    for n in 1 3 10 30; do
        log "building the $n-image work directory once"
        BENCH_CASE=prime "$SIDE" ours prime "work-scale-$n" "bench-image-$n.yml" build \
            >/dev/null
    done
    timed scale "$QUICK" -L n 1,3,10,30 -n 'ours-build-{n}' \
        "$SIDE ours ours-build-{n} work-scale-{n} bench-image-{n}.yml build"
    run_go_bench
}

# run_go_bench times the pipeline's own work in-process, and profiles the 30-image case.
run_go_bench() {
    log "go test -bench BenchmarkUpToDate"
    (cd "$B/project/bench" && BENCH_DIR=$B \
        CONTAINERS_STORAGE_CONF=$B/store-ours/storage.conf "$B/bench.test" \
        -test.run '^$' -test.bench BenchmarkUpToDate -test.benchtime 10x \
        -test.count "$QUICK" -test.benchmem) | tee "$RESULTS/uptodate.txt" >&2
    (cd "$B/project/bench" && BENCH_DIR=$B \
        CONTAINERS_STORAGE_CONF=$B/store-ours/storage.conf "$B/bench.test" \
        -test.run '^$' -test.bench 'BenchmarkUpToDate/images=30$' -test.benchtime 20x \
        -test.cpuprofile "$RESULTS/uptodate-30.cpu") >/dev/null
    go tool pprof -top -nodecount 30 "$B/bench.test" "$RESULTS/uptodate-30.cpu" \
        >"$RESULTS/uptodate-30-top.txt" 2>/dev/null
    go tool pprof -top -cum -nodecount 40 "$B/bench.test" "$RESULTS/uptodate-30.cpu" \
        >"$RESULTS/uptodate-30-cum.txt" 2>/dev/null
}

main() {
    trap cleanup EXIT
    setup
    run_cases
    bash "$ROOT/bench/table.sh" "$RESULTS" | tee "$RESULTS/table.md"
}

main "$@"
