package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"go.podman.io/common/libimage"
)

// Inspection describes an image in the store.
type Inspection struct {
	// ID is the image's ID in the store.
	ID string
	// Digest is the digest of the image's manifest in the store.
	Digest string
	// Names are the names the image carries.
	Names []string
	// Labels are the image's labels, inherited ones included.
	Labels map[string]string
	// Env, Cmd, Entrypoint and WorkingDir come from the image's configuration.
	Env, Cmd, Entrypoint []string
	WorkingDir           string
	// OS and Architecture are the image's platform.
	OS, Architecture string
	// Layers are the digests of the layers' uncompressed contents (diff IDs), bottom first.
	Layers []string
	// Created is when the image was committed.
	Created time.Time
}

// Exists reports whether name resolves to an image in the store, without any registry.
func (b *Builder) Exists(name string) bool {
	_, _, err := b.runtime.LookupImage(name, nil)
	return err == nil
}

// Inspect describes the image that name resolves to in the store.
func (b *Builder) Inspect(ctx context.Context, name string) (Inspection, error) {
	image, err := b.lookup(name)
	if err != nil {
		return Inspection{}, err
	}
	data, err := image.Inspect(ctx, nil)
	if err != nil {
		return Inspection{}, fmt.Errorf("inspecting image %q: %w", name, err)
	}
	inspection := Inspection{
		ID:           data.ID,
		Digest:       data.Digest.String(),
		Names:        image.Names(),
		Labels:       data.Labels,
		OS:           data.Os,
		Architecture: data.Architecture,
	}
	if data.Config != nil {
		inspection.Env = data.Config.Env
		inspection.Cmd = data.Config.Cmd
		inspection.Entrypoint = data.Config.Entrypoint
		inspection.WorkingDir = data.Config.WorkingDir
	}
	if data.RootFS != nil {
		for _, layer := range data.RootFS.Layers {
			inspection.Layers = append(inspection.Layers, layer.String())
		}
	}
	if data.Created != nil {
		inspection.Created = *data.Created
	}
	return inspection, nil
}

// ReadFile returns the content of the file at path in the root filesystem of the image that
// name resolves to. Symbolic links are followed inside the image, never out of it.
func (b *Builder) ReadFile(_ context.Context, name, path string) (content []byte, err error) {
	image, err := b.lookup(name)
	if err != nil {
		return nil, err
	}
	root, err := b.store.MountImage(image.ID(), []string{"ro"}, "")
	if err != nil {
		return nil, fmt.Errorf("mounting image %q: %w", name, err)
	}
	defer func() {
		if _, unmountErr := b.store.UnmountImage(image.ID(), false); unmountErr != nil {
			err = errors.Join(err, fmt.Errorf("unmounting image %q: %w", name, unmountErr))
		}
	}()
	resolved, err := securejoin.SecureJoin(root, path)
	if err != nil {
		return nil, fmt.Errorf("resolving %q in image %q: %w", path, name, err)
	}
	content, err = os.ReadFile(resolved)
	if err != nil {
		return nil, fmt.Errorf("reading %q in image %q: %w", path, name, err)
	}
	return content, nil
}

// lookup resolves name in the store only.
func (b *Builder) lookup(name string) (*libimage.Image, error) {
	image, _, err := b.runtime.LookupImage(name, nil)
	if err != nil {
		return nil, fmt.Errorf("looking up image %q in %q: %w", name, b.store.GraphRoot(), err)
	}
	return image, nil
}
