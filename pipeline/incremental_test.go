package pipeline

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/polardb/imagebuilder/build"
	"github.com/polardb/imagebuilder/result"
)

// incremental is a project built once, then changed and rebuilt step by step.
type incremental struct {
	t          *testing.T
	store      build.Options
	base       string
	engineDir  string
	projectDir string
}

// build runs the whole chain and returns each image's action and reason.
func (in *incremental) build(env ...string) map[string]result.Image {
	in.t.Helper()
	run, out := openRun(in.t, in.projectDir, in.store)
	for _, e := range env {
		if e == "NO_CACHE" {
			run.settings.NoCache = true
		}
	}
	ctx := context.Background()
	if err := run.BuildEngines(ctx); err != nil {
		in.t.Fatalf("BuildEngines: %v\n%s", err, out)
	}
	if err := run.BuildManagers(ctx); err != nil {
		in.t.Fatalf("BuildManagers: %v\n%s", err, out)
	}
	run.Close()
	record, err := result.Read(filepath.Join(in.projectDir, "image.result"))
	if err != nil {
		in.t.Fatal(err)
	}
	images := map[string]result.Image{}
	for _, image := range record.Images {
		images[image.ID] = image
	}
	return images
}

func (in *incremental) expect(images map[string]result.Image, engine, manager string) {
	in.t.Helper()
	for id, want := range map[string]string{"engine_test": engine, "manager": manager} {
		got := images[id].Action
		if images[id].Action == ActionBuilt {
			got = "built (" + images[id].Why + ")"
		}
		if !strings.HasPrefix(got, want) {
			in.t.Errorf("%s: %s, want %s", id, got, want)
		}
	}
}

func TestIncrementalDecisions(t *testing.T) {
	store, base := testStore(t)
	engineDir, _ := engineRepo(t, "port = 5432\n")
	in := &incremental{t: t, store: store, base: base, engineDir: engineDir,
		projectDir: testProject(t, chainYAML(engineDir, base))}
	commitEngine := func(file, content string) {
		writeFiles(t, engineDir, map[string]string{file: content})
		git(t, engineDir, "commit", "-q", "-am", "change "+file)
	}
	writeProject := func(file, content string) {
		writeFiles(t, in.projectDir, map[string]string{file: content})
	}

	steps := []struct {
		name            string
		change          func()
		env             []string
		engine, manager string
	}{
		{"first build", func() {}, nil, "built (no image", "built (no image"},
		{"nothing changed", func() {}, nil, ActionUpToDate, ActionUpToDate},
		{"file only the manager uses", func() { writeProject("rootfs/manager.txt", "v2\n") }, nil,
			ActionUpToDate, "built (changed: context)"},
		{"file no build uses", func() { writeProject("NOTES.md", "notes\n") }, nil,
			ActionUpToDate, ActionUpToDate},
		{"engine template in a new commit", func() {
			commitEngine("src/backend/utils/misc/postgresql.conf.sample", "port = 6000\n")
		}, nil, "built (no image", "built (changed: base, build_args"},
		{"engine source only in a new commit", func() { commitEngine("src/main.c", "int main;\n") },
			nil, "built (no image", "built (changed: base, build_args"},
		{"engine Dockerfile", func() {
			writeProject("docker/Dockerfile.eng", engineDockerfile+"LABEL extra=1\n")
		}, nil, "built (changed: dockerfile)", "built (changed: base)"},
		{"build argument in image.yml", func() {
			writeProject("image.yml", strings.Replace(chainYAML(engineDir, base),
				"from-image-yml", "changed-arg", 1))
		}, nil, "built (changed: build_args)", "built (changed: base)"},
		{"base image", func() { rebuildBase(t, store, base) }, nil,
			"built (changed: base)", "built (changed: base)"},
		{"builder settings", func() { settingsVersion = "test-" + settingsVersion }, nil,
			"built (changed: settings)", "built (changed: base, settings)"},
		{"NO_CACHE", func() {}, []string{"NO_CACHE"}, "built (NO_CACHE", "built (NO_CACHE"},
		{"nothing changed again", func() {}, nil, ActionUpToDate, ActionUpToDate},
	}
	defer func(v string) { settingsVersion = v }(settingsVersion)
	for _, step := range steps {
		step.change()
		images := in.build(step.env...)
		t.Run(step.name, func(t *testing.T) {
			in.t = t
			in.expect(images, step.engine, step.manager)
		})
		in.t = t
	}
}

// rebuildBase replaces the base image with different content under the same name.
func rebuildBase(t *testing.T, store build.Options, base string) {
	t.Helper()
	b, err := build.New(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"Dockerfile": "FROM " + base + "\nRUN echo v2 > /base-version\n",
	})
	_, err = b.Build(context.Background(), build.Request{ID: "base", ContextDir: dir,
		Dockerfile: filepath.Join(dir, "Dockerfile"), Tags: []string{base}})
	if err != nil {
		t.Fatal(err)
	}
}
