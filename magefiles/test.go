//go:build mage

package main

import (
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/magefile/mage/sh"
)

// buildTags let the buildah library compile without the gpgme and btrfs C libraries.
const buildTags = "-tags=containers_image_openpgp,exclude_graphdriver_btrfs"

// Test runs the whole test suite: vet, the Go tests with real builds, and the script checks.
func Test() error {
	if err := installTestPackages(); err != nil {
		return err
	}
	env := map[string]string{"GOFLAGS": goflags()}
	if err := sh.RunWithV(env, "go", "vet", "./..."); err != nil {
		return err
	}
	if err := sh.RunV("bash", ".ci/lint"); err != nil {
		return err
	}
	if os.Geteuid() == 0 {
		// Rootless builds are tested as an unprivileged user the script creates.
		if err := sh.RunWithV(env, "sh", "build/testdata/rootless.sh"); err != nil {
			return err
		}
	}
	return sh.RunWithV(env, "go", "test", "-count=1", "-timeout=30m", "./...")
}

// goflags returns GOFLAGS with the build tags added.
func goflags() string {
	flags := os.Getenv("GOFLAGS")
	if strings.Contains(flags, "-tags") {
		return flags
	}
	return strings.TrimSpace(flags + " " + buildTags)
}

// testPackages are the Debian packages the tests use, by the command each provides.
var testPackages = map[string]string{
	"busybox":    "busybox-static",
	"newuidmap":  "uidmap",
	"shellcheck": "shellcheck",
	"git":        "git",
}

// installTestPackages installs missing test packages when running as root on Debian, so the
// test command works on a fresh machine. Elsewhere it leaves the machine alone; tests that
// need a missing package say which.
func installTestPackages() error {
	if os.Geteuid() != 0 {
		return nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return nil
	}
	var missing []string
	for command, pkg := range testPackages {
		if _, err := exec.LookPath(command); err != nil {
			missing = append(missing, pkg)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	if err := sh.RunV("apt-get", "update", "-q"); err != nil {
		return err
	}
	args := append([]string{"install", "-y", "-q", "--no-install-recommends"}, missing...)
	return sh.RunWithV(map[string]string{"DEBIAN_FRONTEND": "noninteractive"}, "apt-get", args...)
}
