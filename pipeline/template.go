package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/polardb/imagebuilder/plan"
	"github.com/polardb/imagebuilder/stage"
)

// Template stages every planned image's build context: engines get their source's config
// template at rootfs/postgresql.conf and the source at engine-source/; managers the project
// tree alone.
func (r *Run) Template(ctx context.Context) error {
	return r.stageOnce.do(func() error {
		if err := r.Fetch(ctx); err != nil {
			return err
		}
		stager := r.stager()
		var errs []error
		for _, u := range r.Plan.Units {
			c, err := r.stageUnit(ctx, stager, u.ID())
			if err != nil {
				errs = append(errs, err)
				continue
			}
			r.mu.Lock()
			r.contexts[u.ID()] = c
			r.mu.Unlock()
		}
		return errors.Join(errs...)
	})
}

func (r *Run) stager() *stage.Stager {
	return &stage.Stager{
		Root:    r.workDir + "/contexts",
		Project: r.Config.Dir,
		Skip:    []string{r.workDir, r.Config.ResultPath(), r.Config.ResultPath() + ".json"},
	}
}

func (r *Run) stageUnit(ctx context.Context, stager *stage.Stager, id string) (
	*stage.Context, error) {
	u, _ := r.Plan.Unit(id)
	if !u.IsEngine() {
		c, err := stager.Manager(ctx)
		if err != nil {
			return nil, fmt.Errorf("staging context for image %q: %w", id, err)
		}
		return c, nil
	}
	checkout := r.checkouts[u.Source]
	c, err := stager.Engine(ctx, stage.Engine{Dir: checkout.Dir,
		Template: u.Image.EngineConfigTemplate, Commit: checkout.Commit})
	if errors.Is(err, stage.ErrTemplateMissing) {
		return nil, fmt.Errorf("staging config template for image %q: %q is not in %s at %q "+
			"(commit %s); check engine_config_template, or the ref may hold no engine source "+
			"(PolarDB's main branch no longer does: use a stable branch such as "+
			"POLARDB_15_STABLE)", id, u.Image.EngineConfigTemplate, plan.Redact(u.Source.Repo),
			u.Source.Ref,
			short(checkout.Commit))
	}
	if err != nil {
		return nil, fmt.Errorf("staging context for image %q: %w", id, err)
	}
	r.out.printf("staged %s: template %s", id, u.Image.EngineConfigTemplate)
	return c, nil
}
