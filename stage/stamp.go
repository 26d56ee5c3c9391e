package stage

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// stampSuffix names the file beside a context recording what it was staged from. It lives
// outside the context so builds never see it.
const stampSuffix = ".stamp"

// stamp digests key and the project tree's listing (names and modes, and for files their
// sizes and modification times). Two equal stamps mean restaging would produce the same
// context. It returns "" for an engine context without a commit, which is always restaged.
func (s *Stager) stamp(key string) (string, error) {
	if strings.HasPrefix(key, "\x00") {
		return "", nil
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", key)
	skip := append([]string{s.Root}, s.Skip...)
	err := filepath.WalkDir(s.Project, func(path string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != s.Project && skipped(path, entry, skip) {
			if entry.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := entry.Info()
		if err != nil {
			return err
		}
		if entry.IsDir() {
			// A directory's own times change whenever anything is written into it, the
			// result file included; its entries are listed one by one anyway.
			fmt.Fprintf(h, "%s\x00%o\x00", path, info.Mode())
			return nil
		}
		fmt.Fprintf(h, "%s\x00%d\x00%o\x00%d\x00", path, info.Size(), info.Mode(),
			info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// staged reports whether the context at dir exists and was staged with stamp.
func (s *Stager) staged(dir, stamp string) bool {
	recorded, err := os.ReadFile(dir + stampSuffix)
	if err != nil || string(recorded) != stamp {
		return false
	}
	_, err = os.Stat(dir)
	return err == nil
}
