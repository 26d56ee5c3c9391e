package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
)

// partialInfix marks a clone in progress: ".<checkout name>.partial-<random>", beside the
// checkout it will become.
const partialInfix = ".partial-"

// update brings an existing checkout to where s points now. It returns an error wrapping
// errDamaged when the checkout should be cloned afresh instead.
func (f *Fetcher) update(ctx context.Context, s Spec, r *remote, dir string) (*Checkout, error) {
	w, err := openWorktree(dir)
	if err != nil {
		return nil, err
	}

	var t target
	if isCommitID(s.Ref) {
		// The directory belongs to this one commit: it is there unless the checkout broke.
		t.commit = plumbing.NewHash(strings.ToLower(s.Ref))
		if w.head.Hash != t.commit && !hasCommit(w.repo, t.commit) {
			return nil, fmt.Errorf("%w: it holds %s instead of %s", errDamaged,
				w.head.Hash, t.commit)
		}
	} else if t, err = f.resolve(ctx, s, r); err != nil {
		return nil, err
	}

	if w.head.Hash == t.commit {
		f.log().Info("up to date", "source", s.String(), "commit", t.commit.String())
		return w.checkout(s)
	}
	if !hasCommit(w.repo, t.commit) {
		if err := f.fetchTarget(ctx, w.repo, r, t); err != nil {
			return nil, newError(ctx, s, r, nil, err, "")
		}
	}

	old := w.head.Hash
	if err := w.moveTo(t.commit); err != nil {
		return nil, newError(ctx, s, r, nil, err, "")
	}
	if err := f.updateSubmodules(ctx, s, w.repo); err != nil {
		return nil, err
	}
	if err := w.finish(); err != nil {
		return nil, err
	}
	f.log().Info("fetched new commit", "source", s.String(), "from", old.String(),
		"to", t.commit.String())
	return w.checkout(s)
}

// clone fetches s into a new directory beside dir and renames it into place once complete.
func (f *Fetcher) clone(ctx context.Context, s Spec, r *remote, dir string) (*Checkout, error) {
	f.log().Info("cloning", "source", s.String(), "dir", dir)
	t, err := f.resolve(ctx, s, r)
	if err != nil {
		return nil, err
	}

	parent, name := filepath.Split(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("creating source directory %q: %w", parent, err)
	}
	f.removePartials(parent, name)
	partial, err := os.MkdirTemp(parent, "."+name+partialInfix)
	if err != nil {
		return nil, fmt.Errorf("creating clone directory in %q: %w", parent, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			_ = os.RemoveAll(partial)
		}
	}()

	if err := f.cloneInto(ctx, s, r, partial, t); err != nil {
		return nil, err
	}
	if err := os.Rename(partial, dir); err != nil {
		return nil, fmt.Errorf("moving clone of %s into %q: %w", s, dir, err)
	}
	renamed = true

	w, err := openWorktree(dir)
	if err != nil {
		return nil, fmt.Errorf("opening clone of %s in %q: %w", s, dir, err)
	}
	f.log().Info("cloned", "source", s.String(), "commit", w.head.Hash.String())
	return w.checkout(s)
}

// cloneInto initialises a repository in dir and checks t out there, submodules included.
func (f *Fetcher) cloneInto(ctx context.Context, s Spec, r *remote, dir string, t target) error {
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		return fmt.Errorf("initialising clone of %s in %q: %w", s, dir, err)
	}
	_, err = repo.CreateRemote(&config.RemoteConfig{
		Name: git.DefaultRemoteName,
		URLs: []string{r.url},
	})
	if err != nil {
		return fmt.Errorf("configuring clone of %s: %w", s, err)
	}
	if err := f.fetchTarget(ctx, repo, r, t); err != nil {
		return newError(ctx, s, r, nil, err, "")
	}
	if err := checkoutCommit(repo, t.commit); err != nil {
		return newError(ctx, s, r, nil, err, "")
	}
	return f.updateSubmodules(ctx, s, repo)
}

// removePartials deletes clones that an earlier run left unfinished.
func (f *Fetcher) removePartials(parent, name string) {
	leftovers, _ := filepath.Glob(filepath.Join(parent, "."+name+partialInfix+"*"))
	for _, leftover := range leftovers {
		f.log().Info("removing unfinished clone", "dir", leftover)
		_ = os.RemoveAll(leftover)
	}
}

// updateSubmodules brings every submodule of repo, recursively, to the commit the
// superproject records, fetching only what is missing, at depth 1 where the server allows.
func (f *Fetcher) updateSubmodules(ctx context.Context, s Spec, repo *git.Repository) error {
	tree, err := repo.Worktree()
	if err != nil {
		return fmt.Errorf("fetching submodules of %s: %w", s, err)
	}
	subs, err := tree.Submodules()
	if err != nil {
		return fmt.Errorf("fetching submodules of %s: reading .gitmodules: %w", s, err)
	}
	for _, sub := range subs {
		if err := f.updateSubmodule(ctx, s, sub); err != nil {
			return err
		}
	}
	return nil
}

// updateSubmodule checks one submodule out at its recorded commit.
func (f *Fetcher) updateSubmodule(ctx context.Context, s Spec, sub *git.Submodule) error {
	path := sub.Config().Path
	fail := func(r *remote, err error) error {
		cause := fmt.Errorf("updating submodule %q from %q: %w", path,
			redactURL(sub.Config().URL), err)
		return newError(ctx, s, r, nil, cause, "")
	}

	if err := sub.Init(); err != nil && !errors.Is(err, git.ErrSubmoduleAlreadyInitialized) {
		return fail(nil, err)
	}
	status, err := sub.Status()
	if err != nil {
		return fail(nil, err)
	}
	subRepo, err := sub.Repository()
	if err != nil {
		return fail(nil, err)
	}
	origin, err := subRepo.Remote(git.DefaultRemoteName)
	if err != nil {
		return fail(nil, err)
	}
	r, err := f.Auth.newRemote(origin.Config().URLs[0], httpHost(s.Repo))
	if err != nil {
		return fail(nil, err)
	}

	if !hasCommit(subRepo, status.Expected) {
		if err := f.fetchSubmoduleCommit(ctx, subRepo, r, status.Expected); err != nil {
			return fail(r, err)
		}
	}
	if err := checkoutCommit(subRepo, status.Expected); err != nil {
		return fail(r, err)
	}
	return f.updateSubmodules(ctx, s, subRepo)
}

// fetchSubmoduleCommit fetches a submodule's commit through a ref pointing at it when the
// remote has one, else by id.
func (f *Fetcher) fetchSubmoduleCommit(ctx context.Context, repo *git.Repository, r *remote,
	commit plumbing.Hash) error {
	refs, err := listRefs(ctx, r)
	if err != nil {
		return err
	}
	t := target{commit: commit, ref: newAdvertisement(refs).tipOf(commit)}
	return f.fetchTarget(ctx, repo, r, t)
}
