package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/polardb/imagebuilder/result"
)

func chainYAML(engineRepo, base string) string {
	return fmt.Sprintf(`
images:
  - id: engine_test
    type: engine
    build_image_name: polardb_pg/engine_test
    build_image_dockerfile: docker/Dockerfile.eng
    engine_repo: %[1]s
    engine_branch: POLARDB_15_STABLE
    engine_config_template: src/backend/utils/misc/postgresql.conf.sample
    enable: false
    build_args:
      BASE: %[2]s
      EXTRA: from-image-yml
  - id: manager
    type: manager
    build_image_name: polardb_pg/manager
    build_image_dockerfile: docker/Dockerfile.mgr
    engine_image_id: engine_test
`, engineRepo, base)
}

func TestChain(t *testing.T) {
	for _, name := range []string{"GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL", "EMAIL"} {
		t.Setenv(name, "")
	}
	store, base := testStore(t)
	engineDir, engineCommit := engineRepo(t, "shared_buffers = 128MB\n")
	projectDir := testProject(t, chainYAML(engineDir, base))
	projectCommit := git(t, projectDir, "rev-parse", "HEAD")

	run, out := openRun(t, projectDir, store)
	ctx := context.Background()
	if err := run.BuildEngines(ctx); err != nil {
		t.Fatalf("BuildEngines: %v\n%s", err, out)
	}
	if err := run.BuildManagers(ctx); err != nil {
		t.Fatalf("BuildManagers: %v\n%s", err, out)
	}
	if err := run.Close(); err != nil {
		t.Fatal(err)
	}

	engineName := "polardb_pg/engine_test:15.14.4.0.20250101." + engineCommit[:8] +
		".20250102030405"
	managerName := "polardb_pg/manager:20250102030405." + projectCommit[:8]
	names, err := os.ReadFile(filepath.Join(projectDir, "image.result"))
	if err != nil {
		t.Fatal(err)
	}
	if want := engineName + "\n" + managerName + "\n"; string(names) != want {
		t.Errorf("image.result = %q, want %q", names, want)
	}
	record, err := result.Read(filepath.Join(projectDir, "image.result"))
	if err != nil {
		t.Fatal(err)
	}
	if len(record.Images) != 2 || record.Images[0].EngineCommit != engineCommit ||
		record.Images[0].Reason != "needed by manager" || record.Images[1].ImageID == "" {
		t.Errorf("result record = %+v", record)
	}

	b := inspector(t, store)
	engine, err := b.Inspect(ctx, engineName)
	if err != nil {
		t.Fatal(err)
	}
	wantLabels := map[string]string{
		"org.opencontainers.image.source":   engineDir,
		"org.opencontainers.image.revision": engineCommit,
		"org.opencontainers.image.version":  "15.14.4.0",
		"org.opencontainers.image.created":  "2025-01-02T03:04:05Z",
		"org.opencontainers.image.title":    "polardb_pg/engine_test",
	}
	for key, want := range wantLabels {
		if engine.Labels[key] != want {
			t.Errorf("engine label %s = %q, want %q", key, engine.Labels[key], want)
		}
	}
	if engine.ID != record.Images[0].ImageID {
		t.Errorf("engine image ID %s, result says %s", engine.ID, record.Images[0].ImageID)
	}
	assertFile(t, b, engineName, "/etc/postgresql.conf", "shared_buffers = 128MB\n")
	assertFile(t, b, engineName, "/src/main.c", "int main(void) { return 0; }\n")
	assertFile(t, b, engineName, "/build-args", fmt.Sprintf(
		"%s POLARDB_15_STABLE %s builder@example.com from-image-yml\n",
		engineCommit, projectCommit))

	manager, err := b.Inspect(ctx, managerName)
	if err != nil {
		t.Fatal(err)
	}
	if len(manager.Layers) <= len(engine.Layers) ||
		!slices.Equal(manager.Layers[:len(engine.Layers)], engine.Layers) {
		t.Errorf("manager layers %v do not start with the engine's %v", manager.Layers,
			engine.Layers)
	}
	if manager.Labels["org.opencontainers.image.revision"] != projectCommit ||
		manager.Labels["org.opencontainers.image.source"] != "https://example.com/org/builder.git" {
		t.Errorf("manager labels = %v", manager.Labels)
	}
	assertFile(t, b, managerName, "/engine-name", engineName+"\n")
	assertFile(t, b, managerName, "/seen.conf", "shared_buffers = 128MB\n")
	assertFile(t, b, managerName, "/manager.txt", "manager tooling\n")

	if status := git(t, projectDir, "status", "--porcelain"); status != "" {
		t.Errorf("the run changed the project's tracked files:\n%s", status)
	}
	for _, line := range []string{"building engine_test as " + engineName, "built engine_test ",
		"built manager "} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
}

func assertFile(t *testing.T, b interface {
	ReadFile(context.Context, string, string) ([]byte, error)
}, image, path, want string) {
	t.Helper()
	got, err := b.ReadFile(context.Background(), image, path)
	if err != nil {
		t.Errorf("reading %s from %s: %v", path, image, err)
		return
	}
	if string(got) != want {
		t.Errorf("%s in %s = %q, want %q", path, image, got, want)
	}
}
