// Package tag derives image tags the way the original builder shaped them, from source
// commits instead of the wall clock, so the same inputs give the same tag on every machine.
package tag

import (
	"fmt"
	"time"

	"github.com/distribution/reference"

	"github.com/polardb/imagebuilder/version"
)

// timeLayout is the original builder's YYYYmmddHHMMSS time stamp.
const timeLayout = "20060102150405"

// Unversioned stands in for a commit id when the project is not a git checkout.
const Unversioned = "unversioned"

// Engine returns an engine image's tag:
// <version>.<release date>.<first 8 of commit>.<commit time YYYYmmddHHMMSS>.
// A tree that declares no release date uses the commit's date.
func Engine(v version.Info, commit string, committed time.Time) string {
	committed = committed.UTC()
	releaseDate := v.ReleaseDate
	if releaseDate == "" {
		releaseDate = committed.Format("20060102")
	}
	return fmt.Sprintf("%s.%s.%s.%s", v.Full, releaseDate, short(commit),
		committed.Format(timeLayout))
}

// Manager returns a manager image's tag: <time YYYYmmddHHMMSS>.<first 8 of project commit>.
// The time is the later of the project's and the engine's commit times, so a manager moved
// onto a new engine gets a new tag even when the project itself did not change.
func Manager(projectCommit string, projectTime, engineTime time.Time) string {
	latest := projectTime
	if engineTime.After(latest) {
		latest = engineTime
	}
	commit := short(projectCommit)
	if commit == "" {
		commit = Unversioned
	}
	return latest.UTC().Format(timeLayout) + "." + commit
}

// FullName returns name with tag appended, or name unchanged when it already carries a tag.
func FullName(name, tag string) (string, error) {
	if HasTag(name) {
		return name, nil
	}
	full := name + ":" + tag
	if _, err := reference.ParseNormalizedNamed(full); err != nil {
		return "", fmt.Errorf("naming image %q with tag %q: %w", name, tag, err)
	}
	return full, nil
}

// HasTag reports whether an image name already carries a :tag.
func HasTag(name string) bool {
	named, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return false
	}
	_, tagged := named.(reference.Tagged)
	return tagged
}

func short(commit string) string {
	if len(commit) > 8 {
		return commit[:8]
	}
	return commit
}
