package source

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRefetchUnchangedTransfersNothing(t *testing.T) {
	repo := newTestRepo(t)
	commit := repo.commit("first", engineFiles(1))
	f, logs := newFetcher(t)
	spec := Spec{Repo: repo.url(), Ref: "main"}
	if _, err := f.Fetch(context.Background(), spec); err != nil {
		t.Fatalf("first Fetch: %v", err)
	}
	before := snapshotGitDir(t, f.Dir(spec))
	inode := inodeOf(t, f.Dir(spec))

	co, err := f.Fetch(context.Background(), spec)
	if err != nil {
		t.Fatalf("second Fetch: %v", err)
	}
	if co.Commit != commit {
		t.Errorf("Commit = %s, want %s", co.Commit, commit)
	}
	if after := snapshotGitDir(t, f.Dir(spec)); !reflect.DeepEqual(before, after) {
		t.Errorf("git directory changed on an up-to-date fetch:\nbefore %v\nafter  %v",
			before, after)
	}
	if inodeOf(t, f.Dir(spec)) != inode {
		t.Error("checkout directory was replaced: it was cloned again")
	}
	if !strings.Contains(logs.String(), "up to date") {
		t.Errorf("log has no \"up to date\" line:\n%s", logs)
	}
}

func TestRefetchMovedBranch(t *testing.T) {
	repo := newTestRepo(t)
	files := engineFiles(1)
	files["removed.txt"] = "goes away\n"
	files["kept.txt"] = "kept\n"
	files[".gitignore"] = "*.o\n"
	old := repo.commit("first", files)
	f, logs := newFetcher(t)
	spec := Spec{Repo: repo.url(), Ref: "main"}
	co, err := f.Fetch(context.Background(), spec)
	if err != nil {
		t.Fatalf("first Fetch: %v", err)
	}
	inode := inodeOf(t, co.Dir)
	keptInfo, err := os.Stat(filepath.Join(co.Dir, "kept.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// Files that the commit does not track, ignored or not, must not survive the update.
	for _, name := range []string{"stray.o", "stray.txt"} {
		writeFile(t, filepath.Join(co.Dir, name), "x")
	}
	writeFile(t, filepath.Join(co.Dir, "configure.ac"), "edited")

	update := engineFiles(2)
	update["removed.txt"] = ""
	update["added/new.txt"] = "new\n"
	newCommit := repo.commit("second", update)
	co, err = f.Fetch(context.Background(), spec)
	if err != nil {
		t.Fatalf("second Fetch: %v", err)
	}

	assertCheckout(t, co, newCommit, "15.2.4.0")
	wantFiles := map[string]string{
		"removed.txt":   "<absent>",
		"stray.o":       "<absent>",
		"stray.txt":     "<absent>",
		"added/new.txt": "new\n",
		"kept.txt":      "kept\n",
		"src/backend/utils/misc/postgresql.conf.sample": "# sample 2\n",
	}
	for name, want := range wantFiles {
		if got := readFile(t, filepath.Join(co.Dir, name)); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if inodeOf(t, co.Dir) != inode {
		t.Error("checkout directory was replaced: it was cloned again")
	}
	info, err := os.Stat(filepath.Join(co.Dir, "kept.txt"))
	if err != nil || !info.ModTime().Equal(keptInfo.ModTime()) {
		t.Error("an unchanged file was rewritten: the tree was not updated in place")
	}
	if got := runGit(t, co.Dir, nil, "rev-list", "--count", "HEAD"); got != "1" {
		t.Errorf("checkout holds %s commits after the update, want 1 (shallow)", got)
	}
	if status := runGit(t, co.Dir, nil, "status", "--porcelain"); status != "" {
		t.Errorf("git status after the update is not clean:\n%s", status)
	}
	if !strings.Contains(logs.String(), "fetched new commit") ||
		!strings.Contains(logs.String(), old) {
		t.Errorf("log does not report the move from %s:\n%s", old, logs)
	}
}

func TestRefetchCommitIDNeedsNoNetwork(t *testing.T) {
	repo := newTestRepo(t)
	commit := repo.commit("first", engineFiles(1))
	f, _ := newFetcher(t)
	spec := Spec{Repo: repo.url(), Ref: commit}
	if _, err := f.Fetch(context.Background(), spec); err != nil {
		t.Fatalf("first Fetch: %v", err)
	}

	// With the repository gone, any use of the network would fail.
	if err := os.RemoveAll(repo.dir); err != nil {
		t.Fatal(err)
	}
	co, err := f.Fetch(context.Background(), spec)
	if err != nil {
		t.Fatalf("Fetch of a present commit used the network: %v", err)
	}
	assertCheckout(t, co, commit, "15.1.4.0")
}

func TestOpen(t *testing.T) {
	repo := newTestRepo(t)
	commit := repo.commit("first", engineFiles(1))
	f, _ := newFetcher(t)
	spec := Spec{Repo: repo.url(), Ref: "main"}

	_, err := f.Open(spec)
	if !errorsIsNotExist(err) {
		t.Fatalf("Open before Fetch: error %v, want one wrapping fs.ErrNotExist", err)
	}
	fetched, err := f.Fetch(context.Background(), spec)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if err := os.RemoveAll(repo.dir); err != nil {
		t.Fatal(err)
	}
	opened, err := f.Open(spec)
	if err != nil {
		t.Fatalf("Open without the repository: %v", err)
	}
	if opened.Commit != commit || opened.Dir != fetched.Dir ||
		!opened.CommitTime.Equal(fetched.CommitTime) || opened.Version != fetched.Version {
		t.Errorf("Open = %+v, want what Fetch returned: %+v", opened, fetched)
	}
}

// gitFile is the size and modification time of one file in a git directory.
type gitFile struct {
	size    int64
	modTime time.Time
}

// snapshotGitDir records every file of a checkout's git directory but the index, whose
// timestamps git may refresh on its own.
func snapshotGitDir(t *testing.T, dir string) map[string]gitFile {
	t.Helper()
	files := make(map[string]gitFile)
	gitDir := filepath.Join(dir, ".git")
	err := filepath.WalkDir(gitDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "index" {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(gitDir, path)
		files[rel] = gitFile{size: info.Size(), modTime: info.ModTime()}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// inodeOf identifies a directory, so a test can tell an update from a fresh clone.
func inodeOf(t *testing.T, path string) uint64 {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Sys().(*syscall.Stat_t).Ino
}
