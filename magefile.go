//go:build ignore

// This file lets `go run magefile.go <target>` work with nothing but Go installed: it runs
// Mage, which compiles the targets in magefiles/ with the build tags the image builder needs.
package main

import (
	"os"
	"strings"

	"github.com/magefile/mage/mage"
)

// buildTags let the buildah library compile without the gpgme and btrfs C libraries.
const buildTags = "-tags=containers_image_openpgp,exclude_graphdriver_btrfs"

func main() {
	if flags := os.Getenv("GOFLAGS"); !strings.Contains(flags, "-tags") {
		os.Setenv("GOFLAGS", strings.TrimSpace(flags+" "+buildTags))
	}
	os.Exit(mage.Main())
}
