package build_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/polardb/imagebuilder/build"
	"github.com/polardb/imagebuilder/internal/buildtest"
	"go.podman.io/storage/pkg/unshare"
)

// TestRootlessBuild builds as a user other than root, inside the user namespace that
// TestMain's build.Reexec set up. testdata/rootless.sh runs it.
func TestRootlessBuild(t *testing.T) {
	if os.Getenv("IMAGEBUILDER_ROOTLESS") != "1" {
		t.Skip("set IMAGEBUILDER_ROOTLESS=1 and run as a user other than root " +
			"(build/testdata/rootless.sh does both)")
	}
	if !unshare.IsRootless() {
		t.Skip("running as root: rootless builds need a user other than root")
	}
	if unshare.GetRootlessUID() == 0 || os.Geteuid() != 0 {
		t.Fatalf("not inside a user namespace: uid %d, outside uid %d",
			os.Geteuid(), unshare.GetRootlessUID())
	}
	t.Logf("uid %d outside, %d inside; uid map: %s", unshare.GetRootlessUID(), os.Geteuid(),
		strings.Join(strings.Fields(hostFile(t, "/proc/self/uid_map")), " "))

	options := buildtest.Store(t)
	if !strings.HasPrefix(options.GraphRoot, os.TempDir()) {
		t.Fatalf("store %s is not under %s", options.GraphRoot, os.TempDir())
	}
	b, err := build.New(context.Background(), options)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	base := buildtest.BaseImage(t, b)
	request := buildContext(t, "rootless", map[string]string{
		"Dockerfile": "FROM " + base + "\nCOPY file /file\n" +
			"RUN chown 1234:1234 /file && stat -c '%u:%g' /file > /owner\n",
		"file": "rootless\n",
	}, "rootless/test:latest")
	mustBuild(t, b, request)

	if got := readFile(t, b, "rootless/test:latest", "/file"); got != "rootless\n" {
		t.Errorf("/file = %q", got)
	}
	if got := readFile(t, b, "rootless/test:latest", "/owner"); got != "1234:1234\n" {
		t.Errorf("owner in the image = %q, want 1234:1234 (a subordinate ID)", got)
	}
	t.Logf("store driver %s at %s", b.Store().GraphDriverName(), b.Store().GraphRoot())
}
