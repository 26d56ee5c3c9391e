package push_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/polardb/imagebuilder/build"
)

// TestMain lets buildah's helper processes, which run this test binary again, do their
// work, and moves a run by another user into a user namespace.
func TestMain(m *testing.M) {
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
