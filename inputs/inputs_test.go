package inputs

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParseUses(t *testing.T) {
	tests := []struct {
		name       string
		dockerfile string
		args       map[string]string
		want       Uses
	}{
		{
			name: "global arg in FROM and stage arg in COPY",
			dockerfile: "ARG BASE=debian:12\nFROM ${BASE} AS builder\nARG POLAR_SOURCE_DIR=src\n" +
				"COPY ${POLAR_SOURCE_DIR} /build\nRUN make\n" +
				"FROM $BASE\nCOPY --from=builder /usr/local /usr/local\n" +
				"COPY rootfs/postgresql.conf rootfs/bin/* /etc/\n",
			args: map[string]string{"POLAR_SOURCE_DIR": "engine-source"},
			want: Uses{Bases: []string{"debian:12"},
				Paths: []string{"engine-source", "rootfs/postgresql.conf", "rootfs/bin/*"}},
		},
		{
			name:       "build argument overrides the default",
			dockerfile: "ARG BASE=debian:12\nFROM ${BASE}\nADD ./docker/../rootfs/ /\n",
			args:       map[string]string{"BASE": "localhost/base:1"},
			want:       Uses{Bases: []string{"localhost/base:1"}, Paths: []string{"rootfs"}},
		},
		{
			name:       "manager from the engine with the whole context",
			dockerfile: "ARG ENGINE_IMAGE_FULL_NAME\nFROM ${ENGINE_IMAGE_FULL_NAME}\nCOPY . /src\n",
			args:       map[string]string{"ENGINE_IMAGE_FULL_NAME": "org/engine:1"},
			want:       Uses{Bases: []string{"org/engine:1"}, Paths: []string{"."}},
		},
		{
			name: "scratch, defaults and images in COPY --from",
			dockerfile: "FROM scratch\nARG DIR\nCOPY ${DIR:-files} /\n" +
				"COPY --from=busybox:1 /bin/busybox /bin/\nCOPY <<EOF /x\nhi\nEOF\n" +
				"ADD https://example.com/a.tar /\n",
			want: Uses{Bases: []string{"busybox:1"}, Paths: []string{"files"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseUses([]byte(tt.dockerfile), tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseUses = %+v\nwant        %+v", got, tt.want)
			}
		})
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestContext(t *testing.T) {
	paths := []string{"rootfs/etc", "docker/*.sh"}
	skip := []string{"engine-source"}
	tests := []struct {
		name    string
		change  func(t *testing.T, dir string)
		changed bool
	}{
		{"used file content", func(t *testing.T, dir string) {
			write(t, dir, "rootfs/etc/a.conf", "b")
		}, true},
		{"new used file", func(t *testing.T, dir string) {
			write(t, dir, "rootfs/etc/new", "")
		}, true},
		{"glob match", func(t *testing.T, dir string) {
			write(t, dir, "docker/run.sh", "echo 2")
		}, true},
		{"mode", func(t *testing.T, dir string) {
			if err := os.Chmod(filepath.Join(dir, "rootfs/etc/a.conf"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"unused file", func(t *testing.T, dir string) {
			write(t, dir, "README.md", "changed")
		}, false},
		{"ignored file", func(t *testing.T, dir string) {
			write(t, dir, "rootfs/etc/a.swp", "x")
		}, false},
		{"skipped tree", func(t *testing.T, dir string) {
			write(t, dir, "engine-source/x.c", "x")
		}, false},
		{"glob miss", func(t *testing.T, dir string) {
			write(t, dir, "docker/run.txt", "x")
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, ".containerignore", "# editor files\n**/*.swp\n")
			write(t, dir, "rootfs/etc/a.conf", "a")
			write(t, dir, "docker/run.sh", "echo 1")
			write(t, dir, "engine-source/x.c", "int x;")
			write(t, dir, "README.md", "readme")
			before, err := Context(dir, paths, skip)
			if err != nil {
				t.Fatal(err)
			}
			tt.change(t, dir)
			after, err := Context(dir, paths, skip)
			if err != nil {
				t.Fatal(err)
			}
			if (before != after) != tt.changed {
				t.Errorf("digest changed = %v, want %v", before != after, tt.changed)
			}
		})
	}
}

func TestDigestParts(t *testing.T) {
	base := Build{
		Dockerfile: []byte("FROM scratch\n"),
		BuildArgs:  map[string]string{"A": "1"},
		Labels:     map[string]string{"l": "v"},
		Context:    "c1",
		Bases:      map[string]string{"busybox": "id1"},
		Settings:   map[string]string{"format": "oci"},
	}
	tests := []struct {
		name   string
		change func(b *Build)
		want   []string
	}{
		{"dockerfile", func(b *Build) {
			b.Dockerfile = []byte("FROM busybox\n")
		}, []string{"dockerfile"}},
		{"build arg", func(b *Build) {
			b.BuildArgs = map[string]string{"A": "2"}
		}, []string{"build_args"}},
		{"label", func(b *Build) { b.Labels = map[string]string{"l": "w"} }, []string{"labels"}},
		{"platform", func(b *Build) { b.Platform = "linux/arm64" }, []string{"platform"}},
		{"context", func(b *Build) { b.Context = "c2" }, []string{"context"}},
		{"base image", func(b *Build) {
			b.Bases = map[string]string{"busybox": "id2"}
		}, []string{"base"}},
		{"settings", func(b *Build) {
			b.Settings = map[string]string{"format": "docker"}
		}, []string{"settings"}},
		{"arg split differently", func(b *Build) {
			b.BuildArgs = map[string]string{"A": "", "": "A1"}
		}, []string{"build_args"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed := base
			tt.change(&changed)
			if base.Digest() == changed.Digest() {
				t.Error("digest did not change")
			}
			if got := Changed(base.Parts(), changed.Parts()); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Changed = %v, want %v", got, tt.want)
			}
		})
	}
	if base.Digest() != base.Digest() {
		t.Error("digest is not stable")
	}
}
