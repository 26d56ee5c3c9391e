# shellcheck shell=bash
# lib.sh: helpers the e2e scripts share. Source it; it defines functions only.
#
# The buildah command uses its default store unless these are set:
#   E2E_STORAGE_ROOT     buildah --root (image and container store)
#   E2E_STORAGE_RUNROOT  buildah --runroot (mount points and locks)
#   E2E_STORAGE_DRIVER   buildah --storage-driver (default overlay)

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# bh runs buildah with the store chosen by the E2E_STORAGE_* variables.
bh() {
	local -a flags=(--storage-driver "${E2E_STORAGE_DRIVER:-overlay}")
	[[ -n ${E2E_STORAGE_ROOT-} ]] && flags+=(--root "$E2E_STORAGE_ROOT")
	[[ -n ${E2E_STORAGE_RUNROOT-} ]] && flags+=(--runroot "$E2E_STORAGE_RUNROOT")
	buildah "${flags[@]}" "$@"
}

# nofile_limit prints a file limit RUN steps may set: buildah asks for more
# than an unprivileged hard limit allows unless told otherwise.
nofile_limit() {
	local hard
	hard=$(ulimit -Hn)
	[[ $hard == unlimited ]] && hard=1048576
	printf 'nofile=%s:%s' "$hard" "$hard"
}

require_buildah() {
	command -v buildah >/dev/null ||
		die "buildah not found; install it: apt-get install -y buildah"
}
