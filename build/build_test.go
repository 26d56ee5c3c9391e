package build_test

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/polardb/imagebuilder/build"
	"github.com/polardb/imagebuilder/internal/buildtest"
)

// TestBuild builds one image with COPY, RUN, LABEL, ARG, ENV and CMD and checks each of
// them in the result.
func TestBuild(t *testing.T) {
	b := buildtest.Builder(t)
	base := buildtest.BaseImage(t, b)
	request := buildContext(t, "engine", map[string]string{
		"Dockerfile": "FROM " + base + `
ARG VERSION=unset
ARG FLAVOR
COPY rootfs/postgresql.conf /opt/postgresql.conf
RUN echo "version=$VERSION flavor=$FLAVOR" > /opt/args.txt
RUN cat /proc/net/dev > /opt/netdev.txt
LABEL org.polardb.version=$VERSION
ENV GREETING=hello
CMD ["cat", "/opt/postgresql.conf"]
`,
		"rootfs/postgresql.conf": "shared_buffers = 128MB\n",
	}, "polardb_pg/engine:15.1", "registry.example.com:5000/polardb_pg/engine:15.1")
	request.BuildArgs = map[string]string{"VERSION": "15.1", "FLAVOR": "test"}
	request.Labels = map[string]string{"org.polardb.image-id": "engine"}
	image, output := mustBuild(t, b, request)
	const name = "polardb_pg/engine:15.1"
	inspection := inspect(t, b, name)

	tests := []struct {
		name      string
		got, want any
	}{
		{"short tag stored under localhost", slices.Contains(image.Names,
			"localhost/polardb_pg/engine:15.1"), true},
		{"tag with registry kept", slices.Contains(image.Names,
			"registry.example.com:5000/polardb_pg/engine:15.1"), true},
		{"inspect finds the built image", inspection.ID, image.ID},
		{"digest reported", inspection.Digest, image.Digest},
		{"copied file", readFile(t, b, name, "/opt/postgresql.conf"), "shared_buffers = 128MB\n"},
		{"build args reach RUN", readFile(t, b, name, "/opt/args.txt"),
			"version=15.1 flavor=test\n"},
		{"build arg in LABEL", inspection.Labels["org.polardb.version"], "15.1"},
		{"request label", inspection.Labels["org.polardb.image-id"], "engine"},
		{"env", slices.Contains(inspection.Env, "GREETING=hello"), true},
		{"cmd", strings.Join(inspection.Cmd, " "), "cat /opt/postgresql.conf"},
		{"RUN sees the host's network", interfaces(readFile(t, b, name, "/opt/netdev.txt")),
			interfaces(hostFile(t, "/proc/net/dev"))},
		{"step output", strings.Contains(output, "RUN echo \"version=$VERSION"), true},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if test.got != test.want {
				t.Errorf("got %v, want %v", test.got, test.want)
			}
		})
	}
	assertNoLeftovers(t, b)
}

// TestBuildFromLocalImage builds a manager FROM an engine image built just before, named
// by a short name in a build argument, as image.yml's managers are.
func TestBuildFromLocalImage(t *testing.T) {
	b := buildtest.Builder(t)
	base := buildtest.BaseImage(t, b)
	const engineName = "polardb_pg/polardb_pg_engine_test:" +
		"15.14.4.0.20250101.abcd1234.20250102030405"
	engine := buildContext(t, "polardb_pg_engine_test", map[string]string{
		"Dockerfile": "FROM " + base + "\nRUN echo engine > /engine.txt\n",
	}, engineName)
	mustBuild(t, b, engine)

	manager := buildContext(t, "polardb_pg_manager", map[string]string{
		"Dockerfile": "ARG ENGINE_IMAGE_FULL_NAME\nFROM ${ENGINE_IMAGE_FULL_NAME}\n" +
			"RUN echo manager > /manager.txt\n",
	}, "polardb_pg/polardb_pg_manager:20250102030405.abcd1234")
	manager.BuildArgs = map[string]string{"ENGINE_IMAGE_FULL_NAME": engineName}
	_, output := mustBuild(t, b, manager)

	// Nothing can be pulled here, so a pull attempt would have failed the build; the
	// layers show that the engine in the store was the base.
	if strings.Contains(output, "Trying to pull") {
		t.Errorf("the manager build tried to pull its base:\n%s", output)
	}
	engineLayers := inspect(t, b, engineName).Layers
	managerLayers := inspect(t, b, manager.Tags[0]).Layers
	if len(managerLayers) <= len(engineLayers) ||
		!slices.Equal(managerLayers[:len(engineLayers)], engineLayers) {
		t.Errorf("manager layers %v do not start with engine layers %v",
			managerLayers, engineLayers)
	}
	if got := readFile(t, b, manager.Tags[0], "/engine.txt"); got != "engine\n" {
		t.Errorf("engine file in manager = %q", got)
	}
}

// TestBuildCache builds the same request three times: the second reuses the first's
// layers, the third (NoCache) makes new ones.
func TestBuildCache(t *testing.T) {
	b := buildtest.Builder(t)
	base := buildtest.BaseImage(t, b)
	request := buildContext(t, "cached", map[string]string{
		"Dockerfile": "FROM " + base + "\nCOPY file /file\n" +
			"RUN od -An -tx8 -N8 /dev/urandom > /built-at\n",
		"file": "content\n",
	}, "cache/test:latest")
	first, _ := mustBuild(t, b, request)
	second, secondOutput := mustBuild(t, b, request)
	request.NoCache = true
	third, thirdOutput := mustBuild(t, b, request)

	tests := []struct {
		name      string
		got, want any
	}{
		{"warm build reuses the image", second.ID, first.ID},
		{"warm build reports cache hits", strings.Contains(secondOutput, "Using cache"), true},
		{"no-cache build makes a new image", third.ID != first.ID, true},
		{"no-cache build uses no cache", strings.Contains(thirdOutput, "Using cache"), false},
		{"no-cache build ran RUN again", readFile(t, b, third.ID, "/built-at") !=
			readFile(t, b, first.ID, "/built-at"), true},
		{"tag moved to the new image", inspect(t, b, "cache/test:latest").ID, third.ID},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if test.got != test.want {
				t.Errorf("got %v, want %v", test.got, test.want)
			}
		})
	}
}

// interfaces returns the interface names listed in a /proc/net/dev text, sorted.
func interfaces(netdev string) string {
	var names []string
	for _, line := range strings.Split(netdev, "\n") {
		if name, _, found := strings.Cut(line, ":"); found {
			names = append(names, strings.TrimSpace(name))
		}
	}
	slices.Sort(names)
	return strings.Join(names, " ")
}

// hostFile reads a file of the machine running the test.
func hostFile(t *testing.T, path string) string {
	t.Helper()
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(content)
}

// TestClose checks that closing a Builder after builds and reads leaves nothing mounted.
func TestClose(t *testing.T) {
	b, err := build.New(context.Background(), buildtest.Store(t))
	if err != nil {
		t.Fatal(err)
	}
	base := buildtest.BaseImage(t, b)
	mustBuild(t, b, buildContext(t, "closing", map[string]string{
		"Dockerfile": "FROM " + base + "\nRUN echo > /file\n",
	}, "close/test:latest"))
	readFile(t, b, "close/test:latest", "/file")
	root := b.Store().GraphRoot()
	if buildtest.Driver() == "overlay" && len(buildtest.MountsUnder(root)) == 0 {
		t.Error("an open overlay store has nothing mounted: the check below proves nothing")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if mounts := buildtest.MountsUnder(root); len(mounts) > 0 {
		t.Errorf("mounted after Close: %v", mounts)
	}
}

// TestNewLogsDefaults checks that New logs each default it chooses once, at Debug.
func TestNewLogsDefaults(t *testing.T) {
	t.Setenv("BUILDAH_ISOLATION", "")
	var logs syncBuffer
	options := buildtest.Store(t)
	options.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{
		Level: slog.LevelDebug,
	}))
	b, err := build.New(context.Background(), options)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	t.Logf("defaults chosen on this machine:\n%s", logs.String())

	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if !strings.Contains(line, "level=DEBUG") {
			t.Errorf("default not logged at Debug: %s", line)
		}
		_, message, _ := strings.Cut(line, "msg=")
		if seen[message] {
			t.Errorf("logged twice: %s", message)
		}
		seen[message] = true
	}
	if !strings.Contains(logs.String(), "chroot isolation") {
		t.Error("the isolation default was not logged")
	}
}
