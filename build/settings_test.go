package build

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.podman.io/buildah/define"
	nettypes "go.podman.io/common/libnetwork/types"
	"go.podman.io/common/pkg/config"
	"go.podman.io/image/v5/pkg/sysregistriesv2"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"
	"golang.org/x/sys/unix"
)

// configCase places one configuration file (or none) where the containers libraries look.
type configCase struct {
	name    string
	place   func(t *testing.T, root, home string) // creates the user's configuration, if any
	ownFile bool                                  // whether the Builder must provide one
}

// configCases are the places a user's configuration file named file may be.
func configCases(file, envName string) []configCase {
	write := func(t *testing.T, path string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return []configCase{
		{"none anywhere", func(*testing.T, string, string) {}, true},
		{"system-wide in /etc", func(t *testing.T, root, _ string) {
			write(t, filepath.Join(root, "etc/containers", file))
		}, false},
		{"shipped in /usr/share", func(t *testing.T, root, _ string) {
			write(t, filepath.Join(root, "usr/share/containers", file))
		}, false},
		{"the user's own", func(t *testing.T, _, home string) {
			write(t, filepath.Join(home, "containers", file))
		}, false},
		{"named by " + envName, func(t *testing.T, _, home string) {
			t.Setenv(envName, filepath.Join(home, "elsewhere"))
		}, false},
	}
}

// runConfigCases runs choose for every case with a fresh root, config home and state
// directory, and checks that it provides a file exactly when the user has none.
func runConfigCases(t *testing.T, cases []configCase,
	choose func(stateDir, root string) (string, error), check func(t *testing.T, path string)) {
	for _, test := range cases {
		t.Run(test.name, func(t *testing.T) {
			root, home, stateDir := t.TempDir(), t.TempDir(), t.TempDir()
			t.Setenv("XDG_CONFIG_HOME", home)
			test.place(t, root, home)
			path, err := choose(stateDir, root)
			if err != nil {
				t.Fatal(err)
			}
			if got := path != ""; got != test.ownFile {
				t.Fatalf("provided a file: %v, want %v (path %q)", got, test.ownFile, path)
			}
			if path != "" {
				check(t, path)
			}
		})
	}
}

// TestPolicyFile checks that a policy is provided only where the user has none, and that
// it parses and accepts images.
func TestPolicyFile(t *testing.T) {
	t.Setenv("CONTAINERS_POLICY_JSON", "")
	choose := func(stateDir, root string) (string, error) {
		return policyFile(stateDir, root, silent())
	}
	runConfigCases(t, configCases("policy.json", "CONTAINERS_POLICY_JSON"), choose,
		func(t *testing.T, path string) {
			policy, err := signature.NewPolicyFromFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(policy.Default) != 1 || policy.Default[0] == nil {
				t.Errorf("policy %+v does not have one default requirement", policy)
			}
		})
}

// TestRegistriesFile checks that a registries configuration is provided only where the
// user has none, and that it resolves short names to Docker Hub.
func TestRegistriesFile(t *testing.T) {
	t.Setenv("CONTAINERS_REGISTRIES_CONF", "")
	cases := append(configCases("registries.conf", "CONTAINERS_REGISTRIES_CONF"), configCase{
		"a drop-in file", func(t *testing.T, root, _ string) {
			dir := filepath.Join(root, "etc/containers/registries.conf.d")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "mirror.conf"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, false,
	})
	choose := func(stateDir, root string) (string, error) {
		return registriesFile(stateDir, root, silent())
	}
	runConfigCases(t, cases, choose, func(t *testing.T, path string) {
		search, err := sysregistriesv2.UnqualifiedSearchRegistries(
			&types.SystemContext{SystemRegistriesConfPath: path})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(search, []string{"docker.io"}) {
			t.Errorf("short names search %v, want docker.io", search)
		}
	})
}

// TestDefaultFilesNeedStateDir checks the error when a file is needed and there is no
// place to write it.
func TestDefaultFilesNeedStateDir(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("CONTAINERS_POLICY_JSON", "")
	_, err := policyFile("", t.TempDir(), silent())
	if err == nil || !strings.Contains(err.Error(), "StateDir") {
		t.Errorf("error %v does not mention StateDir", err)
	}
}

// TestIsolation checks the choice of isolation.
func TestIsolation(t *testing.T) {
	tests := []struct {
		name, env string
		want      define.Isolation
		wantErr   bool
	}{
		{"default", "", define.IsolationChroot, false},
		{"oci", "oci", define.IsolationOCI, false},
		{"rootless", "rootless", define.IsolationOCIRootless, false},
		{"chroot", "chroot", define.IsolationChroot, false},
		{"unknown", "vm", 0, true},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Setenv("BUILDAH_ISOLATION", test.env)
			got, err := isolation(silent())
			if (err != nil) != test.wantErr || got != test.want {
				t.Errorf("isolation() = %v, %v; want %v, error %v", got, err, test.want,
					test.wantErr)
			}
		})
	}
}

// TestUlimits checks that limits stay within the process's hard limits and that
// containers.conf settings win.
func TestUlimits(t *testing.T) {
	var nofile unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &nofile); err != nil {
		t.Fatal(err)
	}
	got := ulimits(nil, silent())
	want := nofile.Max < define.RLimitDefaultValue
	if has := hasPrefix(got, "nofile="); has != want {
		t.Errorf("ulimits %v: nofile set %v, want %v (hard limit %d)", got, has, want, nofile.Max)
	}
	if configured := ulimits([]string{"nofile=1024:1024", "nproc=512:512"}, silent()); len(
		configured) != 0 {
		t.Errorf("ulimits %v override containers.conf", configured)
	}
}

// TestNetworkBackend checks the fallback to the host network.
func TestNetworkBackend(t *testing.T) {
	conf, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	unsupported := *conf
	unsupported.Network.NetworkBackend = "cni" // no longer supported by the libraries
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	backend := networkBackend(nil, &unsupported, logger)
	if _, ok := backend.(hostNetwork); !ok {
		t.Fatalf("backend %T, want hostNetwork", backend)
	}
	if !strings.Contains(logs.String(), "host network only") {
		t.Errorf("fallback not logged: %q", logs.String())
	}
	if backend.DefaultNetworkName() != "host" {
		t.Errorf("default network %q", backend.DefaultNetworkName())
	}
	if _, err := backend.Setup("/proc/self/ns/net", nettypes.SetupOptions{}); err == nil {
		t.Error("host-only backend set up a network")
	}
}

// silent is a logger that drops everything.
func silent() *slog.Logger {
	return slog.New(slog.DiscardHandler)
}

// hasPrefix reports whether any of values starts with prefix.
func hasPrefix(values []string, prefix string) bool {
	return slices.ContainsFunc(values, func(v string) bool { return strings.HasPrefix(v, prefix) })
}
