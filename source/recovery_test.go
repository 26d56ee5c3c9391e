package source

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestFetchRecoversDamagedCheckout(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		reason string
	}{
		{"HEAD removed", func(t *testing.T, dir string) {
			mustRemove(t, filepath.Join(dir, ".git", "HEAD"))
		}, "opening repository"},
		{"objects lost", func(t *testing.T, dir string) {
			mustRemove(t, filepath.Join(dir, ".git", "objects"))
			if err := os.Mkdir(filepath.Join(dir, ".git", "objects"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, "reading commit"},
		{"update interrupted", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, ".git", updatingMarker), "")
			writeFile(t, filepath.Join(dir, "configure.ac"), "half written")
		}, "an earlier update was interrupted"},
		{"not a repository", func(t *testing.T, dir string) {
			mustRemove(t, filepath.Join(dir, ".git"))
		}, "opening repository"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := newTestRepo(t)
			commit := repo.commit("first", engineFiles(1))
			f, logs := newFetcher(t)
			spec := Spec{Repo: repo.url(), Ref: "main"}
			co, err := f.Fetch(context.Background(), spec)
			if err != nil {
				t.Fatalf("first Fetch: %v", err)
			}
			tt.damage(t, co.Dir)

			_, err = f.Open(spec)
			if err == nil || !strings.Contains(err.Error(), "fetch it again") {
				t.Errorf("Open of the damaged checkout: error %v, want a hint to fetch", err)
			}
			co, err = f.Fetch(context.Background(), spec)
			if err != nil {
				t.Fatalf("Fetch of the damaged checkout: %v", err)
			}
			assertCheckout(t, co, commit, "15.1.4.0")
			runGit(t, co.Dir, nil, "fsck", "--no-progress")
			if !strings.Contains(logs.String(), "removing damaged checkout") ||
				!strings.Contains(logs.String(), tt.reason) {
				t.Errorf("log does not report the damaged checkout (%s):\n%s", tt.reason, logs)
			}
		})
	}
}

func TestFetchRemovesUnfinishedClone(t *testing.T) {
	repo := newTestRepo(t)
	commit := repo.commit("first", engineFiles(1))
	f, logs := newFetcher(t)
	spec := Spec{Repo: repo.url(), Ref: "main"}
	leftover := filepath.Join(f.Root, "."+filepath.Base(f.Dir(spec))+partialInfix+"123")
	writeFile(t, filepath.Join(leftover, ".git", "HEAD"), "ref: refs/heads/main\n")

	co, err := f.Fetch(context.Background(), spec)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	assertCheckout(t, co, commit, "15.1.4.0")
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Errorf("unfinished clone %q is still there (stat: %v)", leftover, err)
	}
	if !strings.Contains(logs.String(), "removing unfinished clone") {
		t.Errorf("log does not report the unfinished clone:\n%s", logs)
	}
}

func TestFetchInterruptedCloneLeavesNothing(t *testing.T) {
	repo := newTestRepo(t)
	commit := repo.commit("first", engineFiles(1))
	server := newGitHTTPServer(t, repo)
	isolateCredentials(t)
	t.Setenv("GIT_USERNAME", httpUser)
	t.Setenv("GIT_PASSWORD", httpPassword)

	// Stall the object transfer, after the refs were listed, until the fetch gives up.
	backend := server.Config.Handler
	var stall atomic.Bool
	stall.Store(true)
	server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if stall.Load() && r.Method == http.MethodPost {
			// The server notices a client hanging up only once the body has been read.
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
			return
		}
		backend.ServeHTTP(w, r)
	})
	f, _ := newFetcher(t)
	spec := Spec{Repo: server.repoURL(repo, ""), Ref: "main"}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := f.Fetch(ctx, spec); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("interrupted Fetch: error %v, want context.DeadlineExceeded", err)
	}
	assertNothingLeft(t, f.Root)

	stall.Store(false)
	co, err := f.Fetch(context.Background(), spec)
	if err != nil {
		t.Fatalf("Fetch after the interruption: %v", err)
	}
	assertCheckout(t, co, commit, "15.1.4.0")
}

func mustRemove(t *testing.T, path string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
