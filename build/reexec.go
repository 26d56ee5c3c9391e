package build

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strings"

	"go.podman.io/buildah"
	"go.podman.io/storage/pkg/unshare"
)

// The files that grant a user ranges of subordinate IDs.
const (
	subUIDFile = "/etc/subuid"
	subGIDFile = "/etc/subgid"
)

// Reexec must be called first thing in main (or TestMain, or a magefile's init) of any
// program that builds. Buildah starts helper processes by running the program again; in
// such a helper Reexec does the helper's work and returns true, and the caller must then
// exit with status 0.
//
// Run by a user other than root, Reexec then runs the program again inside a user namespace
// in which that user is root, which is how buildah builds rootless; that call does not
// return, the program exits with the status of its copy. Before it does, it checks that the
// user has subordinate ID ranges and that newuidmap and newgidmap are installed, and returns
// an error saying what to install or add where they are not. RUN steps of rootless builds
// use chroot isolation unless BUILDAH_ISOLATION says otherwise.
func Reexec() (bool, error) {
	if buildah.InitReexec() {
		return true, nil
	}
	if os.Geteuid() == 0 {
		return false, nil // root, or already the copy inside the user namespace
	}
	me, err := user.Current()
	if err != nil {
		return false, fmt.Errorf("looking up the current user: %w", err)
	}
	if err := checkRootless(me.Username, me.Uid, subUIDFile, subGIDFile); err != nil {
		return false, err
	}
	if os.Getenv("BUILDAH_ISOLATION") == "" {
		if err := os.Setenv("BUILDAH_ISOLATION", "chroot"); err != nil {
			return false, fmt.Errorf("setting BUILDAH_ISOLATION: %w", err)
		}
	}
	unshare.MaybeReexecUsingUserNamespace(false)
	return false, nil
}

// checkRootless reports everything that keeps the user from building rootless.
func checkRootless(username, uid, subUIDs, subGIDs string) error {
	var problems []error
	for _, tool := range []string{"newuidmap", "newgidmap"} {
		if _, err := exec.LookPath(tool); err != nil {
			problems = append(problems, fmt.Errorf("%s is not installed: "+
				"install the Debian package uidmap (apt-get install uidmap)", tool))
		}
	}
	for _, file := range []string{subUIDs, subGIDs} {
		found, err := hasSubIDRange(file, username, uid)
		if err != nil {
			problems = append(problems, fmt.Errorf("reading %q: %w", file, err))
		}
		if !found {
			problems = append(problems, fmt.Errorf("%q grants user %q no ID range: as root, run "+
				"usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s",
				file, username, username))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("building as user %q needs a user namespace: %w",
		username, errors.Join(problems...))
}

// hasSubIDRange reports whether file (in /etc/subuid's format, "user:start:count") gives
// a non-empty range to the user named username or numbered uid.
func hasSubIDRange(file, username, uid string) (bool, error) {
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		fields := strings.Split(strings.TrimSpace(lines.Text()), ":")
		if len(fields) != 3 || (fields[0] != username && fields[0] != uid) {
			continue
		}
		if fields[2] != "" && fields[2] != "0" {
			return true, nil
		}
	}
	return false, lines.Err()
}
