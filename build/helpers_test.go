package build_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/polardb/imagebuilder/build"
	"github.com/polardb/imagebuilder/internal/buildtest"
)

// buildContext writes files (name to content) into a new context directory, the Dockerfile
// among them, and returns a request for it.
func buildContext(t *testing.T, id string, files map[string]string, tags ...string) build.Request {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return build.Request{
		ID:         id,
		ContextDir: dir,
		Dockerfile: filepath.Join(dir, "Dockerfile"),
		Tags:       tags,
	}
}

// mustBuild builds r, failing the test on error, and returns the image and its output.
func mustBuild(t *testing.T, b *build.Builder, r build.Request) (build.Image, string) {
	t.Helper()
	var output syncBuffer
	r.Output = &output
	image, err := b.Build(context.Background(), r)
	if err != nil {
		t.Fatalf("building %s: %v\noutput:\n%s", r.ID, err, output.String())
	}
	return image, output.String()
}

// readFile reads path in image name, failing the test on error.
func readFile(t *testing.T, b *build.Builder, name, path string) string {
	t.Helper()
	content, err := b.ReadFile(context.Background(), name, path)
	if err != nil {
		t.Fatal(err)
	}
	return string(content)
}

// inspect inspects image name, failing the test on error.
func inspect(t *testing.T, b *build.Builder, name string) build.Inspection {
	t.Helper()
	inspection, err := b.Inspect(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return inspection
}

// assertNoLeftovers fails the test if the store has working containers or anything
// mounted under its graph root but the storage driver's own directory, which stays
// mounted while the store is open.
func assertNoLeftovers(t *testing.T, b *build.Builder) {
	t.Helper()
	containers, err := b.Store().Containers()
	if err != nil {
		t.Fatal(err)
	}
	for _, container := range containers {
		t.Errorf("working container left behind: %s %v", container.ID, container.Names)
	}
	driverHome := filepath.Join(b.Store().GraphRoot(), b.Store().GraphDriverName())
	for _, mount := range buildtest.MountsUnder(b.Store().GraphRoot()) {
		if mount != driverHome {
			t.Errorf("mount left behind: %s", mount)
		}
	}
}

// syncBuffer is a bytes.Buffer that goroutines may share.
type syncBuffer struct {
	mu     sync.Mutex
	buffer bytes.Buffer
}

// Write appends p.
func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buffer.Write(p)
}

// String returns everything written so far.
func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buffer.String()
}
