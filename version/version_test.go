package version

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const polarConfigureAC = `dnl Process this file with autoconf to produce a configure script.
AC_INIT([PostgreSQL], [15.14], [pgsql-bugs@lists.postgresql.org], [], [https://www.postgresql.org/])

POLAR_MINORVERSION="4.0"
POLAR_RELEASE_DATE="20250101"
AC_SUBST(POLAR_MINORVERSION)
`

func TestRead(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  Info
	}{
		{
			name:  "configure.ac with PolarDB minor version and date",
			files: map[string]string{"configure.ac": polarConfigureAC},
			want: Info{Major: "15", PG: "15.14", Full: "15.14.4.0",
				ReleaseDate: "20250101", File: "configure.ac"},
		},
		{
			name: "configure.ac without quotes",
			files: map[string]string{"configure.ac": "AC_INIT([PostgreSQL], [16.2])\n" +
				"  POLAR_MINORVERSION=2.1\nPOLAR_RELEASE_DATE=20240630\n"},
			want: Info{Major: "16", PG: "16.2", Full: "16.2.2.1",
				ReleaseDate: "20240630", File: "configure.ac"},
		},
		{
			name:  "configure.ac without PolarDB lines",
			files: map[string]string{"configure.ac": "AC_INIT([PostgreSQL], [15devel])\n"},
			want:  Info{Major: "15", PG: "15devel", Full: "15devel", File: "configure.ac"},
		},
		{
			name: "configure.ac preferred over configure",
			files: map[string]string{
				"configure.ac": polarConfigureAC,
				"configure":    "PACKAGE_VERSION='15.13'\n",
			},
			want: Info{Major: "15", PG: "15.14", Full: "15.14.4.0",
				ReleaseDate: "20250101", File: "configure.ac"},
		},
		{
			name: "older tree with only configure",
			files: map[string]string{"configure": "#! /bin/sh\nPACKAGE_NAME='PostgreSQL'\n" +
				"PACKAGE_VERSION='11.9'\nPACKAGE_STRING='PostgreSQL 11.9'\n"},
			want: Info{Major: "11", PG: "11.9", Full: "11.9", File: "configure"},
		},
		{
			name: "configure with release date",
			files: map[string]string{"configure": "PACKAGE_VERSION='11.9'\n" +
				"POLAR_RELEASE_DATE='20210305'\n"},
			want: Info{Major: "11", PG: "11.9", Full: "11.9", ReleaseDate: "20210305",
				File: "configure"},
		},
		{
			name:  "9.x major has two parts",
			files: map[string]string{"configure": "PACKAGE_VERSION='9.6.24'\n"},
			want:  Info{Major: "9.6", PG: "9.6.24", Full: "9.6.24", File: "configure"},
		},
		{
			name:  "configure.in of a pre-11 tree",
			files: map[string]string{"configure.in": "AC_INIT([PostgreSQL], [10.23])\n"},
			want:  Info{Major: "10", PG: "10.23", Full: "10.23", File: "configure.in"},
		},
		{
			name: "configure.ac without AC_INIT falls back to configure",
			files: map[string]string{
				"configure.ac": "dnl nothing here\n",
				"configure":    "PACKAGE_VERSION='14.8'\n",
			},
			want: Info{Major: "14", PG: "14.8", Full: "14.8", File: "configure"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, tt.files)
			got, err := Read(dir)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if got != tt.want {
				t.Errorf("Read = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		wantSub []string
	}{
		{
			name:    "empty tree",
			files:   map[string]string{"README.md": "PolarDB documentation\n"},
			wantSub: []string{"none of configure.ac", "POLARDB_15_STABLE", "main"},
		},
		{
			name: "files without any version",
			files: map[string]string{
				"configure.ac": "AC_CONFIG_AUX_DIR(config)\n",
				"configure":    "#! /bin/sh\necho hi\n",
			},
			wantSub: []string{"no version declared in configure.ac, configure",
				"POLARDB_15_STABLE"},
		},
		{
			name:    "version that is not a number",
			files:   map[string]string{"configure.ac": "AC_INIT([PostgreSQL], [devel])\n"},
			wantSub: []string{`version "devel" does not start with a number`, "configure.ac"},
		},
		{
			name:    "empty PACKAGE_VERSION",
			files:   map[string]string{"configure": "PACKAGE_VERSION=''\n"},
			wantSub: []string{"no version declared in configure"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, tt.files)
			_, err := Read(dir)
			if err == nil {
				t.Fatal("Read succeeded, want an error")
			}
			if !errors.Is(err, ErrNoVersion) {
				t.Errorf("error %q does not wrap ErrNoVersion", err)
			}
			for _, sub := range tt.wantSub {
				if !strings.Contains(err.Error(), sub) {
					t.Errorf("error %q does not contain %q", err, sub)
				}
			}
		})
	}
}

func TestReadMissingDirectoryNamesIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "absent")
	_, err := Read(dir)
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Read(%q) error = %v, want one naming the directory", dir, err)
	}
}

func TestReadUnreadableFile(t *testing.T) {
	dir := t.TempDir()
	// A directory named configure.ac cannot be read as a file.
	if err := os.Mkdir(filepath.Join(dir, "configure.ac"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Read(dir)
	if err == nil || !strings.Contains(err.Error(), "configure.ac") {
		t.Fatalf("Read error = %v, want one naming configure.ac", err)
	}
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
