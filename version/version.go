// Package version derives the PolarDB engine version from a checked-out engine source tree.
//
// Current engine trees declare the version in configure.ac: the PostgreSQL version in AC_INIT
// and the PolarDB minor version and release date in POLAR_MINORVERSION and
// POLAR_RELEASE_DATE. Older trees carry only PACKAGE_VERSION in the generated configure script.
package version

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Info is the version of one engine source tree.
type Info struct {
	// Major is the PostgreSQL major version: "15", or "9.6" before PostgreSQL 10.
	Major string
	// PG is the PostgreSQL version, for example "15.14".
	PG string
	// Full is the PolarDB version, PG followed by the PolarDB minor version (for example
	// "15.14.4.0"), or PG alone when the tree declares no PolarDB minor version.
	Full string
	// ReleaseDate is the PolarDB release date as written in the tree (YYYYMMDD), or "" when
	// the tree does not declare one.
	ReleaseDate string
	// File is the path, relative to the tree, of the file the version was read from.
	File string
}

// ErrNoVersion reports a tree from which no engine version could be read.
var ErrNoVersion = errors.New("no engine version found")

// versionFile is one place a tree may declare its version, in order of preference.
type versionFile struct {
	name      string
	pgVersion *regexp.Regexp // first submatch is the PostgreSQL version
}

var (
	acInit         = regexp.MustCompile(`AC_INIT\(\s*\[?[^,\]]*\]?\s*,\s*\[?\s*([^\],)\s]+)`)
	packageVersion = regexp.MustCompile(`^\s*PACKAGE_VERSION=["']?([^"'\s]+)`)
	polarMinor     = regexp.MustCompile(`^\s*POLAR_MINORVERSION=["']?([^"'\s]*)`)
	polarDate      = regexp.MustCompile(`^\s*POLAR_RELEASE_DATE=["']?([^"'\s]*)`)
	majorPrefix    = regexp.MustCompile(`^(\d+)(?:\.(\d+))?`)

	// configure.in is where trees older than PostgreSQL 11 keep what configure.ac holds now.
	versionFiles = []versionFile{
		{name: "configure.ac", pgVersion: acInit},
		{name: "configure.in", pgVersion: acInit},
		{name: "configure", pgVersion: packageVersion},
	}
)

// Read derives the engine version from the source tree in dir. It reads configure.ac (or
// configure.in) and falls back to the PACKAGE_VERSION line of configure.
func Read(dir string) (Info, error) {
	var tried []string
	for _, vf := range versionFiles {
		info, err := readFile(dir, vf)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Info{}, err
		}
		if info.PG != "" {
			return info, nil
		}
		tried = append(tried, vf.name)
	}

	found := "none of configure.ac, configure.in or configure exists"
	if len(tried) > 0 {
		found = "no version declared in " + strings.Join(tried, ", ")
	}
	return Info{}, fmt.Errorf("reading engine version in %q: %w: %s; the tree may hold no "+
		"engine source (PolarDB's main branch no longer does: use a stable branch such as "+
		"POLARDB_15_STABLE)", dir, ErrNoVersion, found)
}

// readFile scans one candidate file. A file that declares no PostgreSQL version yields an
// Info with an empty PG.
func readFile(dir string, vf versionFile) (Info, error) {
	path := filepath.Join(dir, vf.name)
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Info{}, err
		}
		return Info{}, fmt.Errorf("reading engine version %q: %w", path, err)
	}
	defer f.Close()

	info := Info{File: vf.name}
	var minor string
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 64*1024), 1024*1024)
	for scanner.Scan() {
		line := scanner.Text()
		if m := vf.pgVersion.FindStringSubmatch(line); m != nil && info.PG == "" {
			info.PG = m[1]
		}
		if m := polarMinor.FindStringSubmatch(line); m != nil && minor == "" {
			minor = m[1]
		}
		if m := polarDate.FindStringSubmatch(line); m != nil && info.ReleaseDate == "" {
			info.ReleaseDate = m[1]
		}
	}
	if err := scanner.Err(); err != nil {
		return Info{}, fmt.Errorf("reading engine version %q: %w", path, err)
	}
	if info.PG == "" {
		return Info{}, nil
	}

	major, err := majorOf(info.PG)
	if err != nil {
		return Info{}, fmt.Errorf("reading engine version %q: %w", path, err)
	}
	info.Major = major
	info.Full = info.PG
	if minor != "" {
		info.Full = info.PG + "." + minor
	}
	return info, nil
}

// majorOf returns the major part of a PostgreSQL version: the first number from version 10
// on, the first two numbers before it ("9.6").
func majorOf(pg string) (string, error) {
	m := majorPrefix.FindStringSubmatch(pg)
	if m == nil {
		return "", fmt.Errorf("%w: version %q does not start with a number", ErrNoVersion, pg)
	}
	if len(m[1]) == 1 && m[2] != "" {
		return m[1] + "." + m[2], nil
	}
	return m[1], nil
}
