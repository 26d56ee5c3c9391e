package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/polardb/imagebuilder/plan"
	"github.com/polardb/imagebuilder/source"
	"github.com/polardb/imagebuilder/tag"
)

// Fetch brings every engine source of the plan up to date, one checkout per repository and
// ref, and derives the images' full names from what it fetched.
func (r *Run) Fetch(ctx context.Context) error {
	return r.fetchOnce.do(func() error {
		if err := r.lockWorkDir(); err != nil {
			return err
		}
		sources := r.Plan.Sources()
		errs := make([]error, len(sources))
		var wg sync.WaitGroup
		for i, s := range sources {
			wg.Go(func() { errs[i] = r.fetchSource(ctx, s) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		names, err := r.deriveNames(r.checkouts)
		if err != nil {
			return err
		}
		r.mu.Lock()
		r.names = names
		r.mu.Unlock()
		return nil
	})
}

func (r *Run) fetchSource(ctx context.Context, s plan.Source) error {
	spec := source.Spec{Repo: s.Repo, Ref: s.Ref}
	r.out.printf("fetching %s", spec)
	start := time.Now()
	checkout, err := r.fetcher().Fetch(ctx, spec)
	if err != nil {
		return fmt.Errorf("fetching engine source for %s: %w", r.imagesUsing(s), err)
	}
	r.out.printf("fetched %s: commit %s%s (%s)", spec, short(checkout.Commit),
		versionNote(checkout), since(start))
	r.mu.Lock()
	r.checkouts[s] = checkout
	r.mu.Unlock()
	return nil
}

func (r *Run) imagesUsing(s plan.Source) string {
	var ids []string
	for _, u := range r.Plan.Engines() {
		if u.Source == s {
			ids = append(ids, fmt.Sprintf("%q", u.ID()))
		}
	}
	return "image " + strings.Join(ids, ", ")
}

// deriveNames computes every planned image's full name from the checkouts given; images whose
// source is not among them are left out.
func (r *Run) deriveNames(checkouts map[plan.Source]*source.Checkout) (map[string]string, error) {
	names := map[string]string{}
	var errs []error
	for _, u := range r.Plan.Units {
		name, err := r.deriveName(u, checkouts)
		if err != nil {
			errs = append(errs, err)
		} else if name != "" {
			names[u.ID()] = name
		}
	}
	return names, errors.Join(errs...)
}

func (r *Run) deriveName(u *plan.Unit, checkouts map[plan.Source]*source.Checkout) (string, error) {
	if tag.HasTag(u.Image.Name) {
		return u.Image.Name, nil
	}
	engine := u
	if !u.IsEngine() {
		engine, _ = r.Plan.Unit(u.Engine)
	}
	checkout := checkouts[engine.Source]
	if checkout == nil {
		return "", nil
	}
	var derived string
	if u.IsEngine() {
		if checkout.VersionErr != nil {
			return "", fmt.Errorf("deriving tag for image %q: %w; or give build_image_name "+
				"an explicit :tag", u.ID(), checkout.VersionErr)
		}
		derived = tag.Engine(checkout.Version, checkout.Commit, checkout.CommitTime)
	} else {
		derived = tag.Manager(r.Project.Commit, r.Project.CommitTime, checkout.CommitTime)
	}
	return tag.FullName(u.Image.Name, derived)
}

// WritePlan prints the plan, with full names and commits for sources already fetched. It
// touches no network.
func (r *Run) WritePlan(w io.Writer) error {
	checkouts := map[plan.Source]*source.Checkout{}
	for _, s := range r.Plan.Sources() {
		if c, err := r.fetcher().Open(source.Spec{Repo: s.Repo, Ref: s.Ref}); err == nil {
			checkouts[s] = c
		}
	}
	names, err := r.deriveNames(checkouts)
	if err != nil {
		return err
	}
	return r.Plan.Write(w, func(u *plan.Unit) (string, string) {
		if !u.IsEngine() {
			return names[u.ID()], ""
		}
		c := checkouts[u.Source]
		if c == nil {
			return names[u.ID()], "not fetched yet"
		}
		return names[u.ID()], "fetched commit " + short(c.Commit) + versionNote(c)
	})
}

func versionNote(c *source.Checkout) string {
	if c.VersionErr != nil {
		return ", no engine version found"
	}
	return ", version " + c.Version.Full
}

func short(commit string) string {
	if len(commit) > 8 {
		return commit[:8]
	}
	return commit
}

func since(start time.Time) string {
	return time.Since(start).Round(10 * time.Millisecond).String()
}
