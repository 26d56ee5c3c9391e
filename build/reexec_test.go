package build

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckRootless checks the report on what rootless builds lack. The two ID-mapping
// tools are stood in for by empty executables: only their presence is checked.
func TestCheckRootless(t *testing.T) {
	tests := []struct {
		name          string
		subuid        string
		tools         bool
		wantInErr     []string // empty: no error
		wantNotInErrs []string
	}{
		{"ready by name", "alice:100000:65536\n", true, nil, nil},
		{"ready by uid", "1000:100000:65536\n", true, nil, nil},
		{"no range", "bob:100000:65536\n", true,
			[]string{"usermod --add-subuids 100000-165535 --add-subgids 100000-165535 alice"},
			[]string{"uidmap"}},
		{"empty range", "alice:100000:0\n", true, []string{"usermod"}, nil},
		{"no tools", "alice:100000:65536\n", false,
			[]string{"newuidmap", "newgidmap", "apt-get install uidmap"}, []string{"usermod"}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			dir := t.TempDir()
			subuid := filepath.Join(dir, "subuid")
			subgid := filepath.Join(dir, "subgid")
			for _, file := range []string{subuid, subgid} {
				if err := os.WriteFile(file, []byte(test.subuid), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("PATH", toolsDir(t, test.tools))
			err := checkRootless("alice", "1000", subuid, subgid)
			if len(test.wantInErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range test.wantInErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			for _, unwanted := range test.wantNotInErrs {
				if strings.Contains(err.Error(), unwanted) {
					t.Errorf("error %q mentions %q", err, unwanted)
				}
			}
		})
	}
}

// toolsDir returns a directory to use as PATH, holding newuidmap and newgidmap if tools.
func toolsDir(t *testing.T, tools bool) string {
	t.Helper()
	dir := t.TempDir()
	if !tools {
		return dir
	}
	for _, tool := range []string{"newuidmap", "newgidmap"} {
		if err := os.WriteFile(filepath.Join(dir, tool), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
