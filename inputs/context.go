package inputs

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/moby/patternmatcher"
)

// ignoreFiles are read from the context's root, first found wins, as the build does.
var ignoreFiles = []string{".containerignore", ".dockerignore"}

// Context returns the digest of the context files a build reads: those under paths (as
// ParseUses reports them), less what the context's .containerignore or .dockerignore
// excludes, by name, mode, link target and content. Paths under skip (relative to dir) are
// left out; the caller accounts for them another way.
func Context(dir string, paths, skip []string) (string, error) {
	matcher, err := ignoreMatcher(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	err = filepath.WalkDir(dir, func(path string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if excluded(rel, skip, matcher) {
			if entry.IsDir() && !mayReinclude(matcher) {
				return filepath.SkipDir
			}
			return nil
		}
		if !used(rel, paths) {
			return nil
		}
		return hashEntry(h, path, rel, entry)
	})
	if err != nil {
		return "", fmt.Errorf("hashing build context %q: %w", dir, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// used reports whether a build reading paths reads rel: rel is one of them, lies under one,
// or it or a parent matches one as a glob pattern.
func used(rel string, paths []string) bool {
	for _, p := range paths {
		if p == "." || rel == p || strings.HasPrefix(rel, p+"/") {
			return true
		}
		for parent := rel; parent != "."; parent = path.Dir(parent) {
			if match, _ := path.Match(p, parent); match {
				return true
			}
		}
	}
	return false
}

func excluded(rel string, skip []string, matcher *patternmatcher.PatternMatcher) bool {
	for _, s := range skip {
		if rel == s || strings.HasPrefix(rel, s+"/") {
			return true
		}
	}
	if matcher == nil {
		return false
	}
	match, err := matcher.MatchesOrParentMatches(rel)
	return err == nil && match
}

// mayReinclude reports whether exclusion patterns use "!" exceptions, in which case an
// excluded directory may still hold included files and has to be walked.
func mayReinclude(matcher *patternmatcher.PatternMatcher) bool {
	return matcher != nil && matcher.Exclusions()
}

func hashEntry(h io.Writer, path, rel string, entry fs.DirEntry) error {
	info, err := entry.Info()
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "%s\x00%o\x00", rel, info.Mode())
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00", target)
	case info.Mode().IsRegular():
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		fmt.Fprintf(h, "%d\x00", info.Size())
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
	}
	return nil
}

func ignoreMatcher(dir string) (*patternmatcher.PatternMatcher, error) {
	for _, name := range ignoreFiles {
		f, err := os.Open(filepath.Join(dir, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		defer f.Close()
		patterns, err := readPatterns(f)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		return patternmatcher.New(patterns)
	}
	return nil, nil
}

func readPatterns(r io.Reader) ([]string, error) {
	var patterns []string
	scanner := bufio.NewScanner(r)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		negate := strings.HasPrefix(line, "!")
		line = strings.TrimPrefix(line, "!")
		line = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(line)), "/")
		if negate {
			line = "!" + line
		}
		patterns = append(patterns, line)
	}
	return patterns, scanner.Err()
}
