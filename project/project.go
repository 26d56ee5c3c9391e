// Package project reads the builder project's own git identity: the remote, branch, commit and
// builder e-mail that every image records as build arguments.
package project

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"

	"github.com/polardb/imagebuilder/plan"
)

// Info is the project's git identity. Fields are empty when the project is not a git checkout.
type Info struct {
	// Source is the URL of the origin remote, with credentials removed.
	Source string
	// Branch is the checked-out branch; empty on a detached HEAD.
	Branch string
	// Commit is the full id of HEAD.
	Commit string
	// CommitTime is HEAD's committer time.
	CommitTime time.Time
	// Email is the builder's git e-mail.
	Email string
}

// Read returns the git identity of the project at dir. A directory that is not inside a git
// checkout gives an empty Info and no error: images can be built from an unpacked tarball.
func Read(dir string) (Info, error) {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return Info{Email: email(nil)}, nil
	}
	if err != nil {
		return Info{}, fmt.Errorf("opening project repository %q: %w", dir, err)
	}
	info := Info{Email: email(repo)}
	if remote, err := repo.Remote("origin"); err == nil && len(remote.Config().URLs) > 0 {
		info.Source = plan.Redact(remote.Config().URLs[0])
	}
	head, err := repo.Head()
	if err != nil {
		// A repository without commits has no HEAD yet; it is as good as none.
		return info, nil
	}
	if head.Name().IsBranch() {
		info.Branch = head.Name().Short()
	}
	commit, err := repo.CommitObject(head.Hash())
	if err != nil {
		return Info{}, fmt.Errorf("reading project commit %s: %w", head.Hash(), err)
	}
	info.Commit = commit.Hash.String()
	info.CommitTime = commit.Committer.When
	return info, nil
}

// email finds the builder's e-mail the way git does: the environment, then the repository's
// configuration, then the user's.
func email(repo *git.Repository) string {
	for _, name := range []string{"GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL", "EMAIL"} {
		if value := os.Getenv(name); value != "" {
			return value
		}
	}
	if repo != nil {
		if cfg, err := repo.Config(); err == nil && cfg.User.Email != "" {
			return cfg.User.Email
		}
	}
	if cfg, err := gitconfig.LoadConfig(gitconfig.GlobalScope); err == nil {
		return cfg.User.Email
	}
	return ""
}
