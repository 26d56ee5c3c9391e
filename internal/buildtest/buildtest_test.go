package buildtest_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/polardb/imagebuilder/build"
	"github.com/polardb/imagebuilder/internal/buildtest"
)

// TestMain runs the tests the way buildtest.Main says.
func TestMain(m *testing.M) { buildtest.Main(m) }

// TestBaseImage checks that the base image runs shell-form RUN steps and is built once
// per store.
func TestBaseImage(t *testing.T) {
	b := buildtest.Builder(t)
	base := buildtest.BaseImage(t, b)
	first, err := b.Inspect(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	if again := buildtest.BaseImage(t, b); again != base {
		t.Errorf("second call returned %q, want %q", again, base)
	}
	second, err := b.Inspect(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	if second.ID != first.ID {
		t.Errorf("base image rebuilt: %s, then %s", first.ID, second.ID)
	}

	dir := t.TempDir()
	dockerfile := filepath.Join(dir, "Dockerfile")
	content := "FROM " + base + "\nRUN for word in shell form; do echo $word; done > /words\n"
	if err := os.WriteFile(dockerfile, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = b.Build(context.Background(), build.Request{
		ID: "shell", ContextDir: dir, Dockerfile: dockerfile, Tags: []string{"shell/form"},
	})
	if err != nil {
		t.Fatal(err)
	}
	words, err := b.ReadFile(context.Background(), "shell/form", "/words")
	if err != nil {
		t.Fatal(err)
	}
	if string(words) != "shell\nform\n" {
		t.Errorf("/words = %q", words)
	}
}

// TestStoreUnmounts checks that the store's cleanup unmounts what a Builder left mounted
// when it was never closed.
func TestStoreUnmounts(t *testing.T) {
	var graphRoot string
	t.Run("leaves a mount", func(t *testing.T) {
		options := buildtest.Store(t)
		graphRoot = options.GraphRoot
		b, err := build.New(context.Background(), options)
		if err != nil {
			t.Fatal(err)
		}
		buildtest.BaseImage(t, b)
		if _, err := b.Store().MountImage(buildtest.BaseName, nil, ""); err != nil {
			t.Fatal(err)
		}
		if len(buildtest.MountsUnder(graphRoot)) == 0 {
			t.Fatal("nothing mounted: this test proves nothing")
		}
	})
	if mounts := buildtest.MountsUnder(graphRoot); len(mounts) > 0 {
		t.Errorf("still mounted after cleanup: %v", mounts)
	}
	if _, err := os.Stat(graphRoot); !os.IsNotExist(err) {
		t.Errorf("store directory not removed: %v", err)
	}
}
