package plan

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/polardb/imagebuilder/config"
)

var update = flag.Bool("update", false, "rewrite golden files")

const seedYAML = `
images:
  - id: engine_test
    type: engine
    build_image_name: polardb_pg/engine_test
    build_image_dockerfile: docker/Dockerfile.test
    engine_repo: ../engine
    engine_branch: POLARDB_15_STABLE
    engine_config_template: src/postgresql.conf.sample
    enable: true
  - id: engine_release
    type: engine
    build_image_name: polardb_pg/engine_release
    build_image_dockerfile: docker/Dockerfile.release
    engine_repo: ../engine
    engine_branch: POLARDB_15_STABLE
    engine_config_template: src/postgresql.conf.sample
    push: true
    enable: false
  - id: manager
    type: manager
    build_image_name: polardb_pg/manager
    build_image_dockerfile: docker/Dockerfile.manager
    engine_image_id: engine_release
  - id: other_engine
    type: engine
    build_image_name: polardb_pg/other
    build_image_dockerfile: docker/Dockerfile.test
    engine_repo: https://user:secret@example.com/org/other.git
    engine_branch: v2
    engine_config_template: postgresql.conf.sample
    enable: false
`

func seed(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(seedYAML))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dir = "/project"
	cfg.Path = "/project/image.yml"
	return cfg
}

func ids(units []*Unit) string {
	var out []string
	for _, u := range units {
		out = append(out, u.ID()+"("+u.Reason+")")
	}
	return strings.Join(out, " ")
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name     string
		selected []string
		want     string
		skipped  int
	}{
		{
			name:    "enabled images and the disabled engine a manager needs",
			want:    "engine_test(enabled) engine_release(needed by manager) manager(enabled)",
			skipped: 1,
		},
		{
			name:     "selecting a manager brings its engine",
			selected: []string{"manager"},
			want:     "engine_release(needed by manager) manager(selected)",
			skipped:  2,
		},
		{
			name:     "selecting a disabled engine builds it",
			selected: []string{"other_engine"},
			want:     "other_engine(selected)",
			skipped:  3,
		},
		{
			name:     "selected engine also needed keeps selected",
			selected: []string{"manager", "engine_release"},
			want:     "engine_release(selected) manager(selected)",
			skipped:  2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Resolve(seed(t), tt.selected)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(p.Units); got != tt.want {
				t.Errorf("units = %s\nwant    %s", got, tt.want)
			}
			if len(p.Skipped) != tt.skipped {
				t.Errorf("skipped = %v, want %d", p.Skipped, tt.skipped)
			}
		})
	}
}

func TestResolveUnknownSelection(t *testing.T) {
	_, err := Resolve(seed(t), []string{"manager", "nope"})
	if err == nil {
		t.Fatal("Resolve accepted an unknown id")
	}
	for _, want := range []string{`"nope"`, "engine_test, engine_release, manager, other_engine"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestSourcesShared(t *testing.T) {
	p, err := Resolve(seed(t), []string{"engine_test", "engine_release", "other_engine"})
	if err != nil {
		t.Fatal(err)
	}
	sources := p.Sources()
	if len(sources) != 2 {
		t.Fatalf("sources = %v, want 2 distinct", sources)
	}
	if sources[0] != (Source{Repo: "/engine", Ref: "POLARDB_15_STABLE"}) {
		t.Errorf("relative repo not resolved against the project: %+v", sources[0])
	}
	if len(p.Engines()) != 3 || len(p.Managers()) != 0 {
		t.Errorf("engines/managers = %d/%d", len(p.Engines()), len(p.Managers()))
	}
}

func TestResolveRepo(t *testing.T) {
	tests := []struct{ name, repo, want string }{
		{"https", "https://github.com/a/b.git", "https://github.com/a/b.git"},
		{"scp ssh", "git@github.com:a/b.git", "git@github.com:a/b.git"},
		{"file url", "file:///srv/b", "file:///srv/b"},
		{"absolute", "/srv/b", "/srv/b"},
		{"relative", "../b", "/b"},
		{"relative dir", "engines/b", "/project/engines/b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ResolveRepo("/project", tt.repo); got != tt.want {
				t.Errorf("ResolveRepo = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWriteGolden(t *testing.T) {
	p, err := Resolve(seed(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	var before, after bytes.Buffer
	if err := p.Write(&before, func(*Unit) (string, string) { return "", "" }); err != nil {
		t.Fatal(err)
	}
	named := func(u *Unit) (string, string) {
		return u.Image.Name + ":1.2.3", "commit 0123abcd, version 15.14.4.0"
	}
	if err := p.Write(&after, named); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan-unfetched.golden", before.String())
	golden(t, "plan-fetched.golden", after.String())
}

func TestRedactHidesSecrets(t *testing.T) {
	p, err := Resolve(seed(t), []string{"other_engine"})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := p.Write(&out, func(*Unit) (string, string) { return "", "" }); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "secret") ||
		!strings.Contains(out.String(), "***@example.com/org/other.git") {
		t.Errorf("plan output leaks or mangles credentials:\n%s", out.String())
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
}
