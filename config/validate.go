package config

import (
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/distribution/reference"
)

// ReservedBuildArgs are the build arguments the builder itself passes; build_args may not set
// them.
var ReservedBuildArgs = []string{
	"CodeSource", "CodeBranch", "CodeVersion", "BuildBy",
	"PolarSource", "PolarBranch", "PolarVersion", "POLAR_SOURCE_DIR",
	"ENGINE_IMAGE_FULL_NAME",
}

var buildArgName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate checks the whole configuration and returns every problem found as Problems.
func (c *Config) Validate() error {
	var v validator
	v.cfg = c
	if len(c.Images) == 0 {
		v.add(Image{}, "images", "no images are listed; add at least one entry under images:")
	}
	v.checkIDs()
	for _, image := range c.Images {
		v.checkImage(image)
	}
	if len(v.problems) > 0 {
		return v.problems
	}
	return nil
}

type validator struct {
	cfg      *Config
	problems Problems
}

func (v *validator) add(image Image, field, format string, args ...any) {
	v.problems = append(v.problems, Problem{
		ID: image.ID, Field: field, Line: image.FieldLine(field), Msg: fmt.Sprintf(format, args...),
	})
}

func (v *validator) checkIDs() {
	first := map[string]int{}
	for _, image := range v.cfg.Images {
		if image.ID == "" {
			v.add(image, "id", "missing; every image needs a unique id")
			continue
		}
		if line, seen := first[image.ID]; seen {
			v.add(image, "id", "duplicate id %q (first used on line %d); ids must be unique",
				image.ID, line)
			continue
		}
		first[image.ID] = image.Line
	}
}

func (v *validator) checkImage(image Image) {
	v.checkName(image)
	v.checkDockerfile(image)
	v.checkBuildArgs(image)
	v.checkPush(image)
	switch image.Type {
	case Engine:
		v.checkEngine(image)
	case Manager:
		v.checkManager(image)
	case "":
		v.add(image, "type", "missing; use engine or manager")
	default:
		v.add(image, "type", "unknown type %q; use engine or manager", image.Type)
	}
}

func (v *validator) checkName(image Image) {
	if image.Name == "" {
		v.add(image, "build_image_name", "missing; give the full image name, e.g. org/name")
		return
	}
	named, err := reference.ParseNormalizedNamed(image.Name)
	if err != nil {
		v.add(image, "build_image_name", "%q is not a valid image reference: %v; "+
			"use lowercase [registry/]repository[:tag]", image.Name, err)
		return
	}
	if _, ok := named.(reference.Digested); ok {
		v.add(image, "build_image_name", "%q carries a digest; a built image can only be "+
			"named by repository and optional tag", image.Name)
	}
}

func (v *validator) checkDockerfile(image Image) {
	if image.Dockerfile == "" {
		v.add(image, "build_image_dockerfile", "missing; give the Dockerfile's path in the project")
		return
	}
	if filepath.IsAbs(image.Dockerfile) || !filepath.IsLocal(filepath.Clean(image.Dockerfile)) {
		v.add(image, "build_image_dockerfile", "%q lies outside the project; "+
			"give a path inside %s", image.Dockerfile, v.cfg.Dir)
		return
	}
	full := v.cfg.DockerfilePath(image)
	info, err := os.Stat(full)
	if err != nil {
		v.add(image, "build_image_dockerfile", "%q does not exist in %s", image.Dockerfile,
			v.cfg.Dir)
		return
	}
	if info.IsDir() {
		v.add(image, "build_image_dockerfile", "%q is a directory, not a Dockerfile",
			image.Dockerfile)
		return
	}
	if !insideProject(v.cfg.Dir, full) {
		v.add(image, "build_image_dockerfile", "%q resolves through a symbolic link to a file "+
			"outside the project; keep Dockerfiles inside %s", image.Dockerfile, v.cfg.Dir)
	}
}

// insideProject reports whether file, with symbolic links resolved, lies under dir.
func insideProject(dir, file string) bool {
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return false
	}
	realFile, err := filepath.EvalSymlinks(file)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(realDir, realFile)
	return err == nil && filepath.IsLocal(rel)
}

func (v *validator) checkBuildArgs(image Image) {
	for _, name := range slices.Sorted(maps.Keys(image.BuildArgs)) {
		if slices.Contains(ReservedBuildArgs, name) {
			v.add(image, "build_args", "%q is set by the builder itself and cannot be overridden",
				name)
		} else if !buildArgName.MatchString(name) {
			v.add(image, "build_args", "%q is not a valid build argument name", name)
		}
	}
}

func (v *validator) checkEngine(image Image) {
	if image.EngineRepo == "" {
		v.add(image, "engine_repo", "missing; give the engine's git URL or a local path")
	}
	if image.EngineBranch == "" {
		v.add(image, "engine_branch", "missing; give a branch, tag or commit id, "+
			"e.g. POLARDB_15_STABLE")
	}
	v.checkTemplate(image)
	if image.EngineImageID != "" {
		v.add(image, "engine_image_id", "applies only to manager images; remove it")
	}
}

func (v *validator) checkTemplate(image Image) {
	template := image.EngineConfigTemplate
	switch {
	case template == "":
		v.add(image, "engine_config_template", "missing; give the template's path inside the "+
			"engine repository, e.g. src/backend/utils/misc/postgresql.conf.sample")
	case path.IsAbs(template) || filepath.IsAbs(template):
		v.add(image, "engine_config_template", "%q is absolute; give a path relative to the "+
			"engine repository's root", template)
	case climbs(template):
		v.add(image, "engine_config_template", "%q climbs out of the engine repository with ..; "+
			"give a path inside it", template)
	}
}

// climbs reports whether a relative slash path uses .. at all; templates never need it.
func climbs(p string) bool {
	return slices.Contains(strings.Split(filepath.ToSlash(p), "/"), "..")
}

func (v *validator) checkManager(image Image) {
	engineOnly := []struct{ field, value string }{
		{"engine_repo", image.EngineRepo},
		{"engine_branch", image.EngineBranch},
		{"engine_config_template", image.EngineConfigTemplate},
	}
	for _, f := range engineOnly {
		if f.value != "" {
			v.add(image, f.field, "applies only to engine images; a manager takes its engine "+
				"from engine_image_id")
		}
	}
	if image.EngineImageID == "" {
		v.add(image, "engine_image_id", "missing; give the id of the engine image to build on")
		return
	}
	engine, ok := v.cfg.Image(image.EngineImageID)
	switch {
	case !ok:
		v.add(image, "engine_image_id", "%q names no image in this file; engine ids are: %s",
			image.EngineImageID, strings.Join(v.engineIDs(), ", "))
	case engine.Type != Engine:
		v.add(image, "engine_image_id", "%q is a %s image, not an engine; engine ids are: %s",
			image.EngineImageID, engine.Type, strings.Join(v.engineIDs(), ", "))
	}
}

func (v *validator) engineIDs() []string {
	var ids []string
	for _, image := range v.cfg.Images {
		if image.Type == Engine && image.ID != "" && !slices.Contains(ids, image.ID) {
			ids = append(ids, image.ID)
		}
	}
	if len(ids) == 0 {
		return []string{"(none)"}
	}
	return ids
}
