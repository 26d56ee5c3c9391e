package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const seedConfig = `
images:
  - id: polardb_pg_engine_test
    type: engine
    build_image_name: polardb_pg/polardb_pg_engine_test
    build_image_dockerfile: ./docker/Dockerfile.pg.engine.test
    engine_repo: https://github.com/ApsaraDB/PolarDB-for-PostgreSQL.git
    engine_branch: main
    engine_config_template: src/backend/utils/misc/postgresql.conf.sample
    push: false
    enable: true
  - id: polardb_pg_engine_release
    type: engine
    build_image_name: polardb_pg/polardb_pg_engine_release:15
    build_image_dockerfile: ./docker/Dockerfile.pg.engine.release
    engine_repo: https://github.com/ApsaraDB/PolarDB-for-PostgreSQL.git
    engine_branch: main
    engine_config_template: src/backend/utils/misc/postgresql.conf.sample
    push: true
    enable: false
  - id: polardb_pg_manager
    type: manager
    build_image_name: polardb_pg/polardb_pg_manager
    build_image_dockerfile: ./docker/Dockerfile.manager
    engine_image_id: polardb_pg_engine_release
    push: false
    enable: true
result: out/image.result
`

// project writes image.yml and the seed's Dockerfiles into a temporary project.
func project(t *testing.T, yml string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{
		"Dockerfile.pg.engine.test", "Dockerfile.pg.engine.release", "Dockerfile.manager",
	} {
		writeFile(t, filepath.Join(dir, "docker", name), "FROM scratch\n")
	}
	writeFile(t, filepath.Join(dir, "image.yml"), yml)
	return filepath.Join(dir, "image.yml")
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadSeed(t *testing.T) {
	path := project(t, seedConfig)
	cfg, err := Load(path, "")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(cfg.Images) != 3 {
		t.Fatalf("got %d images, want 3", len(cfg.Images))
	}
	release := cfg.Images[1]
	if release.Enabled() || !release.Push ||
		release.Name != "polardb_pg/polardb_pg_engine_release:15" {
		t.Errorf("release engine decoded wrongly: %+v", release)
	}
	if cfg.Images[2].EngineImageID != "polardb_pg_engine_release" || cfg.Images[2].Type != Manager {
		t.Errorf("manager decoded wrongly: %+v", cfg.Images[2])
	}
	if cfg.Images[0].Line != 3 || cfg.Images[2].Line != 21 {
		t.Errorf("lines = %d, %d; want 3, 21", cfg.Images[0].Line, cfg.Images[2].Line)
	}
	if want := filepath.Join(filepath.Dir(path), "out", "image.result"); cfg.ResultPath() != want {
		t.Errorf("ResultPath = %q, want %q", cfg.ResultPath(), want)
	}
	want := filepath.Join(cfg.Dir, "docker", "Dockerfile.manager")
	if cfg.DockerfilePath(cfg.Images[2]) != want {
		t.Errorf("DockerfilePath = %q, want %q", cfg.DockerfilePath(cfg.Images[2]), want)
	}
}

func TestEnableDefaultsToTrue(t *testing.T) {
	yml := strings.Replace(seedConfig, "    enable: true\n  - id: polardb_pg_engine_release",
		"  - id: polardb_pg_engine_release", 1)
	cfg, err := Load(project(t, yml), "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Images[0].Enable != nil || !cfg.Images[0].Enabled() {
		t.Errorf("image without enable key: Enable=%v Enabled()=%v", cfg.Images[0].Enable,
			cfg.Images[0].Enabled())
	}
	if cfg.ResultPath() == "" {
		t.Error("empty ResultPath")
	}
}

func TestStrictKeys(t *testing.T) {
	tests := []struct {
		name    string
		yml     string
		want    []string
		notWant string
	}{
		{
			name: "misspelt image key",
			yml:  strings.Replace(seedConfig, "engine_branch: main\n", "engine_brnach: main\n", 1),
			want: []string{`line 8`, `unknown key "engine_brnach"`, `did you mean "engine_branch"?`,
				`image "polardb_pg_engine_test"`},
		},
		{
			name: "misspelt top-level key",
			yml:  strings.Replace(seedConfig, "result:", "resutl:", 1),
			want: []string{`line 28`, `unknown key "resutl"`, `did you mean "result"?`},
		},
		{
			name: "unrelated key lists known keys",
			yml: strings.Replace(seedConfig, "    push: true\n",
				"    push: true\n    zzzzzzzzzzzz: 1\n", 1),
			want: []string{`unknown key "zzzzzzzzzzzz"`, "known keys are id, type"},
		},
		{
			name: "wrong value type",
			yml:  strings.Replace(seedConfig, "push: true", "push: [yes]", 1),
			want: []string{"line 19", "decoding YAML"},
		},
		{
			name: "not a mapping",
			yml:  "- a\n- b\n",
			want: []string{"top level must be a mapping"},
		},
		{
			name: "empty file",
			yml:  "",
			want: []string{"empty"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(project(t, tt.yml), "")
			if err == nil {
				t.Fatal("Load succeeded; want an error")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "image.yml"), "")
	if err == nil || !strings.Contains(err.Error(), "IMAGE_CONFIG") {
		t.Fatalf("error %v does not point at IMAGE_CONFIG", err)
	}
}

func TestValidationReportsAllProblems(t *testing.T) {
	yml := `
images:
  - id: e1
    type: engine
    build_image_name: Bad/Name
    build_image_dockerfile: ../outside/Dockerfile
    engine_repo: /src/engine
    engine_branch: main
    engine_config_template: /etc/postgresql.conf
  - id: e1
    type: engine
    build_image_name: org/e1@sha256:0123456789012345678901234567890123456789012345678901234567890123
    build_image_dockerfile: docker/Missing
    engine_repo: /src/engine
    engine_config_template: ../../etc/passwd
    build_args:
      PolarVersion: x
      "bad-name": y
  - id: m1
    type: manager
    build_image_name: org/m1
    build_image_dockerfile: docker/Dockerfile.manager
    engine_image_id: nothing
    engine_repo: /src/engine
  - id: m2
    type: manager
    build_image_name: org/m2
    build_image_dockerfile: docker/Dockerfile.manager
    engine_image_id: m1
  - id: m3
    type: manager
    build_image_name: org/m3
    build_image_dockerfile: docker
  - id: x1
    type: worker
    build_image_name: org/x1
    build_image_dockerfile: docker/Dockerfile.manager
  - type: engine
`
	_, err := Load(project(t, yml), "")
	var problems Problems
	if !errors.As(err, &problems) {
		t.Fatalf("error %v is not Problems", err)
	}
	wants := []string{
		`line 5, image "e1", build_image_name: "Bad/Name" is not a valid image reference`,
		`image "e1", build_image_dockerfile: "../outside/Dockerfile" lies outside the project`,
		`image "e1", engine_config_template: "/etc/postgresql.conf" is absolute`,
		`line 10, image "e1", id: duplicate id "e1" (first used on line 3)`,
		`build_image_name: "org/e1@sha256:` + strings.Repeat("0123456789", 6) +
			`0123" carries a digest`,
		`build_image_dockerfile: "docker/Missing" does not exist`,
		`engine_branch: missing`,
		`engine_config_template: "../../etc/passwd" climbs out`,
		`build_args: "PolarVersion" is set by the builder itself`,
		`build_args: "bad-name" is not a valid build argument name`,
		`image "m1", engine_image_id: "nothing" names no image in this file; engine ids are: e1`,
		`line 24, image "m1", engine_repo: applies only to engine images`,
		`image "m2", engine_image_id: "m1" is a manager image, not an engine`,
		`image "m3", build_image_dockerfile: "docker" is a directory`,
		`image "m3", engine_image_id: missing`,
		`image "x1", type: unknown type "worker"; use engine or manager`,
		`id: missing`,
	}
	text := err.Error()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("error does not contain %q\nfull error:\n%s", want, text)
		}
	}
	if len(problems) < len(wants) {
		t.Errorf("got %d problems, want at least %d", len(problems), len(wants))
	}
}

func TestDockerfileSymlinkOutsideProject(t *testing.T) {
	path := project(t, seedConfig)
	outside := filepath.Join(t.TempDir(), "Dockerfile")
	writeFile(t, outside, "FROM scratch\n")
	link := filepath.Join(filepath.Dir(path), "docker", "Dockerfile.manager")
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, "")
	if err == nil || !strings.Contains(err.Error(), "symbolic link to a file outside the project") {
		t.Fatalf("error = %v; want the symlink named", err)
	}
}

func TestEmptyImages(t *testing.T) {
	_, err := Load(project(t, "images: []\n"), "")
	if err == nil || !strings.Contains(err.Error(), "no images are listed") {
		t.Fatalf("error = %v", err)
	}
}

func TestProjectDirSeparateFromConfig(t *testing.T) {
	projectPath := project(t, seedConfig)
	elsewhere := filepath.Join(t.TempDir(), "local.yml")
	writeFile(t, elsewhere, seedConfig)
	cfg, err := Load(elsewhere, filepath.Dir(projectPath))
	if err != nil {
		t.Fatalf("Dockerfiles not found relative to the project directory: %v", err)
	}
	if cfg.Dir != filepath.Dir(projectPath) || cfg.Path != elsewhere {
		t.Errorf("Dir = %q, Path = %q", cfg.Dir, cfg.Path)
	}
	if _, err := Load(elsewhere, ""); err == nil {
		t.Error("Dockerfiles resolved next to the config although no project directory was given")
	}
}
