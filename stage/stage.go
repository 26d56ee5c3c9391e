// Package stage assembles build contexts. A context is a view of the project tree, made of
// hard links where the file system allows, to which an engine context adds the engine's
// config template at rootfs/postgresql.conf and the engine source at engine-source/. Nothing
// in the project itself is written.
package stage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

const (
	// SourceDir is where an engine context holds the engine source, relative to the context.
	// Builds receive it as the POLAR_SOURCE_DIR build argument.
	SourceDir = "engine-source"
	// TemplatePath is where a context holds the staged config template.
	TemplatePath = "rootfs/postgresql.conf"
)

// ErrTemplateMissing reports a config template that is not in the engine source.
var ErrTemplateMissing = errors.New("config template not found")

// Stager makes build contexts under Root from the project tree at Project.
type Stager struct {
	// Root is the directory holding the contexts (WORK_DIR/contexts).
	Root string
	// Project is the project tree every context starts from.
	Project string
	// Skip lists absolute paths inside Project left out of contexts, such as the work
	// directory and result files. .git directories are always left out.
	Skip []string
}

// Engine describes the engine source a context is staged from.
type Engine struct {
	// Dir is the engine checkout.
	Dir string
	// Template is the config template's path inside the checkout.
	Template string
	// Commit is the commit checked out in Dir. A context staged from the same commit,
	// template and project tree is reused as it is; empty means always restage.
	Commit string
}

// Context is a staged build context.
type Context struct {
	// Dir is the context directory.
	Dir string
	// SourceDir is the engine source's path relative to Dir; empty for manager contexts.
	SourceDir string
}

// Engine stages the context for engine images built from e. Images sharing a checkout and a
// template share one context, restaged on every call.
func (s *Stager) Engine(ctx context.Context, e Engine) (*Context, error) {
	sum := sha256.Sum256([]byte(e.Dir + "\x00" + e.Template))
	name := "engine-" + filepath.Base(e.Dir) + "-" + hex.EncodeToString(sum[:4])
	return s.assemble(ctx, name, e.Commit+"\x00"+e.Template, func(dir string) error {
		template := filepath.Join(dir, filepath.FromSlash(TemplatePath))
		if err := copyTemplate(e, template); err != nil {
			return err
		}
		return linkTree(ctx, e.Dir, filepath.Join(dir, SourceDir), nil)
	})
}

// Manager stages the context for manager images: the project tree alone.
func (s *Stager) Manager(ctx context.Context) (*Context, error) {
	c, err := s.assemble(ctx, "manager", "manager", nil)
	if c != nil {
		c.SourceDir = ""
	}
	return c, err
}

// assemble builds a context in a temporary directory and moves it into place, so a failed or
// interrupted staging never leaves a half context under the final name. A context whose
// stamp shows it was staged from the same inputs is kept as it is.
func (s *Stager) assemble(ctx context.Context, name, key string, extra func(dir string) error) (
	*Context, error) {
	if err := os.MkdirAll(s.Root, 0o755); err != nil {
		return nil, fmt.Errorf("creating context root %q: %w", s.Root, err)
	}
	final := filepath.Join(s.Root, name)
	stamp, err := s.stamp(key)
	if err != nil {
		return nil, fmt.Errorf("listing project tree for context %q: %w", name, err)
	}
	if stamp != "" && s.staged(final, stamp) {
		return &Context{Dir: final, SourceDir: SourceDir}, nil
	}
	os.Remove(final + stampSuffix)
	tmp, err := os.MkdirTemp(s.Root, ".staging-"+name+"-")
	if err != nil {
		return nil, fmt.Errorf("creating context %q: %w", name, err)
	}
	defer os.RemoveAll(tmp)

	skip := append([]string{s.Root}, s.Skip...)
	if err := linkTree(ctx, s.Project, tmp, skip); err != nil {
		return nil, fmt.Errorf("staging project tree for context %q: %w", name, err)
	}
	if extra != nil {
		if err := extra(tmp); err != nil {
			return nil, err
		}
	}
	if err := os.RemoveAll(final); err != nil {
		return nil, fmt.Errorf("replacing context %q: %w", final, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return nil, fmt.Errorf("moving context %q into place: %w", final, err)
	}
	if stamp != "" {
		if err := os.WriteFile(final+stampSuffix, []byte(stamp), 0o644); err != nil {
			return nil, fmt.Errorf("recording context %q: %w", final, err)
		}
	}
	return &Context{Dir: final, SourceDir: SourceDir}, nil
}

// copyTemplate copies the template out of the checkout. os.Root confines the lookup to the
// checkout, so neither .. nor a symbolic link can make it read a file outside.
func copyTemplate(e Engine, dest string) error {
	root, err := os.OpenRoot(e.Dir)
	if err != nil {
		return fmt.Errorf("opening engine checkout %q: %w", e.Dir, err)
	}
	defer root.Close()
	src, err := root.Open(filepath.FromSlash(e.Template))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %q", ErrTemplateMissing, e.Template)
	}
	if err != nil {
		return fmt.Errorf("opening config template %q: %w", e.Template, err)
	}
	defer src.Close()
	if info, err := src.Stat(); err == nil && !info.Mode().IsRegular() {
		return fmt.Errorf("config template %q is not a regular file", e.Template)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return fmt.Errorf("creating %q: %w", filepath.Dir(dest), err)
	}
	_ = os.Remove(dest) // a linked project copy of the file must not be written through
	out, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("creating staged template %q: %w", dest, err)
	}
	if _, err := io.Copy(out, src); err != nil {
		out.Close()
		return fmt.Errorf("copying config template %q: %w", e.Template, err)
	}
	return out.Close()
}

// skipped reports whether path is one of skip or a .git directory.
func skipped(path string, entry fs.DirEntry, skip []string) bool {
	if entry.Name() == ".git" {
		return true
	}
	for _, s := range skip {
		if path == s || strings.HasPrefix(path, s+string(filepath.Separator)) {
			return true
		}
	}
	return false
}
