package stage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// linkTree mirrors src into dest: directories are created, regular files hard-linked (copied
// when linking is not possible, as across file systems), symbolic links recreated. Paths in
// skip and .git directories are left out; sockets, devices and pipes are ignored.
func linkTree(ctx context.Context, src, dest string, skip []string) error {
	return filepath.WalkDir(src, func(path string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if path != src && skipped(path, entry, skip) {
			if entry.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		return linkEntry(path, filepath.Join(dest, rel), entry)
	})
}

func linkEntry(path, target string, entry fs.DirEntry) error {
	switch mode := entry.Type(); {
	case mode.IsDir():
		info, err := entry.Info()
		if err != nil {
			return err
		}
		return os.MkdirAll(target, info.Mode().Perm()|0o700)
	case mode&fs.ModeSymlink != 0:
		link, err := os.Readlink(path)
		if err != nil {
			return err
		}
		return os.Symlink(link, target)
	case mode.IsRegular():
		return linkFile(path, target)
	default:
		return nil
	}
}

func linkFile(path, target string) error {
	err := os.Link(path, target)
	if err == nil {
		return nil
	}
	if !errors.Is(err, syscall.EXDEV) && !errors.Is(err, syscall.EPERM) &&
		!errors.Is(err, syscall.EMLINK) {
		return fmt.Errorf("linking %q: %w", path, err)
	}
	return copyFile(path, target)
}

func copyFile(path, target string) error {
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copying %q: %w", path, err)
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chtimes(target, info.ModTime(), info.ModTime())
}
