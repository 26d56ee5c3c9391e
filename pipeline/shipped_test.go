package pipeline

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/polardb/imagebuilder/config"
	"github.com/polardb/imagebuilder/inputs"
	"github.com/polardb/imagebuilder/plan"
)

// TestShippedProject checks the project's own image.yml and Dockerfiles: the configuration
// validates, and every Dockerfile parses and reads what the build context provides.
func TestShippedProject(t *testing.T) {
	cfg, err := config.Load("../image.yml", "..")
	if err != nil {
		t.Fatalf("the shipped image.yml does not load: %v", err)
	}
	p, err := plan.Resolve(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Engines()) == 0 || len(p.Managers()) == 0 {
		t.Errorf("the shipped plan builds %d engines and %d managers", len(p.Engines()),
			len(p.Managers()))
	}
	for _, u := range p.Engines() {
		if u.Source.Ref == "main" {
			t.Errorf("%s builds branch main, which holds no engine source", u.ID())
		}
	}

	dockerfiles, err := filepath.Glob("../docker/Dockerfile*")
	if err != nil || len(dockerfiles) == 0 {
		t.Fatalf("no Dockerfiles under docker/: %v", err)
	}
	args := map[string]string{"POLAR_SOURCE_DIR": "engine-source",
		"ENGINE_IMAGE_FULL_NAME": "polardb_pg/engine:1"}
	for _, path := range dockerfiles {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			uses, err := inputs.ParseUses(data, args)
			if err != nil {
				t.Fatalf("parsing: %v", err)
			}
			if len(uses.Bases) == 0 {
				t.Error("names no base image")
			}
			for _, used := range uses.Paths {
				if used == "engine-source" || used == "rootfs/postgresql.conf" {
					continue
				}
				if matches, _ := filepath.Glob(filepath.Join("..", used)); len(matches) == 0 {
					t.Errorf("copies %q, which is not in the project", used)
				}
			}
			if strings.Contains(path, "engine") &&
				!slices.Contains(uses.Paths, "rootfs/postgresql.conf") {
				t.Error("does not copy the staged rootfs/postgresql.conf")
			}
		})
	}
}
