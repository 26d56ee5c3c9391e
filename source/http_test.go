package source

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	httpUser     = "builder"
	httpPassword = "s3cret-Passw0rd-4711"
)

// gitHTTPServer serves the test repositories with git's own smart-HTTP backend behind a
// basic-auth check, and counts the requests it answers.
type gitHTTPServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string // "GET info/refs", "POST git-upload-pack"
}

func newGitHTTPServer(t *testing.T, repo *testRepo) *gitHTTPServer {
	t.Helper()
	execPath := runGit(t, repo.dir, nil, "--exec-path")
	backend := &cgi.Handler{
		Path: filepath.Join(execPath, "git-http-backend"),
		Env: []string{"GIT_PROJECT_ROOT=" + filepath.Dir(repo.dir), "GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1"},
	}
	s := &gitHTTPServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.record(r)
		user, password, ok := r.BasicAuth()
		if !ok || user != httpUser || password != httpPassword {
			w.Header().Set("WWW-Authenticate", `Basic realm="engine"`)
			http.Error(w, "credentials refused", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *gitHTTPServer) record(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:])
}

// take returns the requests answered since the last call.
func (s *gitHTTPServer) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	taken := s.requests
	s.requests = nil
	return taken
}

// repoURL is the repository's URL on the server, with userinfo when given.
func (s *gitHTTPServer) repoURL(repo *testRepo, userinfo string) string {
	base := s.URL
	if userinfo != "" {
		base = strings.Replace(base, "http://", "http://"+userinfo+"@", 1)
	}
	return base + "/" + filepath.Base(repo.dir)
}

// isolateCredentials points HOME and XDG_CONFIG_HOME at empty directories and clears the
// credential variables, so only what a test sets is found.
func isolateCredentials(t *testing.T) (home string) {
	t.Helper()
	home = t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "xdg"))
	for _, name := range []string{"GIT_USERNAME", "GIT_PASSWORD", "GIT_TOKEN", "GIT_SSH_KEY",
		"GIT_SSH_KEY_PASSPHRASE", "SSH_AUTH_SOCK"} {
		t.Setenv(name, "")
	}
	return home
}

func TestFetchHTTPCredentials(t *testing.T) {
	repo := newTestRepo(t)
	commit := repo.commit("first", engineFiles(1))
	server := newGitHTTPServer(t, repo)
	hostURL := server.URL // http://127.0.0.1:port
	good := httpUser + ":" + httpPassword

	tests := []struct {
		name     string
		env      map[string]string
		files    map[string]string // relative to HOME
		userinfo string
	}{
		{name: "user and password from the environment",
			env: map[string]string{"GIT_USERNAME": httpUser, "GIT_PASSWORD": httpPassword}},
		{name: "token from the environment",
			env: map[string]string{"GIT_USERNAME": httpUser, "GIT_TOKEN": httpPassword}},
		{name: "git-credentials file",
			files: map[string]string{".git-credentials": "https://other:x@example.com\n" +
				strings.Replace(hostURL, "http://", "http://"+good+"@", 1) + "\n"}},
		{name: "XDG credentials file",
			files: map[string]string{"xdg/git/credentials": strings.Replace(hostURL,
				"http://", "http://"+good+"@", 1) + "\n"}},
		{name: "credentials in the URL", userinfo: good},
		{name: "environment wins over a wrong password in the URL",
			env:      map[string]string{"GIT_USERNAME": httpUser, "GIT_PASSWORD": httpPassword},
			userinfo: httpUser + ":wrong-password-in-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := isolateCredentials(t)
			for name, value := range tt.env {
				t.Setenv(name, value)
			}
			for name, content := range tt.files {
				writeFile(t, filepath.Join(home, name), content)
			}
			f, logs := newFetcher(t)
			spec := Spec{Repo: server.repoURL(repo, tt.userinfo), Ref: "main"}
			co, err := f.Fetch(context.Background(), spec)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			assertCheckout(t, co, commit, "15.1.4.0")
			assertNoSecret(t, "log", logs.String())
			assertNoSecret(t, "Spec.String", co.Spec.String())
			assertNoSecret(t, "checkout directory name", co.Dir)
			assertNoSecret(t, ".git/config", readFile(t, filepath.Join(co.Dir, ".git/config")))
		})
	}
}

func TestFetchHTTPRefusedCredentials(t *testing.T) {
	repo := newTestRepo(t)
	repo.commit("first", engineFiles(1))
	server := newGitHTTPServer(t, repo)

	tests := []struct {
		name     string
		env      map[string]string
		userinfo string
		secret   string
	}{
		{name: "wrong password from the environment",
			env: map[string]string{"GIT_USERNAME": httpUser,
				"GIT_PASSWORD": "wrong-" + httpPassword},
			secret: "wrong-" + httpPassword},
		{name: "wrong token in the URL", userinfo: "ghp_wrongToken0123456789",
			secret: "ghp_wrongToken0123456789"},
		{name: "wrong password in the URL", userinfo: httpUser + ":url-pass-9876",
			secret: "url-pass-9876"},
		{name: "no credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateCredentials(t)
			for name, value := range tt.env {
				t.Setenv(name, value)
			}
			f, logs := newFetcher(t)
			server.take()
			_, err := f.Fetch(context.Background(),
				Spec{Repo: server.repoURL(repo, tt.userinfo), Ref: "main"})
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("Fetch error = %v, want ErrAuth", err)
			}
			t.Log(err)
			for _, sub := range []string{`at "main"`, "GIT_USERNAME", "GIT_PASSWORD",
				".git-credentials"} {
				if !strings.Contains(err.Error(), sub) {
					t.Errorf("error %q does not contain %q", err, sub)
				}
			}
			for _, text := range []string{err.Error(), logs.String()} {
				if tt.secret != "" && strings.Contains(text, tt.secret) {
					t.Errorf("the secret %q appears in %q", tt.secret, text)
				}
			}
			// Refused at the first request: no retries, no object transfer.
			if got := server.take(); len(got) != 1 {
				t.Errorf("server answered %v, want a single refused ref lookup", got)
			}
			assertNothingLeft(t, f.Root)
		})
	}
}

func TestFetchHTTPIncremental(t *testing.T) {
	repo := newTestRepo(t)
	repo.commit("first", engineFiles(1))
	server := newGitHTTPServer(t, repo)
	isolateCredentials(t)
	t.Setenv("GIT_USERNAME", httpUser)
	t.Setenv("GIT_PASSWORD", httpPassword)
	f, _ := newFetcher(t)
	spec := Spec{Repo: server.repoURL(repo, ""), Ref: "main"}
	if _, err := f.Fetch(context.Background(), spec); err != nil {
		t.Fatalf("first Fetch: %v", err)
	}

	server.take()
	if _, err := f.Fetch(context.Background(), spec); err != nil {
		t.Fatalf("second Fetch: %v", err)
	}
	if got := server.take(); len(got) != 1 || got[0] != "GET refs" {
		t.Errorf("up-to-date fetch made requests %v, want only one ref lookup (GET refs)", got)
	}

	moved := repo.commit("second", engineFiles(2))
	co, err := f.Fetch(context.Background(), spec)
	if err != nil {
		t.Fatalf("third Fetch: %v", err)
	}
	if co.Commit != moved {
		t.Errorf("Commit = %s, want %s", co.Commit, moved)
	}
	if got := server.take(); !contains(got, "POST git-upload-pack") {
		t.Errorf("fetch of a moved branch made requests %v, want an upload-pack", got)
	}
}

func TestFetchHTTPHonoursDeadline(t *testing.T) {
	stalled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	t.Cleanup(stalled.Close)
	f, _ := newFetcher(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()

	_, err := f.Fetch(ctx, Spec{Repo: stalled.URL + "/engine.git", Ref: "main"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Fetch error = %v, want context.DeadlineExceeded", err)
	}
}

func assertNoSecret(t *testing.T, what, text string) {
	t.Helper()
	if strings.Contains(text, httpPassword) {
		t.Errorf("%s shows the password: %q", what, text)
	}
}

func contains(list []string, item string) bool {
	for _, s := range list {
		if s == item {
			return true
		}
	}
	return false
}

func TestFetchHTTPMasksSecretEchoedByServer(t *testing.T) {
	// A careless server quotes the credentials it refused; go-git puts its answer in the error.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, password, _ := r.BasicAuth()
		http.Error(w, "refused "+user+" with password "+password, http.StatusUnauthorized)
	}))
	t.Cleanup(echo.Close)
	isolateCredentials(t)
	t.Setenv("GIT_USERNAME", httpUser)
	t.Setenv("GIT_PASSWORD", httpPassword)
	f, logs := newFetcher(t)

	_, err := f.Fetch(context.Background(), Spec{Repo: echo.URL + "/engine.git", Ref: "main"})
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("Fetch error = %v, want ErrAuth", err)
	}
	if !strings.Contains(err.Error(), "refused "+httpUser+" with password ***") {
		t.Errorf("error %q does not carry the server's answer with the password masked", err)
	}
	assertNoSecret(t, "error", err.Error())
	assertNoSecret(t, "log", logs.String())
}
