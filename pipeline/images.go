package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/polardb/imagebuilder/build"
	"github.com/polardb/imagebuilder/plan"
	"github.com/polardb/imagebuilder/result"
)

// future is one unit's build, started once and awaited by everyone who needs it.
type future struct {
	done   chan struct{}
	image  build.Image
	took   time.Duration
	action string
	why    string
	pushed []result.Pushed
	err    error
}

// BuildEngines builds every planned engine image.
func (r *Run) BuildEngines(ctx context.Context) error {
	return r.buildUnits(ctx, r.Plan.Engines())
}

// BuildManagers builds every planned manager image, each as soon as its own engine is built.
func (r *Run) BuildManagers(ctx context.Context) error {
	return r.buildUnits(ctx, r.Plan.Managers())
}

// buildUnits builds units concurrently, bounded by the run's jobs, and records the result of
// everything built so far when all succeeded.
func (r *Run) buildUnits(ctx context.Context, units []*plan.Unit) error {
	if err := r.Template(ctx); err != nil {
		return err
	}
	builder, err := r.builder.acquire(ctx, r.builderOptions())
	if err != nil {
		return err
	}
	defer r.builder.release()

	var wg sync.WaitGroup
	for _, u := range units {
		wg.Go(func() { r.await(ctx, builder, u) })
	}
	wg.Wait()
	if err := r.failures(units); err != nil {
		return err
	}
	return r.writeResult()
}

// failures joins the errors of units and of the engines they were built on, each once, in
// plan order.
func (r *Run) failures(units []*plan.Unit) error {
	involved := map[string]bool{}
	for _, u := range units {
		involved[u.ID()] = true
		if !u.IsEngine() {
			involved[u.Engine] = true
		}
	}
	var errs []error
	for _, u := range r.Plan.Units {
		r.mu.Lock()
		f, ok := r.builds[u.ID()]
		r.mu.Unlock()
		if ok && involved[u.ID()] && f.err != nil {
			errs = append(errs, f.err)
		}
	}
	return errors.Join(errs...)
}

// await starts u's build unless it has started already, and waits for it.
func (r *Run) await(ctx context.Context, builder *build.Builder, u *plan.Unit) *future {
	r.mu.Lock()
	f, started := r.builds[u.ID()]
	if !started {
		f = &future{done: make(chan struct{})}
		r.builds[u.ID()] = f
	}
	r.mu.Unlock()
	if !started {
		r.buildUnit(ctx, builder, u, f)
		close(f.done)
	}
	<-f.done
	return f
}

// buildUnit builds u into f, unless the image in storage was built from the same inputs.
func (r *Run) buildUnit(ctx context.Context, builder *build.Builder, u *plan.Unit, f *future) {
	engineName := ""
	if !u.IsEngine() {
		engine, _ := r.Plan.Unit(u.Engine)
		if ef := r.await(ctx, builder, engine); ef.err != nil {
			f.err = fmt.Errorf("building image %q: not started, its engine image %q failed",
				u.ID(), u.Engine)
			return
		}
		engineName, _ = r.FullName(u.Engine)
	}
	select {
	case r.slots <- struct{}{}:
		defer func() { <-r.slots }()
	case <-ctx.Done():
		f.err = fmt.Errorf("building image %q: %w", u.ID(), ctx.Err())
		return
	}

	request := r.request(u, engineName)
	d, err := r.decide(ctx, builder, u, request)
	if err != nil {
		f.err = err
		return
	}
	f.action, f.why = d.action, d.why
	if d.action == ActionUpToDate {
		f.image = d.image
		r.out.printf("up to date %s %s", u.ID(), shortID(d.image.ID))
		return
	}
	request.Labels = withInputsLabel(request.Labels, d.digest)
	f.image, f.took, f.err = r.runBuild(ctx, builder, u, request, d.why)
	if f.err == nil {
		f.err = r.remember(u.ID(), d.parts)
	}
}

func (r *Run) runBuild(ctx context.Context, builder *build.Builder, u *plan.Unit,
	request build.Request, why string) (build.Image, time.Duration, error) {
	if steps := r.steps(u.ID()); steps != nil {
		request.Output = steps
		defer steps.Close()
	}
	r.out.printf("building %s as %s (%s)", u.ID(), request.Tags[0], why)
	start := time.Now()
	image, err := builder.Build(ctx, request)
	took := time.Since(start)
	if err != nil {
		r.out.printf("failed %s after %s", u.ID(), took.Round(10*time.Millisecond))
		return build.Image{}, took, err
	}
	r.out.printf("built %s %s in %s", u.ID(), shortID(image.ID), took.Round(10*time.Millisecond))
	return image, took, nil
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// writeResult records every image this run has built, in plan order, unless a build of this
// run failed.
func (r *Run) writeResult() error {
	out := result.Result{Config: r.Config.Path}
	for _, u := range r.Plan.Units {
		r.mu.Lock()
		f, ok := r.builds[u.ID()]
		r.mu.Unlock()
		if !ok {
			continue
		}
		<-f.done
		if f.err != nil {
			// The run fails: the previous result files stay as they were.
			return nil
		}
		out.Images = append(out.Images, r.record(u, f))
	}
	if err := result.Write(r.Config.ResultPath(), out); err != nil {
		return err
	}
	return nil
}

func (r *Run) record(u *plan.Unit, f *future) result.Image {
	name, _ := r.FullName(u.ID())
	image := result.Image{
		ID:       u.ID(),
		Type:     string(u.Image.Type),
		Names:    []string{name},
		ImageID:  f.image.ID,
		Digest:   f.image.Digest,
		Platform: u.Platform,
		Reason:   u.Reason,
		Engine:   u.Engine,
		Action:   f.action,
		Why:      f.why,
		Pushed:   f.pushed,
		Seconds:  f.took.Seconds(),
	}
	if u.IsEngine() {
		image.EngineRepo = plan.Redact(u.Source.Repo)
		image.EngineRef = u.Source.Ref
		image.EngineCommit = r.checkouts[u.Source].Commit
	}
	return image
}
