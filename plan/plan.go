// Package plan turns a validated configuration into the ordered list of image builds a run
// will perform. Every later stage walks the plan; nothing else decides what is built.
package plan

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/polardb/imagebuilder/config"
)

// Source is an engine repository at a ref, as one checkout shared by every engine using it.
type Source struct {
	// Repo is the repository URL, or an absolute path for a local repository.
	Repo string
	// Ref is the branch, tag or commit id to build.
	Ref string
}

// Unit is one image build: one image for one platform.
type Unit struct {
	// Image is the image.yml entry.
	Image config.Image
	// Reason says why the image is in the plan: enabled, selected, or needed by managers.
	Reason string
	// Source is the engine source, for engine images.
	Source Source
	// Engine is the id of the engine image a manager is built FROM.
	Engine string
	// Dockerfile is the absolute path of the Dockerfile.
	Dockerfile string
	// Platform is the target platform as os/arch; empty means the build host's.
	Platform string
}

// ID returns the image id.
func (u *Unit) ID() string { return u.Image.ID }

// IsEngine reports whether the unit builds an engine image.
func (u *Unit) IsEngine() bool { return u.Image.Type == config.Engine }

// Plan is the ordered set of builds: every engine before the managers built on it.
type Plan struct {
	// Config is the configuration the plan was made from.
	Config *config.Config
	// Units lists the builds, engines first, each group in image.yml order.
	Units []*Unit
	// Skipped lists the ids of images not built, with the reason.
	Skipped []Skip
}

// Skip records an image left out of the plan and why.
type Skip struct {
	ID     string
	Reason string
}

// Reasons an image is in the plan.
const (
	ReasonEnabled  = "enabled"
	ReasonSelected = "selected"
)

// Resolve makes the plan for cfg. When selected is not empty, only those image ids and the
// engines they need are planned; otherwise every enabled image and the engines they need.
func Resolve(cfg *config.Config, selected []string) (*Plan, error) {
	if err := checkSelection(cfg, selected); err != nil {
		return nil, err
	}
	wanted := map[string]string{}
	for _, image := range cfg.Images {
		switch {
		case len(selected) > 0 && slices.Contains(selected, image.ID):
			wanted[image.ID] = ReasonSelected
		case len(selected) == 0 && image.Enabled():
			wanted[image.ID] = ReasonEnabled
		}
	}
	neededBy := map[string][]string{}
	for _, image := range cfg.Images {
		if _, ok := wanted[image.ID]; ok && image.Type == config.Manager {
			neededBy[image.EngineImageID] = append(neededBy[image.EngineImageID], image.ID)
		}
	}

	p := &Plan{Config: cfg}
	for _, kind := range []config.Type{config.Engine, config.Manager} {
		for _, image := range cfg.Images {
			if image.Type != kind {
				continue
			}
			reason, ok := wanted[image.ID]
			if !ok && len(neededBy[image.ID]) > 0 {
				reason, ok = "needed by "+strings.Join(neededBy[image.ID], ", "), true
			}
			if ok {
				p.Units = append(p.Units, newUnit(cfg, image, reason))
			}
		}
	}
	p.Skipped = skipped(cfg, p, selected)
	return p, nil
}

func newUnit(cfg *config.Config, image config.Image, reason string) *Unit {
	u := &Unit{Image: image, Reason: reason, Dockerfile: cfg.DockerfilePath(image)}
	if image.Type == config.Engine {
		u.Source = Source{Repo: ResolveRepo(cfg.Dir, image.EngineRepo), Ref: image.EngineBranch}
	} else {
		u.Engine = image.EngineImageID
	}
	return u
}

func checkSelection(cfg *config.Config, selected []string) error {
	var unknown []string
	for _, id := range selected {
		if _, ok := cfg.Image(id); !ok {
			unknown = append(unknown, fmt.Sprintf("%q", id))
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	ids := make([]string, len(cfg.Images))
	for i, image := range cfg.Images {
		ids[i] = image.ID
	}
	return fmt.Errorf("selecting images: %s not in %s; IMAGES takes ids from: %s",
		strings.Join(unknown, ", "), cfg.Path, strings.Join(ids, ", "))
}

func skipped(cfg *config.Config, p *Plan, selected []string) []Skip {
	var skips []Skip
	for _, image := range cfg.Images {
		if _, ok := p.Unit(image.ID); ok {
			continue
		}
		reason := "enable: false"
		if len(selected) > 0 {
			reason = "not selected by IMAGES"
		}
		skips = append(skips, Skip{ID: image.ID, Reason: reason})
	}
	return skips
}

// Unit returns the unit building the image with the given id.
func (p *Plan) Unit(id string) (*Unit, bool) {
	for _, u := range p.Units {
		if u.ID() == id {
			return u, true
		}
	}
	return nil, false
}

// Sources returns the distinct engine sources of the plan, in plan order.
func (p *Plan) Sources() []Source {
	var sources []Source
	for _, u := range p.Units {
		if u.IsEngine() && !slices.Contains(sources, u.Source) {
			sources = append(sources, u.Source)
		}
	}
	return sources
}

// Engines returns the engine units in plan order.
func (p *Plan) Engines() []*Unit { return p.filter(true) }

// Managers returns the manager units in plan order.
func (p *Plan) Managers() []*Unit { return p.filter(false) }

func (p *Plan) filter(engines bool) []*Unit {
	var units []*Unit
	for _, u := range p.Units {
		if u.IsEngine() == engines {
			units = append(units, u)
		}
	}
	return units
}

var scpLike = regexp.MustCompile(`^[A-Za-z0-9._-]+@[^/:]+:`)

// ResolveRepo returns repo with a relative local path made absolute against dir. URLs
// (scheme://…) and scp-like ssh addresses (user@host:path) are returned unchanged.
func ResolveRepo(dir, repo string) string {
	if strings.Contains(repo, "://") || scpLike.MatchString(repo) || filepath.IsAbs(repo) {
		return repo
	}
	return filepath.Join(dir, repo)
}
