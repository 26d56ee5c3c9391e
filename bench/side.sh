#!/bin/bash
# The commands the pipeline benchmark times and prepares, one per call, as hyperfine runs
# them. run.sh exports B (the benchmark directory), ROOT, OURS_REGISTRY, CLI_REGISTRY,
# RESULTS and BENCH_CASE. Timed commands take a LABEL (hyperfine's name for them) and run
# under /usr/bin/time, which appends their peak memory (maximum resident set size of the
# command and the processes it waited for, in KiB) to RESULTS/rss-BENCH_CASE-LABEL.txt;
# the image builder's progress lines go to RESULTS/out-BENCH_CASE-LABEL.log.
set -euo pipefail
# shellcheck source=bench/fixture.sh
source "$(dirname "$0")/fixture.sh"

# measured LABEL COMMAND...: runs the command, recording its peak memory.
measured() {
    local label=$1
    shift
    /usr/bin/time -f %M -a -o "$RESULTS/rss-$BENCH_CASE-$label.txt" "$@"
}

case $1 in
ours) # ours LABEL WORK_DIR CONFIG TARGET: the compiled image builder
    cd "$B/project"
    CONTAINERS_STORAGE_CONF=$B/store-ours/storage.conf WORK_DIR=$B/$3 IMAGE_CONFIG=$4 \
        measured "$2" "$B/imagebuilder" "$5" >>"$RESULTS/out-$BENCH_CASE-$2.log"
    ;;
gorun) # gorun LABEL WORK_DIR CONFIG TARGET: the same through `go run magefile.go`
    cd "$B/project"
    CONTAINERS_STORAGE_CONF=$B/store-ours/storage.conf WORK_DIR=$B/$3 IMAGE_CONFIG=$4 \
        measured "$2" go run magefile.go "$5" >>"$RESULTS/out-$BENCH_CASE-$2.log"
    ;;
cli) # cli LABEL: the command-line sequence
    CONTAINERS_STORAGE_CONF=$B/store-cli/storage.conf CLI_PROJECT=$B/project-cli \
        ENGINE_URL=file://$B/engine.git ENGINE_BRANCH=POLARDB_15_STABLE REGISTRY=$CLI_REGISTRY \
        measured "$2" bash "$ROOT/bench/cli-sequence.sh"
    ;;
clone) # clone LABEL: the command-line fetch, a shallow clone
    measured "$2" git clone -q --depth 1 --branch POLARDB_15_STABLE "file://$B/engine.git" \
        "$B/clone"
    ;;
prepare-fetch)
    rm -rf "$B/work-fetch" "$B/clone"
    ;;
prepare-cold) # prepare-cold SIDE: empty store, work directory and registry
    reset_store "$2"
    [[ $2 == ours ]] && rm -rf "$B/work"
    start_registry "$2"
    ;;
change-manager) change_manager_file ;;
move-engine) move_engine ;;
*)
    echo "side.sh: unknown command $1" >&2
    exit 2
    ;;
esac
