// Package buildtest gives tests real image builds: a temporary containers store that is
// unmounted and removed afterwards, and a small busybox base image to build on.
package buildtest

import (
	"bufio"
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/polardb/imagebuilder/build"
	"go.podman.io/storage"
	"golang.org/x/sys/unix"
)

// BaseName is the name BaseImage gives the busybox base image.
const BaseName = "localhost/buildtest/busybox:latest"

// busyboxPath is where the Debian package busybox-static installs its binary.
const busyboxPath = "/bin/busybox"

var (
	driverOnce sync.Once
	driverName string
	baseLock   sync.Mutex
)

// Store returns options for a new, empty store in a temporary directory: overlay where this
// machine supports it, vfs otherwise. At cleanup everything mounted under it is unmounted
// before the directory is removed. It skips the test unless the process is root, which it
// also is inside the user namespace that build.Reexec sets up for other users.
func Store(t testing.TB) build.Options {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("building images needs root, or a user namespace: " +
			"run with IMAGEBUILDER_ROOTLESS=1 as a user with subordinate IDs")
	}
	root := t.TempDir()
	t.Cleanup(func() { unmountUnder(t, root) })
	return build.Options{
		GraphRoot: filepath.Join(root, "graph"),
		RunRoot:   filepath.Join(root, "run"),
		Driver:    Driver(),
		StateDir:  filepath.Join(root, "state"),
	}
}

// Builder returns a Builder on a new store from Store, closed at cleanup.
func Builder(t testing.TB) *build.Builder {
	t.Helper()
	b, err := build.New(context.Background(), Store(t))
	if err != nil {
		t.Fatalf("opening a test store: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("closing the test store: %v", err)
		}
	})
	return b
}

// Driver returns the storage driver test stores use: overlay if a store on it opens here,
// vfs if not.
func Driver() string {
	driverOnce.Do(func() {
		driverName = "vfs"
		if overlayWorks() {
			driverName = "overlay"
		}
	})
	return driverName
}

// overlayWorks opens a throwaway overlay store.
func overlayWorks() bool {
	root, err := os.MkdirTemp("", "buildtest-probe-")
	if err != nil {
		return false
	}
	defer os.RemoveAll(root)
	store, err := storage.GetStore(storage.StoreOptions{
		GraphRoot:       filepath.Join(root, "graph"),
		RunRoot:         filepath.Join(root, "run"),
		GraphDriverName: "overlay",
	})
	if err != nil {
		return false
	}
	_, err = store.GraphDriver()
	_, _ = store.Shutdown(true)
	store.Free()
	detachUnder(root)
	return err == nil
}

// unmountUnder detaches every mount below root, deepest first, and reports them: a Builder
// that was closed leaves none.
func unmountUnder(t testing.TB, root string) {
	t.Helper()
	if left := detachUnder(root); len(left) > 0 {
		t.Logf("unmounted what the test left mounted under %s: %v", root, left)
	}
}

// detachUnder detaches every mount below root and returns their paths.
func detachUnder(root string) []string {
	mounts := MountsUnder(root)
	slices.SortFunc(mounts, func(a, b string) int { return len(b) - len(a) })
	for _, mount := range mounts {
		_ = unix.Unmount(mount, unix.MNT_DETACH)
	}
	return mounts
}

// MountsUnder lists the mount points of this process's mount namespace at or below root.
func MountsUnder(root string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var mounts []string
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		fields := strings.Fields(lines.Text())
		if len(fields) < 5 {
			continue
		}
		point := unescapeMount(fields[4])
		if point == root || strings.HasPrefix(point, root+"/") {
			mounts = append(mounts, point)
		}
	}
	return mounts
}

// unescapeMount undoes the octal escapes of spaces and tabs in mountinfo paths.
func unescapeMount(path string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\134`, `\`).Replace(path)
}

// BaseImage returns the name of a small base image in b's store, building it the first
// time: FROM scratch with a static busybox, its applets linked into /bin, so that
// shell-form RUN works. It needs the Debian package busybox-static.
func BaseImage(t testing.TB, b *build.Builder) string {
	t.Helper()
	baseLock.Lock()
	defer baseLock.Unlock()
	if b.Exists(BaseName) {
		return BaseName
	}
	dir := BaseContext(t)
	_, err := b.Build(context.Background(), build.Request{
		ID:         "buildtest-busybox",
		ContextDir: dir,
		Dockerfile: filepath.Join(dir, "Dockerfile"),
		Tags:       []string{BaseName},
	})
	if err != nil {
		t.Fatalf("building the busybox base image: %v", err)
	}
	return BaseName
}

// BaseContext writes the build context of the base image, a static busybox and a
// Dockerfile, into a new directory and returns it, for building the base with other tools.
func BaseContext(t testing.TB) string {
	t.Helper()
	requireStaticBusybox(t)
	dir := t.TempDir()
	busybox, err := os.ReadFile(busyboxPath)
	if err != nil {
		t.Fatalf("reading %s: %v", busyboxPath, err)
	}
	writeFile(t, filepath.Join(dir, "busybox"), string(busybox), 0o755)
	writeFile(t, filepath.Join(dir, "Dockerfile"), baseDockerfile, 0o644)
	return dir
}

// baseDockerfile makes the base image from a context holding only busybox.
const baseDockerfile = `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && mkdir -p -m 1777 /tmp"]
ENV PATH=/bin
`

// requireStaticBusybox fails the test unless busyboxPath is a statically linked program,
// the only kind that runs in an image with nothing else in it.
func requireStaticBusybox(t testing.TB) {
	t.Helper()
	const install = "install it with: apt-get install busybox-static"
	program, err := elf.Open(busyboxPath)
	if err != nil {
		t.Fatalf("opening %s: %v; %s", busyboxPath, err, install)
	}
	defer program.Close()
	for _, header := range program.Progs {
		if header.Type == elf.PT_INTERP {
			t.Fatalf("%s is dynamically linked; %s", busyboxPath, install)
		}
	}
}

// writeFile writes content to path or fails the test.
func writeFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
}
