package source

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/polardb/imagebuilder/internal/safebuffer"
)

// testRepo is a git repository made with the git command line, the peer the fetcher must
// interoperate with.
type testRepo struct {
	t    *testing.T
	dir  string
	tick int // advances commit times so each commit has its own
}

// baseTime is the first commit time of every test repository.
var baseTime = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// newTestRepo creates a repository with branch main in a temporary directory.
func newTestRepo(t *testing.T) *testRepo {
	t.Helper()
	r := &testRepo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

// url returns the repository as a file:// URL.
func (r *testRepo) url() string {
	return "file://" + r.dir
}

// git runs git in the repository and returns its trimmed standard output.
func (r *testRepo) git(args ...string) string {
	r.t.Helper()
	return runGit(r.t, r.dir, r.commitEnv(), args...)
}

func (r *testRepo) commitEnv() []string {
	when := baseTime.Add(time.Duration(r.tick) * time.Hour).Format(time.RFC3339)
	return []string{"GIT_AUTHOR_DATE=" + when, "GIT_COMMITTER_DATE=" + when}
}

// runGit runs git in dir with a fixed identity and no user or system configuration.
func runGit(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com")
	cmd.Env = append(cmd.Env, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// commit writes files (an empty content deletes the file), commits everything and returns
// the new commit id.
func (r *testRepo) commit(message string, files map[string]string) string {
	r.t.Helper()
	for name, content := range files {
		path := filepath.Join(r.dir, name)
		if content == "" {
			if err := os.Remove(path); err != nil {
				r.t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.tick++
	r.git("add", "-A")
	r.git("commit", "-q", "-m", message)
	return r.git("rev-parse", "HEAD")
}

// commitTime returns the committer time of a commit made by commit.
func (r *testRepo) commitTime(commit string) time.Time {
	r.t.Helper()
	when, err := time.Parse(time.RFC3339, r.git("show", "-s", "--format=%cI", commit))
	if err != nil {
		r.t.Fatal(err)
	}
	return when
}

// engineFiles is a minimal engine tree declaring version 15.<minor>.
func engineFiles(minor int) map[string]string {
	return map[string]string{
		"configure.ac": fmt.Sprintf("AC_INIT([PostgreSQL], [15.%d])\n"+
			"POLAR_MINORVERSION=\"4.0\"\nPOLAR_RELEASE_DATE=\"2025010%d\"\n", minor, minor),
		"src/backend/utils/misc/postgresql.conf.sample": fmt.Sprintf("# sample %d\n", minor),
	}
}

// readFile returns a file's content, or "<absent>".
func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return "<absent>"
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// logBuffer collects a Fetcher's log lines; safe for concurrent use.
type logBuffer = safebuffer.Buffer

// newFetcher returns a Fetcher rooted in a temporary directory, logging at debug level into
// the returned buffer.
func newFetcher(t *testing.T) (*Fetcher, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	handler := slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})
	return &Fetcher{Root: filepath.Join(t.TempDir(), "sources"), Logger: slog.New(handler)}, logs
}

func errorsIsNotExist(err error) bool {
	return err != nil && errors.Is(err, fs.ErrNotExist)
}
