package stage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// fixture makes a project (with its work directory inside, as by default) and two engine
// checkouts with different templates.
func fixture(t *testing.T) (*Stager, Engine, Engine) {
	t.Helper()
	base := t.TempDir()
	projectDir := filepath.Join(base, "project")
	write(t, filepath.Join(projectDir, "docker", "Dockerfile"), "FROM scratch\n")
	write(t, filepath.Join(projectDir, "rootfs", "etc", "motd"), "hello\n")
	write(t, filepath.Join(projectDir, "rootfs", "postgresql.conf"), "project's own\n")
	write(t, filepath.Join(projectDir, ".git", "HEAD"), "ref: refs/heads/main\n")
	write(t, filepath.Join(projectDir, "image.result"), "old result\n")
	if err := os.Symlink("etc/motd", filepath.Join(projectDir, "rootfs", "motd")); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(projectDir, ".work")
	const template = "src/postgresql.conf.sample"
	one := Engine{Dir: filepath.Join(work, "sources", "one"), Template: template}
	two := Engine{Dir: filepath.Join(work, "sources", "two"), Template: template}
	for _, e := range []Engine{one, two} {
		write(t, filepath.Join(e.Dir, e.Template), "template of "+filepath.Base(e.Dir)+"\n")
		write(t, filepath.Join(e.Dir, "configure"), "PACKAGE_VERSION='11.9'\n")
		write(t, filepath.Join(e.Dir, ".git", "HEAD"), "x\n")
	}
	s := &Stager{
		Root:    filepath.Join(work, "contexts"),
		Project: projectDir,
		Skip:    []string{work, filepath.Join(projectDir, "image.result")},
	}
	return s, one, two
}

func TestEngineContext(t *testing.T) {
	s, one, two := fixture(t)
	ctx := context.Background()
	c1, err := s.Engine(ctx, one)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := s.Engine(ctx, two)
	if err != nil {
		t.Fatal(err)
	}
	if c1.Dir == c2.Dir {
		t.Fatalf("two sources share context %q", c1.Dir)
	}
	if got := read(t, filepath.Join(c1.Dir, TemplatePath)); got != "template of one\n" {
		t.Errorf("context one template = %q", got)
	}
	if got := read(t, filepath.Join(c2.Dir, TemplatePath)); got != "template of two\n" {
		t.Errorf("context two template = %q", got)
	}
	projectConf := read(t, filepath.Join(s.Project, "rootfs", "postgresql.conf"))
	if got := projectConf; got != "project's own\n" {
		t.Errorf("project file modified: %q", got)
	}
	if c1.SourceDir != SourceDir {
		t.Errorf("SourceDir = %q", c1.SourceDir)
	}
	for _, rel := range []string{
		"docker/Dockerfile", "rootfs/etc/motd", "engine-source/configure",
	} {
		if _, err := os.Stat(filepath.Join(c1.Dir, rel)); err != nil {
			t.Errorf("context lacks %s: %v", rel, err)
		}
	}
	for _, rel := range []string{".git", ".work", "image.result", "engine-source/.git"} {
		if _, err := os.Lstat(filepath.Join(c1.Dir, rel)); !os.IsNotExist(err) {
			t.Errorf("context holds %s, which must be left out", rel)
		}
	}
	link, err := os.Readlink(filepath.Join(c1.Dir, "rootfs", "motd"))
	if err != nil || link != "etc/motd" {
		t.Errorf("symbolic link not kept: %q, %v", link, err)
	}
}

func TestEngineContextShared(t *testing.T) {
	s, one, _ := fixture(t)
	a, err := s.Engine(context.Background(), one)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Engine(context.Background(), one)
	if err != nil {
		t.Fatal(err)
	}
	if a.Dir != b.Dir {
		t.Errorf("same source and template staged twice: %q and %q", a.Dir, b.Dir)
	}
}

func TestRestageFollowsChanges(t *testing.T) {
	s, one, _ := fixture(t)
	ctx := context.Background()
	if _, err := s.Engine(ctx, one); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(one.Dir, one.Template), "changed\n")
	if err := os.Remove(filepath.Join(one.Dir, "configure")); err != nil {
		t.Fatal(err)
	}
	c, err := s.Engine(ctx, one)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(c.Dir, TemplatePath)); got != "changed\n" {
		t.Errorf("template after restage = %q", got)
	}
	if _, err := os.Stat(filepath.Join(c.Dir, SourceDir, "configure")); !os.IsNotExist(err) {
		t.Error("a file removed from the source stays in the context")
	}
	entries, _ := os.ReadDir(s.Root)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".staging") {
			t.Errorf("temporary %s left behind", e.Name())
		}
	}
}

func TestTemplateErrors(t *testing.T) {
	s, one, _ := fixture(t)
	outside := filepath.Join(t.TempDir(), "secret.conf")
	write(t, outside, "outside\n")
	if err := os.Symlink(outside, filepath.Join(one.Dir, "escape.conf")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(one.Dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		template string
		want     string
		missing  bool
	}{
		{"missing", "src/nope.conf.sample", `"src/nope.conf.sample"`, true},
		{"symbolic link out of the checkout", "escape.conf", "escape.conf", false},
		{"climbing out", "../two/src/postgresql.conf.sample", "postgresql.conf.sample", false},
		{"a directory", "adir", "not a regular file", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := one
			e.Template = tt.template
			c, err := s.Engine(context.Background(), e)
			if err == nil {
				t.Fatalf("staged %q into %s; want an error", tt.template, c.Dir)
			}
			if errors.Is(err, ErrTemplateMissing) != tt.missing {
				t.Errorf("errors.Is(ErrTemplateMissing) = %v, want %v (%v)", !tt.missing,
					tt.missing, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "outside\n") {
				t.Error("error leaks the outside file")
			}
		})
	}
}

func TestManagerContext(t *testing.T) {
	s, _, _ := fixture(t)
	c, err := s.Manager(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.SourceDir != "" {
		t.Errorf("manager context has SourceDir %q", c.SourceDir)
	}
	if _, err := os.Stat(filepath.Join(c.Dir, SourceDir)); !os.IsNotExist(err) {
		t.Error("manager context holds engine source")
	}
	if got := read(t, filepath.Join(c.Dir, "rootfs", "etc", "motd")); got != "hello\n" {
		t.Errorf("manager context motd = %q", got)
	}
}

func TestCancelled(t *testing.T) {
	s, one, _ := fixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Engine(ctx, one); !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if left, _ := filepath.Glob(filepath.Join(s.Root, "*engine-one*")); len(left) > 0 {
		t.Errorf("cancelled staging left %v", left)
	}
}

func TestUnchangedContextReused(t *testing.T) {
	s, one, _ := fixture(t)
	one.Commit = "c1"
	ctx := context.Background()
	first, err := s.Engine(ctx, one)
	if err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(first.Dir, "marker")
	write(t, marker, "still here\n")

	// Replacing the skipped result file, as a run does, touches the project directory.
	write(t, filepath.Join(s.Project, ".image.result.tmp"), "new result\n")
	if err := os.Rename(filepath.Join(s.Project, ".image.result.tmp"),
		filepath.Join(s.Project, "image.result")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Engine(ctx, one); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatal("an unchanged context was restaged")
	}

	tests := []struct {
		name   string
		change func()
	}{
		{"project file", func() {
			write(t, filepath.Join(s.Project, "rootfs", "etc", "motd"), "bye\n")
		}},
		{"new project file", func() { write(t, filepath.Join(s.Project, "docker", "new"), "x") }},
		{"removed project file", func() {
			if err := os.Remove(filepath.Join(s.Project, "docker", "new")); err != nil {
				t.Fatal(err)
			}
		}},
		{"engine commit", func() { one.Commit = "c2" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write(t, marker, "still here\n")
			tt.change()
			if _, err := s.Engine(ctx, one); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(marker); !os.IsNotExist(err) {
				t.Error("context not restaged after the change")
			}
		})
	}
}
