package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"go.podman.io/buildah/define"
	"go.podman.io/buildah/imagebuildah"
)

// Request is one image build: one image for one platform.
type Request struct {
	// ID is the image's id in image.yml, used in messages.
	ID string
	// ContextDir is the build context directory, an absolute path.
	ContextDir string
	// Dockerfile is the Dockerfile's absolute path, inside or outside ContextDir.
	Dockerfile string
	// Tags are the full names to give the result, such as "polardb_pg/engine:15.1.2" or
	// "registry.example.com/polardb_pg/engine:15.1.2". Short names are stored under
	// "localhost/", where later builds find them by the same short name.
	Tags []string
	// BuildArgs are the values for the Dockerfile's ARG instructions.
	BuildArgs map[string]string
	// Labels are set on the image, over any it inherits.
	Labels map[string]string
	// Platform is "os/arch[/variant]" to build for; empty means the host's. A build for
	// another architecture needs emulation for its RUN steps.
	Platform string
	// NoCache rebuilds every step instead of reusing layers from earlier builds.
	NoCache bool
	// Output receives the step-by-step output of the build; nil discards it.
	Output io.Writer
}

// Image is what a successful Build produced.
type Image struct {
	// ID is the image's ID in the store.
	ID string
	// Digest is the digest of the image's manifest in the store.
	Digest string
	// Names are the names the image carries in the store, Request.Tags among them.
	Names []string
}

// Build builds r into the store. Base images already in the store are used as they are;
// missing ones are pulled. On failure or cancellation nothing is tagged and the build's
// working containers and mounts are gone; layers of steps that succeeded stay as cache.
func (b *Builder) Build(ctx context.Context, r Request) (Image, error) {
	if err := ctx.Err(); err != nil {
		return Image{}, fmt.Errorf("building image %q: %w", r.ID, err)
	}
	if err := r.validate(); err != nil {
		return Image{}, err
	}
	options, err := b.buildOptions(r)
	if err != nil {
		return Image{}, err
	}
	id, err := b.run(ctx, r, options)
	if err != nil {
		return Image{}, r.failure(ctx, err)
	}
	stored, err := b.store.Image(id)
	if err != nil {
		return Image{}, fmt.Errorf("reading built image %q of %q: %w", id, r.ID, err)
	}
	return Image{ID: stored.ID, Digest: stored.Digest.String(), Names: stored.Names}, nil
}

// validate checks what buildah would otherwise report less clearly.
func (r Request) validate() error {
	if len(r.Tags) == 0 {
		return fmt.Errorf("building image %q: no tags given", r.ID)
	}
	for _, input := range []struct{ what, path string }{
		{"context directory", r.ContextDir},
		{"Dockerfile", r.Dockerfile},
	} {
		if !filepath.IsAbs(input.path) {
			return fmt.Errorf("building image %q: %s %q is not an absolute path",
				r.ID, input.what, input.path)
		}
		if _, err := os.Stat(input.path); err != nil {
			return fmt.Errorf("building image %q: reading %s: %w", r.ID, input.what, err)
		}
	}
	return nil
}

// buildOptions translates r into buildah's options with the Builder's settings.
func (b *Builder) buildOptions(r Request) (define.BuildOptions, error) {
	system := b.system
	options := define.BuildOptions{
		ContextDirectory:        r.ContextDir,
		PullPolicy:              define.PullIfMissing,
		Isolation:               b.settings.isolation,
		Args:                    maps.Clone(r.BuildArgs),
		Output:                  r.Tags[0],
		AdditionalTags:          r.Tags[1:],
		Labels:                  keyValues(r.Labels),
		Layers:                  true,
		NoCache:                 r.NoCache,
		RemoveIntermediateCtrs:  true,
		ForceRmIntermediateCtrs: true,
		OutputFormat:            define.Dockerv2ImageManifest,
		SignaturePolicyPath:     b.settings.policyPath,
		SystemContext:           &system,
		NetworkInterface:        b.settings.network,
		NamespaceOptions:        []define.NamespaceOption{{Name: "network", Host: true}},
		CommonBuildOpts:         &define.CommonBuildOptions{Ulimit: b.settings.ulimits},
	}
	if r.Platform != "" {
		platform, err := platforms.Parse(r.Platform)
		if err != nil {
			return options, fmt.Errorf("building image %q: reading platform %q: %w; "+
				"write it as os/arch[/variant], such as linux/arm64", r.ID, r.Platform, err)
		}
		options.Platforms = []struct{ OS, Arch, Variant string }{
			{platform.OS, platform.Architecture, platform.Variant},
		}
	}
	return options, nil
}

// keyValues renders m as sorted "key=value" strings.
func keyValues(m map[string]string) []string {
	var pairs []string
	for _, key := range slices.Sorted(maps.Keys(m)) {
		pairs = append(pairs, key+"="+m[key])
	}
	return pairs
}

// run builds with the build's output and error streams on a pipe of its own, so that a
// cancellation can stop exactly this build's RUN processes.
func (b *Builder) run(ctx context.Context, r Request, options define.BuildOptions) (
	string, error) {
	stream, err := newOutputStream(r.Output)
	if err != nil {
		return "", fmt.Errorf("building image %q: %w", r.ID, err)
	}
	defer stream.close()
	options.Out, options.Err, options.ReportWriter = stream.writer, stream.writer, stream.writer

	done := make(chan buildResult, 1)
	go func() {
		id, _, err := imagebuildah.BuildDockerfiles(ctx, b.store, options, r.Dockerfile)
		done <- buildResult{id, err}
	}()
	select {
	case finished := <-done:
		return finished.id, finished.err
	case <-ctx.Done():
	}
	finished := stream.stopUntil(done)
	return finished.id, errors.Join(ctx.Err(), finished.err)
}

// buildResult is what imagebuildah returned.
type buildResult struct {
	id  string
	err error
}

// failure decorates a build error with the image, the Dockerfile and a hint.
func (r Request) failure(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("building image %q from %q: interrupted: %w", r.ID, r.Dockerfile,
			ctx.Err())
	}
	message := err.Error()
	if base, ok := missingBase(message); ok {
		return fmt.Errorf("building image %q from %q: base image %q is neither in local "+
			"storage nor pullable; build it first or correct the FROM line: %w",
			r.ID, r.Dockerfile, base, err)
	}
	return fmt.Errorf("building image %q from %q: %w", r.ID, r.Dockerfile, err)
}

// missingBase finds the image named in buildah's report of a failed pull of a base image.
func missingBase(message string) (string, bool) {
	for _, marker := range []string{"initializing source docker://", "pulling image \""} {
		_, rest, found := strings.Cut(message, marker)
		if !found {
			continue
		}
		if end := strings.IndexAny(rest, "\" "); end >= 0 {
			rest = rest[:end]
		}
		return strings.TrimSuffix(rest, ":"), true
	}
	return "", false
}
