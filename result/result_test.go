package result

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestWriteAndRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out", "image.result")
	r := Result{Config: "/p/image.yml", Images: []Image{
		{ID: "engine", Type: "engine", Names: []string{"org/engine:1"}, ImageID: "abc",
			Digest: "sha256:def", EngineRepo: "/src", EngineRef: "main", EngineCommit: "0123",
			Seconds: 1.5},
		{ID: "manager", Type: "manager", Names: []string{"org/manager:2", "org/manager:latest"},
			Engine: "engine"},
	}}
	if err := Write(path, r); err != nil {
		t.Fatal(err)
	}
	names, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "org/engine:1\norg/manager:2\norg/manager:latest\n"; string(names) != want {
		t.Errorf("result file = %q, want %q", names, want)
	}
	back, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Errorf("Read = %+v\nwant %+v", back, r)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 2 {
		t.Errorf("directory holds %d entries, want the two result files only", len(entries))
	}
}

func TestWriteFailureKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "image.result")
	first := Result{Images: []Image{{ID: "a", Names: []string{"org/a:1"}}}}
	if err := Write(path, first); err != nil {
		t.Fatal(err)
	}
	// A directory where the JSON record must go makes the second write fail part-way.
	if err := os.Remove(JSONPath(path)); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(JSONPath(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(JSONPath(path), "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := Write(path, Result{Images: []Image{{ID: "b", Names: []string{"org/b:2"}}}})
	if err == nil {
		t.Fatal("Write succeeded over a directory")
	}
	names, _ := os.ReadFile(path)
	if string(names) != "org/a:1\n" {
		t.Errorf("result file after failed write = %q, want the previous content", names)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left behind: %d entries", len(entries))
	}
}
