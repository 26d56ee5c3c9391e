package source

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFetchRefKinds(t *testing.T) {
	repo := newTestRepo(t)
	first := repo.commit("first", engineFiles(1))
	repo.git("tag", "v1-light")
	second := repo.commit("second", engineFiles(2))
	repo.git("tag", "-a", "v2", "-m", "release 2")
	repo.git("branch", "POLARDB_15_STABLE")
	behind := repo.commit("no ref points here", engineFiles(4))
	third := repo.commit("third", engineFiles(3))

	tests := []struct {
		name    string
		repo    *testRepo
		ref     string
		want    string
		minor   string // engine version expected in the tree
		commits string // commits in the checkout: "1" for a shallow one
	}{
		{"branch", repo, "main", third, "15.3.4.0", "1"},
		{"other branch", repo, "POLARDB_15_STABLE", second, "15.2.4.0", "1"},
		{"full ref name", repo, "refs/heads/POLARDB_15_STABLE", second, "15.2.4.0", "1"},
		{"lightweight tag", repo, "v1-light", first, "15.1.4.0", "1"},
		{"annotated tag", repo, "v2", second, "15.2.4.0", "1"},
		{"commit at a branch tip", repo, third, third, "15.3.4.0", "1"},
		{"commit at a tag", repo, first, first, "15.1.4.0", "1"},
		{"upper-case commit id", repo, strings.ToUpper(third), third, "15.3.4.0", "1"},
		// No ref points at it and the server serves no commits by id: full history.
		{"commit behind the tips", repo, behind, behind, "15.4.4.0", "3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newFetcher(t)
			co, err := f.Fetch(context.Background(), Spec{Repo: tt.repo.url(), Ref: tt.ref})
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			assertCheckout(t, co, tt.want, tt.minor)
			if got := tt.repo.commitTime(tt.want); !co.CommitTime.Equal(got) {
				t.Errorf("CommitTime = %v, want %v", co.CommitTime, got)
			}
			if got := runGit(t, co.Dir, nil, "rev-list", "--count", "HEAD"); got != tt.commits {
				t.Errorf("checkout holds %s commits, want %s", got, tt.commits)
			}
		})
	}
}

func TestFetchCommitByIDFromServerThatAllowsIt(t *testing.T) {
	repo := newTestRepo(t)
	first := repo.commit("first", engineFiles(1))
	repo.commit("second", engineFiles(2))
	repo.git("config", "uploadpack.allowReachableSHA1InWant", "true")

	f, _ := newFetcher(t)
	co, err := f.Fetch(context.Background(), Spec{Repo: repo.url(), Ref: first})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	assertCheckout(t, co, first, "15.1.4.0")
	if got := runGit(t, co.Dir, nil, "rev-list", "--count", "HEAD"); got != "1" {
		t.Errorf("checkout holds %s commits, want a shallow one", got)
	}
}

func TestFetchSeveralCommitsKeepsOnlyTheTip(t *testing.T) {
	repo := newTestRepo(t)
	for i := 1; i <= 5; i++ {
		repo.commit("change", map[string]string{
			"configure.ac":                    "AC_INIT([PostgreSQL], [15.1])\n",
			filepath.Join("docs", "note.txt"): strings.Repeat("x", i),
		})
	}
	f, _ := newFetcher(t)
	co, err := f.Fetch(context.Background(), Spec{Repo: repo.url(), Ref: "main"})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if got := readFile(t, filepath.Join(co.Dir, "docs", "note.txt")); got != "xxxxx" {
		t.Errorf("docs/note.txt = %q, want the content of the fifth commit", got)
	}
	if got := runGit(t, co.Dir, nil, "rev-list", "--count", "HEAD"); got != "1" {
		t.Errorf("checkout holds %s commits, want 1", got)
	}
	// The checkout must be a valid repository for git itself.
	runGit(t, co.Dir, nil, "fsck", "--no-progress")
	if status := runGit(t, co.Dir, nil, "status", "--porcelain"); status != "" {
		t.Errorf("git status of the checkout is not clean:\n%s", status)
	}
}

func TestFetchVersionErrorDoesNotFailTheFetch(t *testing.T) {
	repo := newTestRepo(t)
	commit := repo.commit("docs only", map[string]string{"README.md": "PolarDB\n"})

	f, _ := newFetcher(t)
	co, err := f.Fetch(context.Background(), Spec{Repo: repo.url(), Ref: "main"})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if co.Commit != commit {
		t.Errorf("Commit = %s, want %s", co.Commit, commit)
	}
	if co.VersionErr == nil || !strings.Contains(co.VersionErr.Error(), "POLARDB_15_STABLE") {
		t.Errorf("VersionErr = %v, want one pointing to a stable branch", co.VersionErr)
	}
}

// assertCheckout checks the commit, the engine version and the work tree of a checkout.
func assertCheckout(t *testing.T, co *Checkout, commit, full string) {
	t.Helper()
	if co.Commit != commit {
		t.Errorf("Commit = %s, want %s", co.Commit, commit)
	}
	if !filepath.IsAbs(co.Dir) {
		t.Errorf("Dir %q is not absolute", co.Dir)
	}
	if co.VersionErr != nil {
		t.Errorf("VersionErr = %v", co.VersionErr)
	}
	if co.Version.Full != full {
		t.Errorf("Version.Full = %q, want %q", co.Version.Full, full)
	}
	if head := runGit(t, co.Dir, nil, "rev-parse", "HEAD"); head != commit {
		t.Errorf("git rev-parse HEAD in the checkout = %s, want %s", head, commit)
	}
	sample := filepath.Join(co.Dir, "src/backend/utils/misc/postgresql.conf.sample")
	if _, err := os.Stat(sample); err != nil {
		t.Errorf("config template missing: %v", err)
	}
}
