package source

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/polardb/imagebuilder/version"
)

// errDamaged marks a checkout that cannot be trusted and may be cloned afresh.
var errDamaged = errors.New("checkout is damaged")

// updatingMarker names a file in the git directory that exists while the work tree is being
// moved to another commit. Found later, it means that update was interrupted: HEAD may
// already name the new commit while files still belong to the old one.
const updatingMarker = "source-update-in-progress"

// worktree is an opened checkout: the repository and the commit HEAD names.
type worktree struct {
	dir  string
	repo *git.Repository
	head *object.Commit
}

// openWorktree opens the checkout in dir, failing with errDamaged when it is unusable.
func openWorktree(dir string) (*worktree, error) {
	repo, err := git.PlainOpen(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: opening repository: %w", errDamaged, err)
	}
	if _, err := os.Stat(markerPath(dir)); err == nil {
		return nil, fmt.Errorf("%w: an earlier update was interrupted", errDamaged)
	}
	head, err := repo.Head()
	if err != nil {
		return nil, fmt.Errorf("%w: reading HEAD: %w", errDamaged, err)
	}
	commit, err := repo.CommitObject(head.Hash())
	if err != nil {
		return nil, fmt.Errorf("%w: reading commit %s: %w", errDamaged, head.Hash(), err)
	}
	return &worktree{dir: dir, repo: repo, head: commit}, nil
}

func markerPath(dir string) string {
	return filepath.Join(dir, git.GitDirName, updatingMarker)
}

// checkout describes the work tree as a Checkout of s.
func (w *worktree) checkout(s Spec) (*Checkout, error) {
	co := &Checkout{
		Spec:       s,
		Dir:        w.dir,
		Commit:     w.head.Hash.String(),
		CommitTime: w.head.Committer.When,
	}
	co.Version, co.VersionErr = version.Read(w.dir)
	return co, nil
}

// hasCommit reports whether the repository holds the commit object.
func hasCommit(repo *git.Repository, hash plumbing.Hash) bool {
	_, err := repo.CommitObject(hash)
	return err == nil
}

// moveTo checks out commit, discarding local changes and files the commit does not track.
// The marker file brackets the change until finish.
func (w *worktree) moveTo(hash plumbing.Hash) error {
	marker := markerPath(w.dir)
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		return fmt.Errorf("marking checkout %q as updating: %w", w.dir, err)
	}
	if err := checkoutCommit(w.repo, hash); err != nil {
		return err
	}
	commit, err := w.repo.CommitObject(hash)
	if err != nil {
		return fmt.Errorf("reading commit %s: %w", hash, err)
	}
	w.head = commit
	return nil
}

// finish removes the marker once the tree, submodules included, is complete.
func (w *worktree) finish() error {
	err := os.Remove(markerPath(w.dir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("finishing update of %q: %w", w.dir, err)
	}
	return nil
}

// checkoutCommit forces the work tree of repo to hash, with HEAD detached there. go-git's
// hard reset compares the whole work tree with the target, so it also removes files the
// commit does not track, ignored ones included: the tree matches the commit exactly.
func checkoutCommit(repo *git.Repository, hash plumbing.Hash) error {
	tree, err := repo.Worktree()
	if err != nil {
		return fmt.Errorf("opening work tree: %w", err)
	}
	if err := tree.Checkout(&git.CheckoutOptions{Hash: hash, Force: true}); err != nil {
		return fmt.Errorf("checking out %s: %w", hash, err)
	}
	return nil
}
