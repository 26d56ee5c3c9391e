package source

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestFetchRefNotFound(t *testing.T) {
	repo := newTestRepo(t)
	commit := repo.commit("first", engineFiles(1))
	repo.git("branch", "POLARDB_15_STABLE")
	absent := strings.Repeat("ab", 20)

	tests := []struct {
		name    string
		ref     string
		wantSub []string
	}{
		{"missing branch", "POLARDB_99_STABLE", []string{
			`"POLARDB_99_STABLE" is not a branch, tag or commit of`,
			"its branches: POLARDB_15_STABLE, main", "use a stable branch"}},
		{"short commit id", commit[:8], []string{
			"full 40-character id"}},
		{"commit that does not exist", absent, []string{
			"commit " + absent + " is not in the repository"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newFetcher(t)
			_, err := f.Fetch(context.Background(), Spec{Repo: repo.url(), Ref: tt.ref})
			if !errors.Is(err, ErrRefNotFound) {
				t.Fatalf("Fetch error = %v, want ErrRefNotFound", err)
			}
			t.Log(err)
			msg := err.Error()
			wantSub := append([]string{`fetching "` + repo.url() + `" at "` + tt.ref + `"`,
				"POLARDB_15_STABLE"}, tt.wantSub...)
			for _, sub := range wantSub {
				if !strings.Contains(msg, sub) {
					t.Errorf("error %q does not contain %q", msg, sub)
				}
			}
			assertNothingLeft(t, f.Root)
		})
	}
}

func TestFetchUnreachable(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := listener.Addr().String()
	listener.Close()
	missing := filepath.Join(t.TempDir(), "no-such-repo")

	tests := []struct {
		name string
		repo string
		hint string
	}{
		{"missing local path", missing, "check the repository path"},
		{"missing file URL", "file://" + missing, "check the repository path"},
		{"closed port", "http://" + closedPort + "/engine.git", "check the repository URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newFetcher(t)
			_, err := f.Fetch(context.Background(), Spec{Repo: tt.repo, Ref: "main"})
			if !errors.Is(err, ErrUnreachable) {
				t.Fatalf("Fetch error = %v, want ErrUnreachable", err)
			}
			t.Log(err)
			for _, sub := range []string{`fetching "` + tt.repo + `" at "main"`, tt.hint} {
				if !strings.Contains(err.Error(), sub) {
					t.Errorf("error %q does not contain %q", err, sub)
				}
			}
			assertNothingLeft(t, f.Root)
		})
	}
}

func TestFetchCancelled(t *testing.T) {
	repo := newTestRepo(t)
	repo.commit("first", engineFiles(1))
	f, _ := newFetcher(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	_, err := f.Fetch(ctx, Spec{Repo: repo.url(), Ref: "main"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fetch error = %v, want context.Canceled", err)
	}
	assertNothingLeft(t, f.Root)
}

func TestFetchInvalidSpec(t *testing.T) {
	tests := []struct {
		name    string
		spec    Spec
		wantSub string
	}{
		{"no repository", Spec{Ref: "main"}, "no repository given"},
		{"no ref", Spec{Repo: "https://u:secret-pw@example.com/r.git"}, "no ref given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newFetcher(t)
			_, err := f.Fetch(context.Background(), tt.spec)
			if err == nil || !strings.Contains(err.Error(), tt.wantSub) {
				t.Fatalf("Fetch error = %v, want one containing %q", err, tt.wantSub)
			}
			if strings.Contains(err.Error(), "secret-pw") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

// assertNothingLeft fails when a failed fetch left a checkout or a partial clone behind.
func assertNothingLeft(t *testing.T, root string) {
	t.Helper()
	entries, err := os.ReadDir(root)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("failed fetch left %q in the source directory", e.Name())
	}
}

func TestDubiousOwnershipHint(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to hand the repository to another user")
	}
	dir := filepath.Join(t.TempDir(), "engine")
	for _, args := range [][]string{
		{"init", "-q", "-b", "POLARDB_15_STABLE", dir},
		{"-C", dir, "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q",
			"--allow-empty", "-m", "first"},
	} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if out, err := exec.Command("chown", "-R", "65534:65534", dir).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v\n%s", err, out)
	}
	t.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
	f := &Fetcher{Root: t.TempDir()}
	_, err := f.Fetch(context.Background(), Spec{Repo: dir, Ref: "POLARDB_15_STABLE"})
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "safe.directory") {
		t.Errorf("fetching a repository of another user: %v; want the safe.directory hint", err)
	}
}
