package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/polardb/imagebuilder/internal/buildtest"
)

func TestFailedBuildKeepsPreviousResult(t *testing.T) {
	store, base := testStore(t)
	engineDir, _ := engineRepo(t, "port = 5432\n")
	projectDir := testProject(t, chainYAML(engineDir, base))
	resultPath := filepath.Join(projectDir, "image.result")
	writeFiles(t, projectDir, map[string]string{
		"image.result":      "previous\n",
		"image.result.json": "{}\n",
	})

	failing := strings.Replace(engineDockerfile, "RUN echo", "RUN false && echo", 1)
	writeFiles(t, projectDir, map[string]string{"docker/Dockerfile.eng": failing})
	run, out := openRun(t, projectDir, store)
	err := run.BuildManagers(context.Background())
	if err == nil {
		t.Fatal("a failing RUN step did not fail the run")
	}
	for _, want := range []string{`"engine_test"`, "Dockerfile.eng", "RUN false"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	skipped := `image "manager": not started, its engine image "engine_test" failed`
	if !strings.Contains(err.Error(), skipped) {
		t.Errorf("error does not say the manager was skipped: %v", err)
	}
	if !strings.Contains(out.String(), "failed engine_test") {
		t.Errorf("output lacks the failure line:\n%s", out)
	}
	engineName, _ := run.FullName("engine_test")
	run.Close()
	if got, _ := os.ReadFile(resultPath); string(got) != "previous\n" {
		t.Errorf("result file after a failed run = %q, want the previous content", got)
	}
	b := inspector(t, store)
	if b.Exists(engineName) {
		t.Errorf("%s was tagged from a failed build", engineName)
	}
	b.Close()
	assertNoLeftovers(t, store.GraphRoot)

	writeFiles(t, projectDir, map[string]string{"docker/Dockerfile.eng": engineDockerfile})
	again, out := openRun(t, projectDir, store)
	if err := again.BuildManagers(context.Background()); err != nil {
		t.Fatalf("the run after a failure: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(resultPath); !strings.Contains(string(got), engineName) {
		t.Errorf("result file after the fixed run = %q", got)
	}
}

func TestCancelMidBuild(t *testing.T) {
	store, base := testStore(t)
	engineDir, _ := engineRepo(t, "port = 5432\n")
	projectDir := testProject(t, chainYAML(engineDir, base))
	slow := strings.Replace(engineDockerfile, "RUN echo", "RUN sleep 60; echo", 1)
	writeFiles(t, projectDir, map[string]string{"docker/Dockerfile.eng": slow})

	run, out := openRun(t, projectDir, store)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for !strings.Contains(out.String(), "building engine_test") {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(2 * time.Second)
		cancel()
	}()
	start := time.Now()
	err := run.BuildEngines(ctx)
	if err == nil {
		t.Fatal("a cancelled build succeeded")
	}
	if took := time.Since(start); took > 45*time.Second {
		t.Errorf("cancellation took %s; the RUN step was not stopped", took)
	}
	if !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "cancel") {
		t.Errorf("error %v does not say the build was cancelled", err)
	}
	run.Close()
	if _, err := os.Stat(filepath.Join(projectDir, "image.result")); !os.IsNotExist(err) {
		t.Error("a cancelled run wrote a result file")
	}
	assertNoLeftovers(t, store.GraphRoot)

	writeFiles(t, projectDir, map[string]string{"docker/Dockerfile.eng": engineDockerfile})
	again, out := openRun(t, projectDir, store)
	if err := again.BuildEngines(context.Background()); err != nil {
		t.Fatalf("the run after a cancelled one: %v\n%s", err, out)
	}
}

// assertNoLeftovers checks that no working container and no mount remain in the store.
func assertNoLeftovers(t *testing.T, graphRoot string) {
	t.Helper()
	if mounts := buildtest.MountsUnder(graphRoot); len(mounts) > 0 {
		t.Errorf("mounts left under the store: %v", mounts)
	}
	containers, _ := filepath.Glob(filepath.Join(graphRoot, "*-containers", "containers.json"))
	for _, path := range containers {
		data, _ := os.ReadFile(path)
		if s := strings.TrimSpace(string(data)); s != "" && s != "[]" {
			t.Errorf("containers left in the store: %s", s)
		}
	}
}

func TestTwoEnginesBuildConcurrently(t *testing.T) {
	store, base := testStore(t)
	oneDir, _ := engineRepo(t, "template one\n")
	twoDir, _ := engineRepo(t, "template two\n")
	yml := fmt.Sprintf(`
images:
  - id: one
    type: engine
    build_image_name: org/one:latest
    build_image_dockerfile: docker/Dockerfile.eng
    engine_repo: %s
    engine_branch: POLARDB_15_STABLE
    engine_config_template: src/backend/utils/misc/postgresql.conf.sample
    build_args: {BASE: %s}
  - id: two
    type: engine
    build_image_name: org/two:latest
    build_image_dockerfile: docker/Dockerfile.eng
    engine_repo: %s
    engine_branch: POLARDB_15_STABLE
    engine_config_template: src/backend/utils/misc/postgresql.conf.sample
    build_args: {BASE: %s}
`, oneDir, base, twoDir, base)
	projectDir := testProject(t, yml)
	run, out := openRun(t, projectDir, store)
	if err := run.BuildEngines(context.Background()); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	run.Close()
	lines := strings.Split(out.String(), "\n")
	firstBuilt := len(lines)
	for i, line := range lines {
		if strings.HasPrefix(line, "built ") && i < firstBuilt {
			firstBuilt = i
		}
	}
	started := 0
	for _, line := range lines[:firstBuilt] {
		if strings.HasPrefix(line, "building ") {
			started++
		}
	}
	if started != 2 {
		t.Errorf("%d builds started before the first finished, want 2:\n%s", started, out)
	}
	b := inspector(t, store)
	assertFile(t, b, "org/one:latest", "/etc/postgresql.conf", "template one\n")
	assertFile(t, b, "org/two:latest", "/etc/postgresql.conf", "template two\n")
}

func TestWorkDirLocked(t *testing.T) {
	engineDir, _ := engineRepo(t, "port = 5432\n")
	projectDir := testProject(t, chainYAML(engineDir, "busybox"))
	first, _ := openRun(t, projectDir, buildtest.Store(t))
	if err := first.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	second, _ := openRun(t, projectDir, buildtest.Store(t))
	err := second.Fetch(context.Background())
	if err == nil || !strings.Contains(err.Error(), "another run is using it") {
		t.Fatalf("second run's Fetch = %v; want the work directory reported busy", err)
	}
	first.Close()
	third, _ := openRun(t, projectDir, buildtest.Store(t))
	if err := third.Fetch(context.Background()); err != nil {
		t.Errorf("Fetch after the first run closed: %v", err)
	}
}

func TestMissingTemplateNamesSource(t *testing.T) {
	engineDir, commit := engineRepo(t, "port = 5432\n")
	yml := strings.Replace(chainYAML(engineDir, "busybox"),
		"src/backend/utils/misc/postgresql.conf.sample", "src/missing.conf.sample", 1)
	run, _ := openRun(t, testProject(t, yml), buildtest.Store(t))
	err := run.Template(context.Background())
	if err == nil {
		t.Fatal("Template staged a missing file")
	}
	for _, want := range []string{`"src/missing.conf.sample"`, engineDir, `"POLARDB_15_STABLE"`,
		commit[:8], "may hold no engine source"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestFailedManagerKeepsPreviousResult(t *testing.T) {
	store, base := testStore(t)
	engineDir, _ := engineRepo(t, "port = 5432\n")
	projectDir := testProject(t, chainYAML(engineDir, base))
	writeFiles(t, projectDir, map[string]string{
		"image.result": "previous\n",
		"docker/Dockerfile.mgr": strings.Replace(managerDockerfile, "RUN echo",
			"RUN false && echo", 1),
	})
	run, out := openRun(t, projectDir, store)
	errs := make(chan error, 2)
	go func() { errs <- run.BuildEngines(context.Background()) }()
	go func() { errs <- run.BuildManagers(context.Background()) }()
	engineErr, managerErr := <-errs, <-errs
	if engineErr == nil && managerErr == nil {
		t.Fatalf("a failing manager did not fail the run:\n%s", out)
	}
	run.Close()
	got, _ := os.ReadFile(filepath.Join(projectDir, "image.result"))
	if string(got) != "previous\n" {
		t.Errorf("result file after a failed manager = %q, want the previous content", got)
	}
}
