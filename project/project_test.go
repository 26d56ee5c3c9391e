package project

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func runGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_COMMITTER_DATE=2025-03-04T05:06:07Z", "GIT_AUTHOR_DATE=2025-03-04T05:06:07Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestRead(t *testing.T) {
	t.Setenv("GIT_AUTHOR_EMAIL", "")
	t.Setenv("GIT_COMMITTER_EMAIL", "")
	t.Setenv("EMAIL", "")
	dir := t.TempDir()
	runGit(t, dir, "init", "-q", "-b", "release")
	runGit(t, dir, "config", "user.email", "builder@example.com")
	runGit(t, dir, "config", "user.name", "Builder")
	runGit(t, dir, "remote", "add", "origin", "https://bot:hunter2@example.com/org/builder.git")
	runGit(t, dir, "commit", "-q", "--allow-empty", "-m", "first")
	head := runGit(t, dir, "rev-parse", "HEAD")
	if err := os.Mkdir(dir+"/sub", 0o755); err != nil {
		t.Fatal(err)
	}

	info, err := Read(dir + "/sub")
	if err != nil {
		t.Fatal(err)
	}
	want := Info{
		Source: "https://***@example.com/org/builder.git",
		Branch: "release",
		Commit: head,
		Email:  "builder@example.com",
	}
	got := info
	got.CommitTime = info.CommitTime.UTC()
	if got.Source != want.Source || got.Branch != want.Branch || got.Commit != want.Commit ||
		got.Email != want.Email {
		t.Errorf("Read = %+v\nwant %+v", got, want)
	}
	if got.CommitTime.Format("2006-01-02T15:04:05") != "2025-03-04T05:06:07" {
		t.Errorf("CommitTime = %v", got.CommitTime)
	}

	t.Setenv("GIT_AUTHOR_EMAIL", "env@example.com")
	if info, _ := Read(dir); info.Email != "env@example.com" {
		t.Errorf("GIT_AUTHOR_EMAIL not preferred: %q", info.Email)
	}
}

func TestReadNotGit(t *testing.T) {
	info, err := Read(t.TempDir())
	if err != nil || info.Commit != "" || info.Source != "" {
		t.Errorf("Read of a plain directory = %+v, %v; want empty info", info, err)
	}
}

func TestReadDetached(t *testing.T) {
	dir := t.TempDir()
	runGit(t, dir, "init", "-q", "-b", "main")
	runGit(t, dir, "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty",
		"-m", "1")
	runGit(t, dir, "checkout", "-q", "--detach")
	info, err := Read(dir)
	if err != nil || info.Branch != "" || info.Commit == "" {
		t.Errorf("detached Read = %+v, %v; want no branch and a commit", info, err)
	}
}
