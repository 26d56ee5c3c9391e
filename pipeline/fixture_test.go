package pipeline

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/polardb/imagebuilder/build"
	"github.com/polardb/imagebuilder/internal/buildtest"
	"github.com/polardb/imagebuilder/internal/safebuffer"
)

// TestMain runs the tests the way buildtest.Main says.
func TestMain(m *testing.M) { buildtest.Main(m) }

// gitEnv keeps tests independent of the machine's git configuration and pins commit times.
var gitEnv = []string{
	"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
	"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
	"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com",
	"GIT_AUTHOR_DATE=2025-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2025-01-02T03:04:05Z",
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), gitEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// engineRepo makes an engine repository on branch POLARDB_15_STABLE with a PolarDB version
// and a config template, and returns its path and head commit.
func engineRepo(t *testing.T, template string) (string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "engine")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "init", "-q", "-b", "POLARDB_15_STABLE")
	writeFiles(t, dir, map[string]string{
		"configure.ac": "AC_INIT([PostgreSQL], [15.14], [bugs@example.com])\n" +
			"POLAR_MINORVERSION=\"4.0\"\nPOLAR_RELEASE_DATE=\"20250101\"\n",
		"src/backend/utils/misc/postgresql.conf.sample": template,
		"src/main.c": "int main(void) { return 0; }\n",
	})
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "engine")
	return dir, git(t, dir, "rev-parse", "HEAD")
}

const engineDockerfile = `ARG BASE
FROM ${BASE}
ARG POLAR_SOURCE_DIR
ARG PolarVersion
ARG PolarBranch
ARG CodeVersion
ARG BuildBy
ARG EXTRA
COPY rootfs/postgresql.conf /etc/postgresql.conf
COPY ${POLAR_SOURCE_DIR}/src/main.c /src/main.c
RUN echo "$PolarVersion $PolarBranch $CodeVersion $BuildBy $EXTRA" > /build-args
`

const managerDockerfile = `ARG ENGINE_IMAGE_FULL_NAME
FROM ${ENGINE_IMAGE_FULL_NAME}
ARG ENGINE_IMAGE_FULL_NAME
COPY rootfs/manager.txt /manager.txt
RUN echo "$ENGINE_IMAGE_FULL_NAME" > /engine-name && cat /etc/postgresql.conf > /seen.conf
`

// testProject makes a project repository holding image.yml and the Dockerfiles above.
func testProject(t *testing.T, imageYAML string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "project")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "init", "-q", "-b", "main")
	git(t, dir, "config", "user.email", "builder@example.com")
	writeFiles(t, dir, map[string]string{
		"image.yml":             imageYAML,
		"docker/Dockerfile.eng": engineDockerfile,
		"docker/Dockerfile.mgr": managerDockerfile,
		"rootfs/manager.txt":    "manager tooling\n",
		".gitignore":            "/.work/\n/image.result\n/image.result.json\n",
	})
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "project")
	git(t, dir, "remote", "add", "origin", "https://example.com/org/builder.git")
	return dir
}

// testStore returns store options for a temporary store holding the busybox base image.
func testStore(t *testing.T) (build.Options, string) {
	t.Helper()
	options := buildtest.Store(t)
	b, err := build.New(context.Background(), options)
	if err != nil {
		t.Fatal(err)
	}
	base := buildtest.BaseImage(t, b)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return options, base
}

// openRun opens a run for the project with the test store.
func openRun(t *testing.T, projectDir string, store build.Options, images ...string) (
	*Run, *safebuffer.Buffer) {
	t.Helper()
	out := &safebuffer.Buffer{}
	run, err := Open(Settings{
		ConfigPath: filepath.Join(projectDir, "image.yml"),
		Images:     images,
		Store:      store,
		Out:        out,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Close() })
	return run, out
}

// inspect opens the test store and returns a builder for reading images back.
func inspector(t *testing.T, store build.Options) *build.Builder {
	t.Helper()
	b, err := build.New(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}
