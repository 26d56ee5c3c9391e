package pipeline

import (
	"context"
	"io"
	"sync"

	"github.com/polardb/imagebuilder/build"
)

// builderRef shares one Builder among the build stages running at once and closes it when the
// last one is done, so no store mount outlives the builds that needed it.
type builderRef struct {
	mu      sync.Mutex
	builder *build.Builder
	users   int
}

func (b *builderRef) acquire(ctx context.Context, o build.Options) (*build.Builder, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.builder == nil {
		builder, err := build.New(ctx, o)
		if err != nil {
			return nil, err
		}
		b.builder = builder
	}
	b.users++
	return b.builder, nil
}

func (b *builderRef) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.users--
	if b.users == 0 && b.builder != nil {
		b.builder.Close()
		b.builder = nil
	}
}

func (b *builderRef) close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.builder == nil {
		return nil
	}
	err := b.builder.Close()
	b.builder = nil
	return err
}

// steps returns the writer for id's step output, or nil when step output is not wanted.
func (r *Run) steps(id string) io.WriteCloser {
	if r.settings.Steps == nil {
		return nil
	}
	return build.PrefixWriter(r.settings.Steps, id+" | ")
}
