package build_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/polardb/imagebuilder/build"
	"github.com/polardb/imagebuilder/internal/buildtest"
	"golang.org/x/sys/unix"
)

// benchImages are three small images on the busybox base, each with COPY and RUN.
var benchImages = map[string]map[string]string{
	"bench/config": {
		"Dockerfile": "FROM {base}\nCOPY postgresql.conf /etc/postgresql.conf\n" +
			"RUN sha256sum /etc/postgresql.conf > /etc/postgresql.conf.sum\n",
		"postgresql.conf": strings.Repeat("shared_buffers = 128MB\n", 40000),
	},
	"bench/tree": {
		"Dockerfile": "FROM {base}\nCOPY tree /opt/tree\n" +
			"RUN find /opt/tree -type f | wc -l > /count\n",
	},
	"bench/labels": {
		"Dockerfile": "FROM {base}\nARG VERSION=1\nCOPY version /version\n" +
			"RUN echo $VERSION >> /version && mkdir -p /data\nLABEL version=$VERSION\n" +
			"ENV PGDATA=/data\n",
		"version": "15.14.4.0\n",
	},
}

// BenchmarkBuild builds the three benchImages per operation, through a Builder and through
// the buildah command, each on a store of its own holding only the base image: cold (no
// cache) and warm (every step cached), plus the Builder running the three builds at once.
func BenchmarkBuild(b *testing.B) {
	cli, err := exec.LookPath("buildah")
	if err != nil {
		b.Skip("the buildah command is the peer here: apt-get install buildah")
	}
	contexts := benchContexts(b)
	builder := buildtest.Builder(b)
	base := buildtest.BaseImage(b, builder)
	peer := newCLIStore(b, cli, base)

	run := func(name string, noCache bool, buildAll func(noCache bool) error) {
		b.Run(name, func(b *testing.B) {
			if err := buildAll(false); err != nil { // fills the cache for warm runs
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if err := buildAll(noCache); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	viaBuilder := func(concurrent bool) func(bool) error {
		return func(noCache bool) error {
			return builderBuildAll(builder, contexts, base, noCache, concurrent)
		}
	}
	run("cold/builder", true, viaBuilder(false))
	run("cold/buildah-cli", true, peer.buildAll(contexts))
	run("cold/builder-concurrent", true, viaBuilder(true))
	run("warm/builder", false, viaBuilder(false))
	run("warm/buildah-cli", false, peer.buildAll(contexts))
}

// benchContexts writes the context directories of benchImages, by image name.
func benchContexts(b *testing.B) map[string]string {
	b.Helper()
	contexts := map[string]string{}
	for name, files := range benchImages {
		dir := b.TempDir()
		for file, content := range files {
			writeBenchFile(b, filepath.Join(dir, file), content)
		}
		if name == "bench/tree" {
			for i := range 50 {
				writeBenchFile(b, filepath.Join(dir, "tree", fmt.Sprintf("d%d/f%d", i%5, i)),
					strings.Repeat("x", 100*i))
			}
		}
		contexts[name] = dir
	}
	return contexts
}

// writeBenchFile writes content to path, creating directories.
func writeBenchFile(b *testing.B, path, content string) {
	b.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
}

// builderBuildAll builds every context with builder, one after the other or all at once.
func builderBuildAll(builder *build.Builder, contexts map[string]string, base string,
	noCache, concurrent bool) error {
	errs := make(chan error, len(contexts))
	var wg sync.WaitGroup
	for name, dir := range contexts {
		buildOne := func() {
			dockerfile, err := benchDockerfile(dir, base)
			if err == nil {
				_, err = builder.Build(context.Background(), build.Request{
					ID: name, ContextDir: dir, Dockerfile: dockerfile,
					Tags: []string{name}, NoCache: noCache,
				})
			}
			errs <- err
		}
		if concurrent {
			wg.Go(buildOne)
		} else {
			buildOne()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// benchDockerfile writes the context's Dockerfile with base filled in, outside the
// context, and returns its path.
func benchDockerfile(dir, base string) (string, error) {
	content, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		return "", err
	}
	path := filepath.Join(filepath.Dir(dir), filepath.Base(dir)+".Dockerfile")
	filled := strings.ReplaceAll(string(content), "{base}", base)
	return path, os.WriteFile(path, []byte(filled), 0o644)
}

// cliStore is a store that the buildah command builds into.
type cliStore struct {
	command    string
	flags      []string // global flags naming the store
	buildFlags []string
}

// newCLIStore makes a store of its own for the buildah command, with the base image built
// into it by the same command from the same context.
func newCLIStore(b *testing.B, command, base string) *cliStore {
	b.Helper()
	options := buildtest.Store(b)
	s := &cliStore{
		command: command,
		flags: []string{"--root", options.GraphRoot, "--runroot", options.RunRoot,
			"--storage-driver", options.Driver},
		buildFlags: append([]string{"--isolation", "chroot", "--network", "host",
			"--layers", "--quiet", "--format", "docker"}, cliUlimits()...),
	}
	baseDir := buildtest.BaseContext(b)
	if err := s.build(base, baseDir, filepath.Join(baseDir, "Dockerfile"), false); err != nil {
		b.Fatal(err)
	}
	return s
}

// buildAll returns a function that builds every context with the command.
func (s *cliStore) buildAll(contexts map[string]string) func(bool) error {
	return func(noCache bool) error {
		for name, dir := range contexts {
			dockerfile, err := benchDockerfile(dir, buildtest.BaseName)
			if err != nil {
				return err
			}
			if err := s.build(name, dir, dockerfile, noCache); err != nil {
				return err
			}
		}
		return nil
	}
}

// build runs buildah bud once.
func (s *cliStore) build(name, dir, dockerfile string, noCache bool) error {
	args := append(append(append([]string{}, s.flags...), "bud"), s.buildFlags...)
	if noCache {
		args = append(args, "--no-cache")
	}
	args = append(args, "-t", name, "-f", dockerfile, dir)
	output, err := exec.Command(s.command, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("buildah %s: %w\n%s", strings.Join(args, " "), err, output)
	}
	return nil
}

// cliUlimits keeps the command's RUN steps within its hard limits, as the Builder does:
// nofile at the hard limit, and nproc no higher than 32768, the limit buildah 1.28 sets on
// itself when it starts (seen in /proc/PID/limits of a running build).
func cliUlimits() []string {
	const cliNproc = 32768
	var nofile, nproc unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &nofile) != nil ||
		unix.Getrlimit(unix.RLIMIT_NPROC, &nproc) != nil {
		return nil
	}
	nproc.Max = min(nproc.Max, cliNproc)
	return []string{
		"--ulimit", fmt.Sprintf("nofile=%d:%d", nofile.Max, nofile.Max),
		"--ulimit", fmt.Sprintf("nproc=%d:%d", nproc.Max, nproc.Max),
	}
}
