package push_test

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/polardb/imagebuilder/build"
	"github.com/polardb/imagebuilder/internal/buildtest"
	"github.com/polardb/imagebuilder/internal/safebuffer"
	"github.com/polardb/imagebuilder/push"
)

// The test image: the busybox base with a configuration file copied in and a label.
const (
	imageName  = "polardb_pg/engine:15.1"
	configPath = "etc/postgresql/postgresql.conf"
	labelKey   = "org.opencontainers.image.title"
	labelValue = "polardb-engine-push-test"
)

// testDockerfile builds the test image on the busybox base.
const testDockerfile = "FROM " + buildtest.BaseName + "\n" +
	"COPY rootfs/postgresql.conf /" + configPath + "\n"

// fixture is a test store holding the test image, and the logs of everything that ran
// on it.
type fixture struct {
	builder *build.Builder
	// config is the content of configPath in the image, unique to this fixture.
	config string
	// library receives what the containers libraries log, at every level.
	library *logBuffer
}

// newFixture builds the test image in a new store.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{library: &logBuffer{}}
	options := buildtest.Store(t)
	options.Logger = f.library.logger()
	builder, err := build.New(context.Background(), options)
	if err != nil {
		t.Fatalf("opening a test store: %v", err)
	}
	t.Cleanup(func() {
		if err := builder.Close(); err != nil {
			t.Errorf("closing the test store: %v", err)
		}
	})
	f.builder = builder
	buildtest.BaseImage(t, builder)

	f.config = "shared_buffers = 128MB\n# " + t.Name() + "\n"
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "rootfs", "postgresql.conf"), f.config)
	writeFile(t, filepath.Join(dir, "Dockerfile"), testDockerfile)
	_, err = builder.Build(context.Background(), build.Request{
		ID:         "push-test",
		ContextDir: dir,
		Dockerfile: filepath.Join(dir, "Dockerfile"),
		Tags:       []string{imageName},
		Labels:     map[string]string{labelKey: labelValue},
	})
	if err != nil {
		t.Fatalf("building the test image: %v", err)
	}
	return f
}

// pusher returns a Pusher on the fixture's store with o, its blob cache in a directory
// of the test's own, and a log buffer receiving its lines.
func (f *fixture) pusher(t *testing.T, o push.Options) (*push.Pusher, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	o.Logger = logs.logger()
	if o.BlobInfoCacheDir == "" {
		o.BlobInfoCacheDir = t.TempDir()
	}
	return push.New(f.builder, o), logs
}

// writeFile writes content to path, creating its directory.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// destination parses s or fails the test.
func destination(t *testing.T, s string) push.Destination {
	t.Helper()
	dest, err := push.ParseDestination(s)
	if err != nil {
		t.Fatal(err)
	}
	return dest
}

// logBuffer collects log lines from any goroutine.
type logBuffer struct {
	safebuffer.Buffer
}

// logger returns a text logger writing every level to l.
func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// lines returns the lines whose message is message.
func (l *logBuffer) lines(message string) []string {
	var found []string
	for _, line := range strings.Split(l.String(), "\n") {
		if strings.Contains(line, `msg="`+message+`"`) {
			found = append(found, line)
		}
	}
	return found
}

// remoteImage fetches the manifest of ref from a registry with go-containerregistry,
// and returns its descriptor and image.
func remoteImage(t *testing.T, ref string, auth authn.Authenticator) (*remote.Descriptor,
	v1.Image) {
	t.Helper()
	parsed, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if auth == nil {
		auth = authn.Anonymous
	}
	descriptor, err := remote.Get(parsed, remote.WithAuth(auth))
	if err != nil {
		t.Fatalf("reading %s back: %v", ref, err)
	}
	image, err := descriptor.Image()
	if err != nil {
		t.Fatalf("reading image %s: %v", ref, err)
	}
	return descriptor, image
}

// assertContent checks that image carries the fixture's label and configuration file.
func (f *fixture) assertContent(t *testing.T, image v1.Image) {
	t.Helper()
	config, err := image.ConfigFile()
	if err != nil {
		t.Fatalf("reading the image configuration: %v", err)
	}
	if got := config.Config.Labels[labelKey]; got != labelValue {
		t.Errorf("label %s = %q, want %q", labelKey, got, labelValue)
	}
	if got := fileInImage(t, image, configPath); got != f.config {
		t.Errorf("%s in the pushed layers = %q, want %q", configPath, got, f.config)
	}
}

// fileInImage returns the content of path in the flattened layers of image.
func fileInImage(t *testing.T, image v1.Image, path string) string {
	t.Helper()
	flat := mutate.Extract(image)
	defer flat.Close()
	files := tar.NewReader(flat)
	for {
		header, err := files.Next()
		if errors.Is(err, io.EOF) {
			t.Fatalf("%s is not in the image's layers", path)
		}
		if err != nil {
			t.Fatalf("reading the image's layers: %v", err)
		}
		if strings.TrimPrefix(header.Name, "./") != path {
			continue
		}
		content, err := io.ReadAll(files)
		if err != nil {
			t.Fatal(err)
		}
		return string(content)
	}
}
