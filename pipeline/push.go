package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/distribution/reference"

	"github.com/polardb/imagebuilder/config"
	"github.com/polardb/imagebuilder/plan"
	"github.com/polardb/imagebuilder/push"
	"github.com/polardb/imagebuilder/result"
)

// Push pushes every planned image whose push is true to each of its destinations. It builds
// what is not built yet; an image whose build failed is not pushed. A failing destination
// does not stop the others, and the run still fails.
func (r *Run) Push(ctx context.Context, o push.Options) error {
	var units []*plan.Unit
	for _, u := range r.Plan.Units {
		if u.Image.Push {
			units = append(units, u)
		}
	}
	if len(units) == 0 {
		r.out.printf("nothing to push: no planned image has push: true")
		return nil
	}
	if err := r.buildUnits(ctx, units); err != nil {
		return err
	}
	builder, err := r.builder.acquire(ctx, r.builderOptions())
	if err != nil {
		return err
	}
	defer r.builder.release()
	if o.Logger == nil {
		o.Logger = r.settings.Logger
	}
	pusher := push.New(builder, o)
	state := r.loadPushState()

	errs := make([]error, len(units))
	var wg sync.WaitGroup
	for i, u := range units {
		wg.Go(func() { errs[i] = r.pushUnit(ctx, pusher, u, state) })
	}
	wg.Wait()
	r.mu.Lock()
	saveErr := r.savePushState(state)
	r.mu.Unlock()
	if err := errors.Join(append(errs, saveErr)...); err != nil {
		return err
	}
	return r.writeResult()
}

func (r *Run) pushUnit(ctx context.Context, pusher *push.Pusher, u *plan.Unit,
	state map[string]pushRecord) error {
	dests, err := r.destinations(u)
	if err != nil {
		return err
	}
	select {
	case r.slots <- struct{}{}:
		defer func() { <-r.slots }()
	case <-ctx.Done():
		return fmt.Errorf("pushing image %q: %w", u.ID(), ctx.Err())
	}
	r.mu.Lock()
	f := r.builds[u.ID()]
	r.mu.Unlock()

	var errs []error
	for _, dest := range dests {
		if digest, ok := r.alreadyPushed(ctx, pusher, f, dest, state); ok {
			r.out.printf("up to date %s at %s@%s", u.ID(), dest, digest)
			r.recordPush(f, dest.String(), digest, ActionUpToDate, state)
			continue
		}
		unlock := r.lockDestination(dest)
		r.out.printf("pushing %s to %s", u.ID(), dest)
		pushed, err := pusher.Push(ctx, f.image.ID, dest)
		unlock()
		if err != nil {
			r.out.printf("failed pushing %s to %s", u.ID(), dest)
			errs = append(errs, err)
			continue
		}
		r.out.printf("pushed %s to %s@%s", u.ID(), pushed.Destination, pushed.Digest)
		r.recordPush(f, pushed.Destination, pushed.Digest, "pushed", state)
	}
	return errors.Join(errs...)
}

// alreadyPushed reports whether dest holds what the last push of this same image sent
// there, so pushing again would change nothing.
func (r *Run) alreadyPushed(ctx context.Context, pusher *push.Pusher, f *future,
	dest push.Destination, state map[string]pushRecord) (string, bool) {
	r.mu.Lock()
	last, ok := state[dest.String()]
	r.mu.Unlock()
	if r.settings.NoCache || !ok || last.ImageID != f.image.ID {
		return "", false
	}
	holds, err := pusher.Holds(ctx, dest, last.Digest)
	if err != nil {
		r.settings.Logger.Debug("checking destination", "destination", dest.String(),
			"error", err)
	}
	return last.Digest, holds
}

func (r *Run) recordPush(f *future, dest, digest, action string, state map[string]pushRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f.pushed = append(f.pushed, result.Pushed{Destination: dest, Digest: digest, Action: action})
	state[dest] = pushRecord{ImageID: f.image.ID, Digest: digest}
}

// lockDestination serialises pushes into one local layout or archive; registries take
// concurrent pushes.
func (r *Run) lockDestination(dest push.Destination) func() {
	if dest.Transport() == "docker" {
		return func() {}
	}
	return r.destLocks.Lock(strings.SplitN(dest.String(), ":", 3)[1])
}

// destinations expands the unit's push_to and push_tags into destinations: every tag in
// every repository and OCI layout, the first tag in archives.
func (r *Run) destinations(u *plan.Unit) ([]push.Destination, error) {
	tags, err := config.RenderTags(u.Image.PushTags, r.tagValues(u))
	if err != nil {
		return nil, fmt.Errorf("pushing image %q: %w", u.ID(), err)
	}
	repository, err := reference.ParseNormalizedNamed(u.Image.Name)
	if err != nil {
		return nil, fmt.Errorf("pushing image %q: %w", u.ID(), err)
	}
	targets := u.Image.PushTo
	if len(targets) == 0 {
		targets = []string{repository.Name()}
	}
	var dests []push.Destination
	for _, target := range targets {
		for _, ref := range expandTarget(target, repository.Name(), tags) {
			dest, err := push.ParseDestination(ref)
			if err != nil {
				return nil, fmt.Errorf("pushing image %q: %w", u.ID(), err)
			}
			dests = append(dests, dest)
		}
	}
	return dests, nil
}

func expandTarget(target, repository string, tags []string) []string {
	transport, _, _ := strings.Cut(target, ":")
	switch {
	case !config.IsTransport(target) || transport == "docker" || transport == "oci":
		refs := make([]string, len(tags))
		for i, tag := range tags {
			refs[i] = target + ":" + tag
		}
		return refs
	case transport == "docker-archive":
		return []string{target + ":" + repository + ":" + tags[0]}
	case transport == "dir":
		return []string{target}
	default:
		return []string{target + ":" + tags[0]}
	}
}

// tagValues are the values push_tags templates expand with: the engine source's version
// and commit (a manager's engine's) and the image's own tag.
func (r *Run) tagValues(u *plan.Unit) config.TagValues {
	name, _ := r.FullName(u.ID())
	engine := u
	if !u.IsEngine() {
		engine, _ = r.Plan.Unit(u.Engine)
	}
	checkout := r.checkouts[engine.Source]
	releaseDate := checkout.Version.ReleaseDate
	if releaseDate == "" {
		releaseDate = checkout.CommitTime.UTC().Format("20060102")
	}
	return config.TagValues{
		Tag:         tagOf(name),
		Major:       checkout.Version.Major,
		PGVersion:   checkout.Version.PG,
		Version:     checkout.Version.Full,
		ReleaseDate: releaseDate,
		Commit:      checkout.Commit,
		ShortCommit: short(checkout.Commit),
	}
}
