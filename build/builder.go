// Package build turns a Dockerfile and a build context into an image in containers storage,
// in-process, with the buildah library: no Docker daemon and no buildah or podman command.
//
// A Builder owns one open store. It fills in what a bare machine lacks (a signature policy,
// a network backend, short-name resolution, resource limits) with defaults that never override
// the user's own containers configuration, and it builds any number of images concurrently.
package build

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"go.podman.io/common/libimage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// Options configures a Builder.
type Options struct {
	// GraphRoot, RunRoot and Driver override the store; empty means the user's standard
	// containers storage (storage.conf, CONTAINERS_STORAGE_CONF, rootless defaults), the one
	// podman and buildah use.
	GraphRoot, RunRoot, Driver string
	// StateDir is where the Builder may write files of its own, such as a signature policy
	// for machines that have none. It is created when needed.
	StateDir string
	// Logger receives one Debug line for every default the Builder chooses, and buildah's
	// own warnings. Nil means silent.
	Logger *slog.Logger
}

// Builder builds images into one containers store. Its methods are safe for concurrent use.
// A process should hold at most one Builder per store: the library shares an open store
// between everyone who opens the same roots, and Close shuts it down for all of them.
type Builder struct {
	store    storage.Store
	runtime  *libimage.Runtime
	system   types.SystemContext
	settings settings
	logger   *slog.Logger

	closeOnce sync.Once
	closeErr  error
}

// New opens the store named by o and settles the build settings for this machine.
func New(ctx context.Context, o Options) (*Builder, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	routeLibraryLogs(logger)

	store, err := openStore(o)
	if err != nil {
		return nil, err
	}
	b := &Builder{store: store, logger: logger}
	if err := b.settle(o.StateDir); err != nil {
		return nil, errors.Join(err, shutdown(store))
	}
	return b, nil
}

// openStore opens the user's standard store, with o's roots and driver put over it.
func openStore(o Options) (storage.Store, error) {
	storeOptions, err := storage.DefaultStoreOptions()
	if err != nil {
		return nil, fmt.Errorf("reading containers storage configuration: %w", err)
	}
	if o.GraphRoot != "" {
		storeOptions.GraphRoot = o.GraphRoot
	}
	if o.RunRoot != "" {
		storeOptions.RunRoot = o.RunRoot
	}
	if o.Driver != "" {
		storeOptions.GraphDriverName = o.Driver
		storeOptions.GraphDriverOptions = nil
	}
	store, err := storage.GetStore(storeOptions)
	if err != nil {
		return nil, fmt.Errorf("opening containers storage %q: %w", storeOptions.GraphRoot, err)
	}
	return store, nil
}

// settle chooses the defaults this machine needs and opens the image runtime with them.
func (b *Builder) settle(stateDir string) error {
	s, err := chooseSettings(b.store, stateDir, b.logger)
	if err != nil {
		return err
	}
	b.settings = s
	b.system = types.SystemContext{
		SignaturePolicyPath:      s.policyPath,
		SystemRegistriesConfPath: s.registriesPath,
	}
	system := b.system
	b.runtime, err = libimage.RuntimeFromStore(b.store, &libimage.RuntimeOptions{
		SystemContext: &system,
	})
	if err != nil {
		return fmt.Errorf("opening images in %q: %w", b.store.GraphRoot(), err)
	}
	return nil
}

// Store returns the open store, for callers that hand it to other buildah functions
// (pushing, for one). It stays valid until Close.
func (b *Builder) Store() storage.Store {
	return b.store
}

// SystemContext returns a copy of the settings that image copies from and to this store
// should use: the signature policy and registries configuration the Builder chose.
func (b *Builder) SystemContext() *types.SystemContext {
	system := b.system
	return &system
}

// Close unmounts everything the store still has mounted and releases it. No build may be
// running when it is called.
func (b *Builder) Close() error {
	b.closeOnce.Do(func() {
		b.closeErr = shutdown(b.store)
	})
	return b.closeErr
}

// shutdown unmounts every layer of store and lets its driver clean up. Storage skips the
// driver's cleanup when it had to force layers off, so a second pass finishes the job.
func shutdown(store storage.Store) error {
	var err error
	for range 2 {
		if _, err = store.Shutdown(true); !errors.Is(err, storage.ErrLayerUsedByContainer) {
			break
		}
	}
	store.Free()
	if err != nil {
		return fmt.Errorf("closing containers storage %q: %w", store.GraphRoot(), err)
	}
	return nil
}
