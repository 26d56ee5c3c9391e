package source

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"
)

// target is the commit a ref resolves to, and the advertised ref that points at it ("" when
// no ref does and the commit must be fetched by its id).
type target struct {
	commit plumbing.Hash
	ref    plumbing.ReferenceName
}

// unshallowDepth asks for every ancestor, as git's --unshallow does.
const unshallowDepth = math.MaxInt32

// isCommitID reports whether ref is a full hexadecimal commit id.
func isCommitID(ref string) bool {
	return len(ref) == 40 && strings.Trim(strings.ToLower(ref), "0123456789abcdef") == ""
}

// listRefs reads the references the remote advertises, annotated tags with their peeled
// commits ("refs/tags/v1^{}"). It is the ls-remote of git: no objects are transferred.
func listRefs(ctx context.Context, r *remote) ([]*plumbing.Reference, error) {
	lister := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{
		Name: git.DefaultRemoteName,
		URLs: []string{r.url},
	})
	return lister.ListContext(ctx, &git.ListOptions{Auth: r.auth, PeelingOption: git.AppendPeeled})
}

// resolve asks the remote where the ref of s points.
func (f *Fetcher) resolve(ctx context.Context, s Spec, r *remote) (target, error) {
	f.log().Debug("listing remote refs", "source", s.String())
	refs, err := listRefs(ctx, r)
	if err != nil {
		return target{}, newError(ctx, s, r, nil, err, "")
	}
	advertised := newAdvertisement(refs)
	if isCommitID(s.Ref) {
		commit := plumbing.NewHash(strings.ToLower(s.Ref))
		return target{commit: commit, ref: advertised.tipOf(commit)}, nil
	}
	if t, ok := advertised.find(s.Ref); ok {
		return t, nil
	}
	return target{}, refNotFound(ctx, s, r, advertised)
}

// advertisement indexes a remote's refs by name, with commits that tags peel to.
type advertisement struct {
	hashes map[plumbing.ReferenceName]plumbing.Hash
}

func newAdvertisement(refs []*plumbing.Reference) advertisement {
	a := advertisement{hashes: make(map[plumbing.ReferenceName]plumbing.Hash)}
	symbolic := make(map[plumbing.ReferenceName]plumbing.ReferenceName)
	for _, ref := range refs {
		if ref.Type() == plumbing.SymbolicReference {
			symbolic[ref.Name()] = ref.Target()
			continue
		}
		a.hashes[ref.Name()] = ref.Hash()
	}
	for name, to := range symbolic {
		if hash, ok := a.hashes[to]; ok {
			a.hashes[name] = hash
		}
	}
	return a
}

// commitOf returns the commit name points at, peeling an annotated tag.
func (a advertisement) commitOf(name plumbing.ReferenceName) (plumbing.Hash, bool) {
	if peeled, ok := a.hashes[name+"^{}"]; ok {
		return peeled, true
	}
	hash, ok := a.hashes[name]
	return hash, ok
}

// find looks ref up as a full ref name, a branch, then a tag, the order git clone uses.
func (a advertisement) find(ref string) (target, bool) {
	candidates := []plumbing.ReferenceName{
		plumbing.NewBranchReferenceName(ref),
		plumbing.NewTagReferenceName(ref),
	}
	if strings.HasPrefix(ref, "refs/") || ref == "HEAD" {
		candidates = []plumbing.ReferenceName{plumbing.ReferenceName(ref)}
	}
	for _, name := range candidates {
		if commit, ok := a.commitOf(name); ok {
			return target{commit: commit, ref: name}, true
		}
	}
	return target{}, false
}

// tipOf returns a branch or tag pointing at commit, preferring branches, or "".
func (a advertisement) tipOf(commit plumbing.Hash) plumbing.ReferenceName {
	var names []string
	for name := range a.hashes {
		if name.IsBranch() || name.IsTag() {
			names = append(names, name.String())
		}
	}
	sort.Strings(names) // refs/heads/ sorts before refs/tags/
	for _, name := range names {
		if c, _ := a.commitOf(plumbing.ReferenceName(name)); c == commit {
			return plumbing.ReferenceName(name)
		}
	}
	return ""
}

// branches lists the advertised branch names, sorted.
func (a advertisement) branches() []string {
	var names []string
	for name := range a.hashes {
		if name.IsBranch() {
			names = append(names, name.Short())
		}
	}
	sort.Strings(names)
	return names
}

// maxListedBranches bounds how many branch names a ref-not-found error lists.
const maxListedBranches = 10

// refNotFound explains a ref the remote does not have, listing some branches it does have.
func refNotFound(ctx context.Context, s Spec, r *remote, a advertisement) error {
	cause := fmt.Errorf("%q is not a branch, tag or commit of %q", s.Ref, redactURL(s.Repo))
	if names := a.branches(); len(names) > 0 {
		listed := names
		if len(listed) > maxListedBranches {
			listed = listed[:maxListedBranches]
		}
		more := ""
		if len(names) > len(listed) {
			more = fmt.Sprintf(" and %d more", len(names)-len(listed))
		}
		cause = fmt.Errorf("%w (its branches: %s%s)", cause, strings.Join(listed, ", "), more)
	}
	hint := hintMainBranch
	if len(s.Ref) < 40 && strings.Trim(strings.ToLower(s.Ref), "0123456789abcdef") == "" {
		hint = "give a commit as its full 40-character id; " + hint
	}
	return newError(ctx, s, r, ErrRefNotFound, cause, hint)
}

// refSpecFor maps an advertised ref to where the checkout keeps it.
func refSpecFor(name plumbing.ReferenceName) config.RefSpec {
	local := name
	switch {
	case name.IsBranch():
		local = plumbing.NewRemoteReferenceName(git.DefaultRemoteName, name.Short())
	case name == plumbing.HEAD:
		local = plumbing.NewRemoteHEADReferenceName(git.DefaultRemoteName)
	}
	return config.RefSpec("+" + name.String() + ":" + local.String())
}

// fetchTarget makes the commit of t present in repo, transferring as little as the server
// allows: the advertised ref at depth 1 when there is one, else the commit by its id.
func (f *Fetcher) fetchTarget(ctx context.Context, repo *git.Repository, r *remote,
	t target) error {
	if t.ref != "" {
		f.log().Debug("fetching", "ref", t.ref.String(), "commit", t.commit.String())
		return fetchRefSpecs(ctx, repo, r, 1, refSpecFor(t.ref))
	}

	// go-git v5 speaks only protocol v0/v1, where a server hands out a commit that no ref
	// points at only if it advertises allow-reachable-sha1-in-want (or allow-tip-sha1-in-want).
	// GitHub does; a stock git server (upload-pack, http-backend) does not unless
	// uploadpack.allowReachableSHA1InWant is set, and go-git then fails with
	// ErrExactSHA1NotSupported before transferring anything. The only other way to reach
	// such a commit is through the history of the branches and tags, so fetch all of it
	// unshallowed: what git itself would have to do against that server.
	f.log().Debug("fetching commit by id", "commit", t.commit.String())
	pinned := config.RefSpec("+" + t.commit.String() + ":refs/pinned/" + t.commit.String())
	err := fetchRefSpecs(ctx, repo, r, 1, pinned)
	if errors.Is(err, git.ErrExactSHA1NotSupported) {
		f.log().Debug("server does not serve commits by id; fetching full history",
			"commit", t.commit.String())
		err = fetchRefSpecs(ctx, repo, r, unshallowDepth,
			"+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*")
	}
	if err != nil && !strings.Contains(err.Error(), "not our ref") {
		return err
	}
	if !hasCommit(repo, t.commit) {
		return fmt.Errorf("%w: commit %s is not in the repository", ErrRefNotFound, t.commit)
	}
	return nil
}

// fetchRefSpecs fetches specs from r into repo; an up-to-date result is not an error.
func fetchRefSpecs(ctx context.Context, repo *git.Repository, r *remote, depth int,
	specs ...config.RefSpec) error {
	err := repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: git.DefaultRemoteName,
		RemoteURL:  r.url,
		RefSpecs:   specs,
		Depth:      depth,
		Auth:       r.auth,
		Tags:       git.NoTags,
		Force:      true,
	})
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	return err
}
