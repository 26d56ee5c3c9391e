package build

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"go.podman.io/buildah/define"
	"go.podman.io/buildah/pkg/parse"
	"go.podman.io/common/libnetwork/network"
	nettypes "go.podman.io/common/libnetwork/types"
	"go.podman.io/common/pkg/config"
	"go.podman.io/storage"
	"go.podman.io/storage/pkg/configfile"
	"go.podman.io/storage/pkg/unshare"
	"golang.org/x/sys/unix"
)

// settings are the machine-dependent parts of every build, chosen once per Builder.
type settings struct {
	policyPath     string // empty: the user's own signature policy
	registriesPath string // empty: the user's own registries configuration
	isolation      define.Isolation
	network        nettypes.ContainerNetwork
	ulimits        []string
}

// The files written where the machine has no containers configuration of its own.
const (
	// acceptPolicy accepts every image, as the policy that container tools ship does:
	// builds commit into local storage, and base images come from registries the user named.
	acceptPolicy = `{"default": [{"type": "insecureAcceptAnything"}]}` + "\n"
	// dockerHubRegistries resolves short names such as "debian:bookworm" to Docker Hub, as
	// Docker does. Images built locally are still found first under "localhost/".
	dockerHubRegistries = `unqualified-search-registries = ["docker.io"]` + "\n"
)

// chooseSettings fills in what the machine lacks, logging each choice once.
func chooseSettings(store storage.Store, stateDir string, logger *slog.Logger) (settings, error) {
	var s settings
	var err error
	s.policyPath, err = policyFile(stateDir, "", logger)
	if err != nil {
		return s, err
	}
	s.registriesPath, err = registriesFile(stateDir, "", logger)
	if err != nil {
		return s, err
	}
	if s.isolation, err = isolation(logger); err != nil {
		return s, err
	}
	conf, err := config.Default()
	if err != nil {
		return s, fmt.Errorf("reading containers.conf: %w", err)
	}
	s.network = networkBackend(store, conf, logger)
	s.ulimits = ulimits(conf.Containers.DefaultUlimits.Get(), logger)
	return s, nil
}

// policyFile returns "" when the user has a signature policy, or else the path of one
// written into stateDir. A non-empty root is put in front of the system-wide locations.
func policyFile(stateDir, root string, logger *slog.Logger) (string, error) {
	found := configExists(&configfile.File{
		Name: "policy", Extension: "json",
		EnvironmentName: "CONTAINERS_POLICY_JSON", DoNotLoadDropInFiles: true,
		RootForImplicitAbsolutePaths: root,
	})
	if found {
		return "", nil
	}
	path, err := writeDefault(stateDir, "policy.json", acceptPolicy)
	if err != nil {
		return "", fmt.Errorf("providing a signature policy: %w; "+
			"or install /etc/containers/policy.json (Debian package "+
			"golang-github-containers-common)", err)
	}
	logger.Debug("no signature policy found; using one that accepts every image", "path", path)
	return path, nil
}

// registriesFile returns "" when the user has a registries configuration, or else the path
// of one written into stateDir. A non-empty root is put in front of the system-wide
// locations.
func registriesFile(stateDir, root string, logger *slog.Logger) (string, error) {
	found := configExists(&configfile.File{
		Name: "registries", Extension: "conf",
		EnvironmentName:              "CONTAINERS_REGISTRIES_CONF",
		UserId:                       unshare.GetRootlessUID(),
		RootForImplicitAbsolutePaths: root,
	})
	if found {
		return "", nil
	}
	path, err := writeDefault(stateDir, "registries.conf", dockerHubRegistries)
	if err != nil {
		return "", fmt.Errorf("providing a registries configuration: %w; "+
			"or install /etc/containers/registries.conf (Debian package "+
			"golang-github-containers-image)", err)
	}
	logger.Debug("no registries configuration found; short image names resolve to docker.io",
		"path", path)
	return path, nil
}

// configExists reports whether any file the containers libraries would read for f exists.
func configExists(f *configfile.File) bool {
	if os.Getenv(f.EnvironmentName) != "" {
		return true // named explicitly: the libraries report it if it is missing
	}
	paths, err := configfile.GetSearchPaths(f)
	if err != nil {
		return false
	}
	candidates := append([]string{paths.ExtraOverrideFile}, paths.MainFiles...)
	for _, path := range candidates {
		if path == "" {
			continue
		}
		if _, err := os.Stat(path); err == nil {
			return true
		}
	}
	for _, dir := range paths.DropInDirectories {
		if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
			return true
		}
	}
	return false
}

// writeDefault writes content to stateDir/name unless it is already there, and returns
// the file's path.
func writeDefault(stateDir, name, content string) (string, error) {
	if stateDir == "" {
		return "", fmt.Errorf("writing %q: no state directory was given (Options.StateDir)", name)
	}
	path := filepath.Join(stateDir, name)
	if current, err := os.ReadFile(path); err == nil && string(current) == content {
		return path, nil
	}
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return "", fmt.Errorf("creating %q: %w", stateDir, err)
	}
	temporary, err := os.CreateTemp(stateDir, name+".*")
	if err != nil {
		return "", fmt.Errorf("writing %q: %w", path, err)
	}
	defer os.Remove(temporary.Name())
	if _, err := temporary.WriteString(content); err != nil {
		temporary.Close()
		return "", fmt.Errorf("writing %q: %w", path, err)
	}
	if err := temporary.Chmod(0o644); err != nil {
		temporary.Close()
		return "", fmt.Errorf("writing %q: %w", path, err)
	}
	if err := temporary.Close(); err != nil {
		return "", fmt.Errorf("writing %q: %w", path, err)
	}
	if err := os.Rename(temporary.Name(), path); err != nil {
		return "", fmt.Errorf("writing %q: %w", path, err)
	}
	return path, nil
}

// isolation honours BUILDAH_ISOLATION and otherwise runs RUN steps with chroot, which needs
// no OCI runtime.
func isolation(logger *slog.Logger) (define.Isolation, error) {
	value := os.Getenv("BUILDAH_ISOLATION")
	if value == "" {
		logger.Debug("BUILDAH_ISOLATION not set; RUN steps use chroot isolation")
		return define.IsolationChroot, nil
	}
	chosen, err := parse.IsolationOption(value)
	if err != nil {
		return 0, fmt.Errorf("reading BUILDAH_ISOLATION %q: %w; use chroot, oci or rootless",
			value, err)
	}
	logger.Debug("RUN steps use the isolation BUILDAH_ISOLATION names", "isolation", value)
	return chosen, nil
}

// networkBackend returns the configured netavark backend, or else one that offers only the
// host's network, which is all the builds use.
func networkBackend(store storage.Store, conf *config.Config,
	logger *slog.Logger) nettypes.ContainerNetwork {
	_, backend, err := network.NetworkBackend(store, conf, false)
	if err == nil {
		return backend
	}
	logger.Debug("no network backend available; builds use the host network only",
		"reason", err.Error())
	return hostNetwork{}
}

// ulimits returns nofile and nproc limits no higher than this process's hard limits, where
// buildah's own default would exceed them and containers.conf sets none.
func ulimits(configured []string, logger *slog.Logger) []string {
	var limits []string
	for _, limit := range []struct {
		name     string
		resource int
	}{{"nofile", unix.RLIMIT_NOFILE}, {"nproc", unix.RLIMIT_NPROC}} {
		if ulimitConfigured(configured, limit.name) {
			continue
		}
		var current unix.Rlimit
		if err := unix.Getrlimit(limit.resource, &current); err != nil {
			continue
		}
		if current.Max >= define.RLimitDefaultValue {
			continue
		}
		value := fmt.Sprintf("%s=%d:%d", limit.name, current.Max, current.Max)
		logger.Debug("hard limit below buildah's default; RUN steps get the process's own",
			"ulimit", value)
		limits = append(limits, value)
	}
	return limits
}

// ulimitConfigured reports whether configured (containers.conf default_ulimits) sets name.
func ulimitConfigured(configured []string, name string) bool {
	for _, setting := range configured {
		if strings.HasPrefix(strings.ToLower(setting), name+"=") {
			return true
		}
	}
	return false
}
