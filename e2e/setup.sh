#!/usr/bin/env bash
# setup.sh WORKDIR
#
# Prepares the fixtures for the end-to-end build of this project's images on a
# machine that reaches only Debian's package mirror:
#
#   WORKDIR/base/rootfs.tar      Debian bookworm (minbase) root file system with
#                                the engine's build dependencies installed
#   WORKDIR/base/Containerfile   FROM scratch + ADD rootfs.tar: turns the tarball
#                                into the base image named in fixture.env
#   WORKDIR/engine.git           bare git repository standing in for the PolarDB
#                                repository: branch main holds only a README (as
#                                upstream's main does today), branch
#                                POLARDB_15_STABLE holds PostgreSQL 15 source with
#                                PolarDB's version lines in configure.ac
#   WORKDIR/image.yml            e2e/image.yml with @E2E_WORKDIR@ replaced
#   WORKDIR/fixture.env          KEY=value lines naming all of the above
#
# Work already done in WORKDIR is skipped, so running it twice is cheap.
# Needs root, debootstrap, git, tar, and apt-get (for `apt-get source`).
set -euo pipefail

readonly SUITE=bookworm
readonly ENGINE_BRANCH=POLARDB_15_STABLE
readonly BASE_IMAGE=localhost/polardb-e2e-base:bookworm
readonly SOURCE_PACKAGE=postgresql-15
# Packages the engine Dockerfiles' configure and make need with the options
# e2e/image.yml selects. The engine runs on the same image, as PolarDB's
# published images run on their development image.
readonly BUILD_PACKAGES=(
	gcc make bison flex perl pkg-config
	libreadline-dev zlib1g-dev libssl-dev libicu-dev
	libxml2-dev libxslt1-dev uuid-dev liblz4-dev libzstd-dev
	gettext tzdata
)

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

usage() {
	cat <<USAGE
usage: setup.sh WORKDIR

Builds the e2e fixtures (base root file system, engine git repository,
rendered image.yml) in WORKDIR. Safe to rerun: finished steps are skipped.
USAGE
}

# debian_mirror prints the first Debian archive URI the host's apt uses, so the
# fixture is built from the same mirror the host already reaches.
debian_mirror() {
	local uri
	uri=$(grep -rhoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list \
		/etc/apt/sources.list.d 2>/dev/null | head -n 1 | tr -d ' ' || true)
	printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

make_base() {
	local base_dir=$1 mirror=$2
	local rootfs=$base_dir/rootfs tarball=$base_dir/rootfs.tar

	if [[ -s $tarball ]]; then
		log "base root file system: exists, $tarball"
		return
	fi
	command -v debootstrap >/dev/null ||
		die "debootstrap not found; install it: apt-get install -y debootstrap"

	log "base root file system: debootstrap $SUITE from $mirror"
	rm -rf "$rootfs"
	mkdir -p "$rootfs"
	debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"$base_dir/debootstrap.log" 2>&1 ||
		die "debootstrap failed; see $base_dir/debootstrap.log"

	log "base root file system: apt-get install ${#BUILD_PACKAGES[@]} packages"
	cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
	chroot "$rootfs" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
		sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" &&
			apt-get clean && rm -rf /var/lib/apt/lists/*' sh "${BUILD_PACKAGES[@]}" \
		>"$base_dir/apt.log" 2>&1 || die "installing packages failed; see $base_dir/apt.log"
	: >"$rootfs/etc/resolv.conf"

	tar -C "$rootfs" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' \
		--exclude='./sys/*' -cf "$tarball.partial" .
	mv "$tarball.partial" "$tarball"
	rm -rf "$rootfs"
	log "base root file system: wrote $tarball ($(du -h "$tarball" | cut -f1))"
}

write_containerfile() {
	local base_dir=$1
	cat >"$base_dir/Containerfile" <<'CONTAINERFILE'
FROM scratch
ADD rootfs.tar /
ENV LANG=C.UTF-8
CMD ["/bin/bash"]
CONTAINERFILE
}

# fetch_source unpacks the pristine upstream PostgreSQL tarball of Debian's
# source package (Debian's patches are left out: PolarDB builds on upstream).
fetch_source() {
	local download_dir=$1 mirror=$2
	local apt_dir=$download_dir/apt
	local tarball

	tarball=$(find "$download_dir" -maxdepth 1 -name "${SOURCE_PACKAGE}_*.orig.tar.*" | head -n 1)
	if [[ -z $tarball ]]; then
		# A private apt configuration holding only a deb-src line keeps the
		# host's apt sources and lists untouched.
		mkdir -p "$apt_dir/lists/partial"
		printf 'deb-src %s %s main\n' "$mirror" "$SUITE" >"$apt_dir/sources.list"
		local -a apt_opts=(
			-o "Dir::Etc::SourceList=$apt_dir/sources.list"
			-o "Dir::Etc::SourceParts=/nonexistent"
			-o "Dir::State::Lists=$apt_dir/lists"
		)
		log "engine source: apt-get source $SOURCE_PACKAGE"
		apt-get "${apt_opts[@]}" update -qq >"$download_dir/apt-update.log" 2>&1 ||
			die "apt-get update for deb-src failed; see $download_dir/apt-update.log"
		(cd "$download_dir" && apt-get "${apt_opts[@]}" source --download-only -qq \
			"$SOURCE_PACKAGE") >"$download_dir/apt-source.log" 2>&1 ||
			die "apt-get source failed; see $download_dir/apt-source.log"
		tarball=$(find "$download_dir" -maxdepth 1 -name "${SOURCE_PACKAGE}_*.orig.tar.*" | head -n 1)
		[[ -n $tarball ]] || die "no upstream tarball of $SOURCE_PACKAGE in $download_dir"
	fi
	rm -rf "$download_dir/tree"
	mkdir -p "$download_dir/tree"
	tar -C "$download_dir/tree" --strip-components=1 -xf "$tarball"
}

git_fixed() {
	# A fixed identity and fixed dates give the same commit ids on every machine.
	GIT_AUTHOR_NAME="e2e fixture" GIT_AUTHOR_EMAIL="e2e@example.invalid" \
		GIT_COMMITTER_NAME="e2e fixture" GIT_COMMITTER_EMAIL="e2e@example.invalid" \
		GIT_AUTHOR_DATE="2025-01-01T00:00:00Z" GIT_COMMITTER_DATE="2025-01-01T00:00:00Z" \
		git -c init.defaultBranch=main -c commit.gpgsign=false "$@"
}

make_engine_repo() {
	local workdir=$1 mirror=$2
	local bare=$workdir/engine.git scratch=$workdir/engine-src

	if git --git-dir="$bare" rev-parse --verify -q "refs/heads/$ENGINE_BRANCH" >/dev/null 2>&1; then
		log "engine repository: exists, $bare"
		return
	fi
	mkdir -p "$scratch"
	fetch_source "$scratch" "$mirror"

	local tree=$scratch/tree
	log "engine repository: committing $(find "$tree" -type f | wc -l) files"
	git_fixed -C "$tree" init -q
	printf '# Engine fixture\n\nThe engine lives on branch %s.\n' "$ENGINE_BRANCH" >"$tree/README.fixture.md"
	git_fixed -C "$tree" add README.fixture.md
	git_fixed -C "$tree" commit -q -m "Describe where the engine lives"

	git_fixed -C "$tree" checkout -q -b "$ENGINE_BRANCH"
	git_fixed -C "$tree" add -A
	git_fixed -C "$tree" commit -q -m "Import PostgreSQL 15 source"

	# configure is generated ahead of time, so these lines change no build
	# output; they give the version reader the layout of PolarDB's configure.ac.
	sed -i '/^AC_INIT(/a\
POLAR_MINORVERSION="4.0" # monthly-version.hotfix\
POLAR_RELEASE_DATE="20250101" # YYYYMMDD' "$tree/configure.ac"
	grep -q '^POLAR_MINORVERSION="4.0"' "$tree/configure.ac" ||
		die "could not add PolarDB version lines to configure.ac"
	git_fixed -C "$tree" commit -q -am "Add PolarDB version to configure.ac"

	rm -rf "$bare.partial"
	git_fixed clone -q --bare "$tree" "$bare.partial"
	git --git-dir="$bare.partial" symbolic-ref HEAD refs/heads/main
	mv "$bare.partial" "$bare"
	rm -rf "$scratch"
	log "engine repository: wrote $bare"
}

render_config() {
	local workdir=$1 here
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	sed "s|@E2E_WORKDIR@|$workdir|g" "$here/image.yml" >"$workdir/image.yml.partial"
	mv "$workdir/image.yml.partial" "$workdir/image.yml"
}

write_env() {
	local workdir=$1
	cat >"$workdir/fixture.env.partial" <<ENV
E2E_WORKDIR=$workdir
ENGINE_REPO=$workdir/engine.git
ENGINE_BRANCH=$ENGINE_BRANCH
BASE_IMAGE=$BASE_IMAGE
BASE_CONTEXT=$workdir/base
BASE_CONTAINERFILE=$workdir/base/Containerfile
BASE_TARBALL=$workdir/base/rootfs.tar
CONFIG=$workdir/image.yml
ENV
	mv "$workdir/fixture.env.partial" "$workdir/fixture.env"
}

main() {
	if [[ $# -ne 1 || $1 == -h || $1 == --help ]]; then
		usage
		[[ $# -eq 1 ]] && exit 0
		exit 2
	fi
	[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap and chroot need it)"

	local workdir mirror
	mkdir -p "$1"
	workdir=$(cd "$1" && pwd)
	mirror=$(debian_mirror)
	mkdir -p "$workdir/base"

	make_base "$workdir/base" "$mirror"
	write_containerfile "$workdir/base"
	make_engine_repo "$workdir" "$mirror"
	render_config "$workdir"
	write_env "$workdir"
	log "done: $workdir/fixture.env"
}

main "$@"
