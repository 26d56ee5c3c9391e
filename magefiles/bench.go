//go:build mage

package main

import (
	"github.com/magefile/mage/sh"
)

// Bench runs the pipeline benchmark against the git and buildah command-line sequence and
// prints a table of medians and ratios. It makes its fixtures under BENCH_DIR (default
// /var/tmp/imagebuilder-bench), installs the Debian packages it needs when run as root,
// and takes BENCH_RUNS and BENCH_QUICK_RUNS (runs per case; see bench/run.sh).
func Bench() error {
	return sh.RunV("bash", "bench/run.sh")
}
