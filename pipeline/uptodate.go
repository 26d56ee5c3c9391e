package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"go.podman.io/buildah/define"

	"github.com/polardb/imagebuilder/build"
	"github.com/polardb/imagebuilder/inputs"
	"github.com/polardb/imagebuilder/plan"
	"github.com/polardb/imagebuilder/stage"
)

// settingsVersion changes whenever the builder starts producing different images from the
// same inputs, so images made by an older builder are rebuilt.
var settingsVersion = "1"

// Decisions about a unit, as the result records them.
const (
	ActionBuilt    = "built"
	ActionUpToDate = "up to date"
)

// decision says whether a unit needs building and why.
type decision struct {
	digest string
	parts  map[string]string
	action string
	why    string
	image  build.Image
}

// decide computes the unit's inputs digest and compares it with the image already in the
// store under the same name.
func (r *Run) decide(ctx context.Context, b *build.Builder, u *plan.Unit, req build.Request) (
	decision, error) {
	in, err := r.inputs(ctx, b, u, req)
	if err != nil {
		return decision{}, err
	}
	d := decision{digest: in.Digest(), parts: in.Parts(), action: ActionBuilt}
	if r.settings.NoCache {
		d.why = "NO_CACHE is set"
		return d, nil
	}
	existing, err := b.Inspect(ctx, req.Tags[0])
	if err != nil {
		d.why = "no image " + req.Tags[0] + " in storage"
		return d, nil
	}
	if existing.Labels[inputs.Label] == d.digest {
		d.action, d.why = ActionUpToDate, "inputs unchanged"
		d.image = build.Image{ID: existing.ID, Digest: existing.Digest, Names: existing.Names}
		return d, nil
	}
	d.why = r.changedSince(u.ID(), d.parts)
	return d, nil
}

// inputs gathers everything that determines u's image.
func (r *Run) inputs(ctx context.Context, b *build.Builder, u *plan.Unit, req build.Request) (
	inputs.Build, error) {
	dockerfile, err := os.ReadFile(req.Dockerfile)
	if err != nil {
		return inputs.Build{}, fmt.Errorf("reading Dockerfile of image %q: %w", u.ID(), err)
	}
	uses, err := inputs.ParseUses(dockerfile, req.BuildArgs)
	if err != nil {
		return inputs.Build{}, fmt.Errorf("reading Dockerfile %q of image %q: %w",
			req.Dockerfile, u.ID(), err)
	}
	// The engine source is the checkout of one commit, which the build arguments name.
	context, err := inputs.Context(req.ContextDir, uses.Paths, []string{stage.SourceDir})
	if err != nil {
		return inputs.Build{}, err
	}
	bases := map[string]string{}
	for _, base := range uses.Bases {
		if image, err := b.Inspect(ctx, base); err == nil {
			bases[base] = image.ID
		} else {
			bases[base] = ""
		}
	}
	return inputs.Build{
		Dockerfile: dockerfile,
		BuildArgs:  req.BuildArgs,
		Labels:     req.Labels,
		Platform:   req.Platform,
		Context:    context,
		Bases:      bases,
		Settings:   map[string]string{"builder": settingsVersion, "buildah": define.Version},
	}, nil
}

// changedSince explains a rebuild by comparing with the inputs recorded at the last build.
func (r *Run) changedSince(id string, parts map[string]string) string {
	data, err := os.ReadFile(r.statePath(id))
	if err != nil {
		return "inputs changed"
	}
	var before map[string]string
	if json.Unmarshal(data, &before) != nil {
		return "inputs changed"
	}
	changed := inputs.Changed(before, parts)
	if len(changed) == 0 {
		return "image in storage was built from other inputs"
	}
	return "changed: " + strings.Join(changed, ", ")
}

func (r *Run) statePath(id string) string {
	return filepath.Join(r.workDir, "state", id+".json")
}

// remember records the inputs u was built from, to explain the next rebuild.
func (r *Run) remember(id string, parts map[string]string) error {
	data, err := json.Marshal(parts)
	if err != nil {
		return err
	}
	path := r.statePath(id)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// withInputsLabel returns labels plus the inputs digest label.
func withInputsLabel(labels map[string]string, digest string) map[string]string {
	out := maps.Clone(labels)
	out[inputs.Label] = digest
	return out
}
