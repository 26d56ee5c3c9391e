package pipeline

import (
	"maps"
	"path/filepath"
	"time"

	"github.com/polardb/imagebuilder/build"
	"github.com/polardb/imagebuilder/plan"
)

// request describes u's build: its context, the build arguments the original builder passed,
// image.yml's own build_args, and the standard OCI labels.
func (r *Run) request(u *plan.Unit, engineName string) build.Request {
	name, _ := r.FullName(u.ID())
	args := map[string]string{
		"CodeSource":  r.Project.Source,
		"CodeBranch":  r.Project.Branch,
		"CodeVersion": r.Project.Commit,
		"BuildBy":     r.Project.Email,
	}
	labels := map[string]string{
		"org.opencontainers.image.title": u.Image.Name,
	}
	context := r.contexts[u.ID()]
	if u.IsEngine() {
		checkout := r.checkouts[u.Source]
		args["PolarSource"] = plan.Redact(u.Source.Repo)
		args["PolarBranch"] = u.Source.Ref
		args["PolarVersion"] = checkout.Commit
		args["POLAR_SOURCE_DIR"] = context.SourceDir
		labels["org.opencontainers.image.source"] = plan.Redact(u.Source.Repo)
		labels["org.opencontainers.image.revision"] = checkout.Commit
		labels["org.opencontainers.image.version"] = engineVersion(checkout.Version.Full, name)
		labels["org.opencontainers.image.created"] = rfc3339(checkout.CommitTime)
	} else {
		engine, _ := r.Plan.Unit(u.Engine)
		checkout := r.checkouts[engine.Source]
		args["ENGINE_IMAGE_FULL_NAME"] = engineName
		labels["org.opencontainers.image.source"] = r.Project.Source
		labels["org.opencontainers.image.revision"] = r.Project.Commit
		labels["org.opencontainers.image.version"] = tagOf(name)
		labels["org.opencontainers.image.created"] = rfc3339(latest(r.Project.CommitTime,
			checkout.CommitTime))
		labels["org.opencontainers.image.base.name"] = engineName
	}
	maps.Copy(args, u.Image.BuildArgs)
	return build.Request{
		ID:         u.ID(),
		ContextDir: context.Dir,
		Dockerfile: u.Dockerfile,
		Tags:       []string{name},
		BuildArgs:  args,
		Labels:     labels,
		Platform:   u.Platform,
		NoCache:    r.settings.NoCache,
	}
}

func (r *Run) builderOptions() build.Options {
	o := r.settings.Store
	if o.StateDir == "" {
		o.StateDir = filepath.Join(r.workDir, "build")
	}
	if o.Logger == nil {
		o.Logger = r.settings.Logger
	}
	return o
}

func engineVersion(full, name string) string {
	if full != "" {
		return full
	}
	return tagOf(name)
}

// tagOf returns the tag of a full image name.
func tagOf(name string) string {
	for i := len(name) - 1; i >= 0 && name[i] != '/'; i-- {
		if name[i] == ':' {
			return name[i+1:]
		}
	}
	return ""
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
