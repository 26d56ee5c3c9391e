// Package source fetches engine source trees from git repositories into a work directory.
//
// Each distinct repository and ref gets one checkout, kept between runs: a later fetch asks
// the remote where the ref points now and transfers objects only when it moved. Clones are
// shallow (depth 1), cover submodules, and are written beside their final place and renamed
// into it, so an interrupted clone never leaves a partial tree under the final name.
package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/polardb/imagebuilder/internal/keylock"
	"github.com/polardb/imagebuilder/version"
)

// Spec names an engine source: a repository URL or path and a ref (branch, tag or full
// commit id).
type Spec struct {
	// Repo is an https, http, ssh (ssh:// or user@host:path), file:// URL or an absolute
	// local path.
	Repo string
	// Ref is a branch, a tag, or a full 40-character commit id.
	Ref string
}

// String returns repo@ref with any password or token removed from the repository URL.
func (s Spec) String() string {
	return redactURL(s.Repo) + "@" + s.Ref
}

func (s Spec) validate() error {
	if strings.TrimSpace(s.Repo) == "" {
		return fmt.Errorf("fetching %q at %q: no repository given", s.Repo, s.Ref)
	}
	if strings.TrimSpace(s.Ref) == "" {
		return fmt.Errorf("fetching %q: no ref given: name a branch, tag or commit id "+
			"(for PolarDB, a stable branch such as POLARDB_15_STABLE)", redactURL(s.Repo))
	}
	return nil
}

// Checkout is a fetched engine source on disk.
type Checkout struct {
	Spec
	// Dir is the absolute path of the work tree.
	Dir string
	// Commit is the full hex id of the commit checked out.
	Commit string
	// CommitTime is the committer time of Commit.
	CommitTime time.Time
	// Version is the engine version read from the tree.
	Version version.Info
	// VersionErr is set when the version could not be read; the fetch still succeeds.
	VersionErr error
}

// Fetcher fetches specs into directories under Root. A Fetcher must not be copied after
// first use; one Fetcher may serve several goroutines, and fetches of the same spec then
// wait for each other.
type Fetcher struct {
	// Root is the directory holding the checkouts (WORK_DIR/sources).
	Root string
	// Logger receives progress lines; nil means silent.
	Logger *slog.Logger
	// Auth holds credentials; the zero value takes them from the environment.
	Auth Auth

	// checkouts serialises work on one checkout directory within this Fetcher.
	checkouts keylock.Set
}

// Dir returns the checkout directory of s: a readable name made of the repository and the
// ref, followed by a short hash of both. It does no I/O.
func (f *Fetcher) Dir(s Spec) string {
	return filepath.Join(f.Root, dirName(s))
}

// maxReadable bounds the readable part of a checkout directory name.
const maxReadable = 100

func dirName(s Spec) string {
	repo := stripUserinfo(s.Repo)
	sum := sha256.Sum256([]byte(repo + "\x00" + s.Ref))
	readable := sanitize(readableRepo(repo) + "-" + s.Ref)
	if len(readable) > maxReadable {
		readable = readable[:maxReadable]
	}
	return readable + "-" + hex.EncodeToString(sum[:4])
}

// stripUserinfo removes credentials from URLs with a scheme; other forms carry none.
func stripUserinfo(repo string) string {
	u, err := url.Parse(repo)
	if err != nil || u.Scheme == "" || u.User == nil {
		return repo
	}
	u.User = nil
	return u.String()
}

// readableRepo turns a repository URL into host and path: "github.com/org/repo".
func readableRepo(repo string) string {
	name := repo
	if u, err := url.Parse(repo); err == nil && u.Scheme != "" && len(u.Scheme) > 1 {
		name = u.Host + u.Path
	} else if at := strings.Index(repo, "@"); at >= 0 && strings.Contains(repo[at:], ":") {
		name = strings.Replace(repo[at+1:], ":", "/", 1)
	}
	name = strings.TrimSuffix(strings.TrimRight(name, "/"), ".git")
	return name
}

// sanitize keeps letters, digits, '.', '-' and '_', replaces everything else with '_' and
// never starts with '.' or '_', so the name is never hidden.
func sanitize(name string) string {
	clean := []byte(name)
	for i, c := range clean {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '-' || c == '_'
		if !ok {
			clean[i] = '_'
		}
	}
	return strings.TrimLeft(string(clean), "._")
}

// Open returns the existing checkout of s without using the network. Its error wraps
// fs.ErrNotExist when s was never fetched.
func (f *Fetcher) Open(s Spec) (*Checkout, error) {
	dir, unlock, err := f.claim(s)
	if err != nil {
		return nil, err
	}
	defer unlock()

	if _, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("opening checkout of %s: %w: fetch it first", s, err)
		}
		return nil, fmt.Errorf("opening checkout of %s: %w", s, err)
	}
	wt, err := openWorktree(dir)
	if err != nil {
		return nil, fmt.Errorf("opening checkout of %s in %q: %w; fetch it again", s, dir, err)
	}
	return wt.checkout(s)
}

// Fetch brings the checkout of s up to date with the remote and returns it. A first fetch
// clones; later ones cost one ref lookup when the ref has not moved, and a commit id that
// is already checked out costs no network at all.
func (f *Fetcher) Fetch(ctx context.Context, s Spec) (*Checkout, error) {
	dir, unlock, err := f.claim(s)
	if err != nil {
		return nil, err
	}
	defer unlock()

	r, err := f.Auth.newRemote(s.Repo, httpHost(s.Repo))
	if err != nil {
		return nil, newError(ctx, s, r, nil, err, "")
	}
	if err := ctx.Err(); err != nil {
		return nil, newError(ctx, s, r, err, err, "")
	}

	if _, err := os.Stat(dir); err == nil {
		co, err := f.update(ctx, s, r, dir)
		if !errors.Is(err, errDamaged) {
			return co, err
		}
		f.log().Info("removing damaged checkout", "source", s.String(), "dir", dir,
			"reason", redact(err.Error(), r.secrets))
		if err := os.RemoveAll(dir); err != nil {
			return nil, fmt.Errorf("removing damaged checkout %q: %w", dir, err)
		}
	}
	return f.clone(ctx, s, r, dir)
}

// claim validates s and locks its checkout directory, whose absolute path it returns.
func (f *Fetcher) claim(s Spec) (dir string, unlock func(), err error) {
	if err := s.validate(); err != nil {
		return "", nil, err
	}
	dir, err = filepath.Abs(f.Dir(s))
	if err != nil {
		return "", nil, fmt.Errorf("locating checkout of %s: %w", s, err)
	}
	return dir, f.checkouts.Lock(dir), nil
}

func (f *Fetcher) log() *slog.Logger {
	if f.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.Logger
}
