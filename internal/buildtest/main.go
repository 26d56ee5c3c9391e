package buildtest

import (
	"fmt"
	"os"
	"testing"

	"github.com/polardb/imagebuilder/build"
)

// Main is the TestMain of every test binary that builds: buildah's helper processes run the
// binary again and must do their work instead of the tests, and a run by an unprivileged user
// moves into a user namespace first. A rootless test run (IMAGEBUILDER_ROOTLESS=1) stops when
// that fails; others go on and skip what needs the store.
func Main(m *testing.M) {
	done, err := build.Reexec()
	if done {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		if os.Getenv("IMAGEBUILDER_ROOTLESS") == "1" {
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}
