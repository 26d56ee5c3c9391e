package source

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// submoduleRepos is an engine repository with a submodule that has a submodule of its own.
type submoduleRepos struct {
	engine, sub, leaf *testRepo
}

func newSubmoduleRepos(t *testing.T) submoduleRepos {
	t.Helper()
	r := submoduleRepos{engine: newTestRepo(t), sub: newTestRepo(t), leaf: newTestRepo(t)}
	r.leaf.commit("leaf 1", map[string]string{"leaf.txt": "leaf 1\n"})
	r.leaf.commit("leaf 2", map[string]string{"leaf.txt": "leaf 2\n"})

	r.sub.commit("sub 1", map[string]string{"sub.txt": "sub 1\n"})
	r.sub.git("-c", "protocol.file.allow=always", "submodule", "add", "-q",
		r.leaf.url(), "deps/leaf")
	r.sub.commit("sub 2", map[string]string{"sub.txt": "sub 2\n"})

	r.engine.commit("engine", engineFiles(1))
	r.engine.git("-c", "protocol.file.allow=always", "submodule", "add", "-q",
		r.sub.url(), "contrib/sub")
	r.engine.commit("add submodule", nil)
	return r
}

// moveSub commits in the submodule and records the new commit in the engine repository.
// With extra, the submodule gets one more commit afterwards, so the recorded one is no
// longer the tip of any branch.
func (r submoduleRepos) moveSub(content string, extra bool) string {
	subCommit := r.sub.commit("sub change", map[string]string{"sub.txt": content})
	if extra {
		r.sub.commit("past the recorded commit", map[string]string{"later.txt": "later\n"})
	}
	checkout := filepath.Join(r.engine.dir, "contrib/sub")
	runGit(r.engine.t, checkout, nil, "fetch", "-q", "origin")
	runGit(r.engine.t, checkout, nil, "checkout", "-q", subCommit)
	r.engine.commit("move submodule", nil)
	return subCommit
}

func TestFetchSubmodules(t *testing.T) {
	repos := newSubmoduleRepos(t)
	f, _ := newFetcher(t)
	spec := Spec{Repo: repos.engine.url(), Ref: "main"}

	co, err := f.Fetch(context.Background(), spec)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	assertFiles(t, co.Dir, map[string]string{
		"contrib/sub/sub.txt":            "sub 2\n",
		"contrib/sub/deps/leaf/leaf.txt": "leaf 2\n",
	})
	// Submodules are shallow too: one commit each although both have two.
	for _, dir := range []string{"contrib/sub", "contrib/sub/deps/leaf"} {
		path := filepath.Join(co.Dir, dir)
		if got := runGit(t, path, nil, "rev-list", "--count", "HEAD"); got != "1" {
			t.Errorf("submodule %s holds %s commits, want 1", dir, got)
		}
	}
	// The clone was renamed into place: git must still find the submodules' repositories.
	// A leading '-', '+' or 'U' marks a submodule missing, at another commit or conflicted.
	status := runGit(t, co.Dir, nil, "submodule", "status", "--recursive")
	lines := strings.Split(status, "\n")
	for _, line := range lines {
		if strings.ContainsAny(line[:1], "-+U") {
			t.Errorf("git submodule status reports a problem: %q", line)
		}
	}
	if len(lines) != 2 {
		t.Errorf("git submodule status lists %d submodules, want 2:\n%s", len(lines), status)
	}

	tests := []struct {
		name    string
		content string
		extra   bool
	}{
		{"submodule moved to its branch tip", "sub 3\n", false},
		{"submodule moved behind its branch tip", "sub 4\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			subCommit := repos.moveSub(tt.content, tt.extra)
			co, err := f.Fetch(context.Background(), spec)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			assertFiles(t, co.Dir, map[string]string{
				"contrib/sub/sub.txt":            tt.content,
				"contrib/sub/later.txt":          "<absent>",
				"contrib/sub/deps/leaf/leaf.txt": "leaf 2\n",
			})
			got := runGit(t, filepath.Join(co.Dir, "contrib/sub"), nil, "rev-parse", "HEAD")
			if got != subCommit {
				t.Errorf("submodule HEAD = %s, want %s", got, subCommit)
			}
		})
	}
}

// assertFiles compares files under dir with their wanted content ("<absent>" for none).
func assertFiles(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	for name, content := range want {
		if got := readFile(t, filepath.Join(dir, name)); got != content {
			t.Errorf("%s = %q, want %q", name, got, content)
		}
	}
}
