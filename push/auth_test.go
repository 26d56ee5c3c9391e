package push_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/polardb/imagebuilder/push"
)

// The account of the registries that ask for credentials.
const (
	user     = "pusher"
	password = "Pa55-never-printed-7f3c"
)

// writeAuthFile writes a containers-auth.json (Docker config.json) file at path granting
// user with secret on registry.
func writeAuthFile(t *testing.T, path, registry, secret string) string {
	t.Helper()
	token := base64.StdEncoding.EncodeToString([]byte(user + ":" + secret))
	writeFile(t, path, `{"auths": {"`+registry+`": {"auth": "`+token+`"}}}`+"\n")
	return path
}

// testPushWithCredentials pushes to a registry with basic authentication, with the
// credentials found in each of the places the standard lookup reads, and checks that the
// password appears in no log and no report.
func testPushWithCredentials(t *testing.T, f *fixture) {
	tests := []struct {
		name string
		// setup stores credentials for registry and returns Options.AuthFile.
		setup func(t *testing.T, registry string) string
	}{{
		name: "Options.AuthFile",
		setup: func(t *testing.T, registry string) string {
			return writeAuthFile(t, filepath.Join(t.TempDir(), "auth.json"), registry, password)
		},
	}, {
		name: "REGISTRY_AUTH_FILE",
		setup: func(t *testing.T, registry string) string {
			path := filepath.Join(t.TempDir(), "auth.json")
			t.Setenv("REGISTRY_AUTH_FILE", writeAuthFile(t, path, registry, password))
			return ""
		},
	}, {
		name: "DOCKER_CONFIG",
		setup: func(t *testing.T, registry string) string {
			dir := t.TempDir()
			writeAuthFile(t, filepath.Join(dir, "config.json"), registry, password)
			t.Setenv("DOCKER_CONFIG", dir)
			return ""
		},
	}, {
		name: "${XDG_RUNTIME_DIR}/containers/auth.json",
		setup: func(t *testing.T, registry string) string {
			dir := t.TempDir()
			writeAuthFile(t, filepath.Join(dir, "containers", "auth.json"), registry, password)
			t.Setenv("XDG_RUNTIME_DIR", dir)
			return ""
		},
	}, {
		name: "~/.docker/config.json",
		setup: func(t *testing.T, registry string) string {
			home := t.TempDir()
			writeAuthFile(t, filepath.Join(home, ".docker", "config.json"), registry, password)
			t.Setenv("HOME", home)
			return ""
		},
	}, {
		name: "~/.config/containers/auth.json",
		setup: func(t *testing.T, registry string) string {
			home := t.TempDir()
			path := filepath.Join(home, ".config", "containers", "auth.json")
			writeAuthFile(t, path, registry, password)
			t.Setenv("HOME", home)
			return ""
		},
	}}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			isolateCredentials(t)
			reg := newRegistry(t, user, password)
			var output logBuffer
			pusher, logs := f.pusher(t, push.Options{
				AuthFile: test.setup(t, reg.Host),
				Output:   &output,
			})
			ref := reg.Host + "/polardb/engine:15.1"

			pushed, err := pusher.Push(context.Background(), imageName, destination(t, ref))
			if err != nil {
				t.Fatalf("Push: %v", err)
			}

			descriptor, image := remoteImage(t, ref,
				&authn.Basic{Username: user, Password: password})
			if descriptor.Digest.String() != pushed.Digest {
				t.Errorf("registry holds %s, Push reported %q", descriptor.Digest, pushed.Digest)
			}
			f.assertContent(t, image)
			assertNoSecret(t, map[string]string{"pusher log": logs.String(),
				"copy report": output.String(), "library log": f.library.String()})
		})
	}
}

// isolateCredentials points every place the standard lookup reads at empty directories,
// so that only what the test writes is found.
func isolateCredentials(t *testing.T) {
	t.Helper()
	for _, variable := range []string{"REGISTRY_AUTH_FILE", "DOCKER_CONFIG",
		"XDG_CONFIG_HOME"} {
		t.Setenv(variable, "")
	}
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
}

// assertNoSecret fails the test if any of texts (name to text) shows the password, plain
// or encoded.
func assertNoSecret(t *testing.T, texts map[string]string) {
	t.Helper()
	encoded := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	for what, text := range texts {
		if strings.Contains(text, password) || strings.Contains(text, encoded) {
			t.Errorf("the %s shows the password:\n%s", what, text)
		}
	}
}

// testPushFailsAtOnce meets failures that no retry mends: the push stops after one
// attempt, well inside the first backoff, with an error that names the image, the
// destination and what to do.
func testPushFailsAtOnce(t *testing.T, f *fixture) {
	const backoff = 10 * time.Second
	tests := []struct {
		name  string
		image string
		// serve starts what to push to and returns its host and Options.AuthFile.
		serve func(t *testing.T) (string, string)
		want  []string
		// early is set for failures found before the first attempt.
		early bool
	}{{
		name:  "missing image",
		image: "polardb_pg/absent:1",
		serve: func(t *testing.T) (string, string) { return newRegistry(t).Host, "" },
		want:  []string{"no image", "build it first"},
		early: true,
	}, {
		name: "no credentials",
		serve: func(t *testing.T) (string, string) {
			return newRegistry(t, user, password).Host, ""
		},
		want: []string{`registry "HOST" asks for credentials and none were found`,
			`"podman login HOST"`, "REGISTRY_AUTH_FILE"},
	}, {
		name: "wrong password",
		serve: func(t *testing.T) (string, string) {
			reg := newRegistry(t, user, password)
			path := filepath.Join(t.TempDir(), "auth.json")
			return reg.Host, writeAuthFile(t, path, reg.Host, "not-"+password)
		},
		want: []string{`registry "HOST" refused the credentials found`,
			"podman login --authfile "},
	}, {
		name: "front answering 401",
		serve: func(t *testing.T) (string, string) {
			reg := newRegistry(t)
			return front(t, reg.URL, func(*http.Request) fault { return unauthorized }), ""
		},
		want: []string{`registry "HOST" asks for credentials`, `"podman login HOST"`,
			`"buildah login HOST"`},
	}, {
		name: "front answering 403 to uploads",
		serve: func(t *testing.T) (string, string) {
			reg := newRegistry(t)
			return front(t, reg.URL, firstN(1000, forbidden, uploadStart)), ""
		},
		want: []string{`registry "HOST" denied the push`, `"podman login HOST"`},
	}, {
		name: "missing auth file",
		serve: func(t *testing.T) (string, string) {
			return newRegistry(t).Host, filepath.Join(t.TempDir(), "absent.json")
		},
		want:  []string{"reading auth file", "absent.json", "podman login --authfile"},
		early: true,
	}}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			isolateCredentials(t)
			host, authFile := test.serve(t)
			var output logBuffer
			pusher, logs := f.pusher(t, push.Options{Attempts: 5, Backoff: backoff,
				AuthFile: authFile, Output: &output})
			image := test.image
			if image == "" {
				image = imageName
			}
			dest := "docker://" + host + "/polardb/engine:15.1"
			start := time.Now()

			pushed, err := pusher.Push(context.Background(), image, destination(t, dest))

			elapsed := time.Since(start)
			if err == nil {
				t.Fatal("Push succeeded")
			}
			t.Logf("after %s: %v", elapsed.Round(time.Millisecond), err)
			want := append([]string{`pushing "` + image + `" to "` + dest + `"`}, test.want...)
			for _, part := range want {
				part = strings.ReplaceAll(part, "HOST", host)
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error does not contain %q:\n%v", part, err)
				}
			}
			attempts := 1
			if test.early {
				attempts = 0
			}
			if pushed.Attempts != attempts || elapsed > backoff/2 {
				t.Errorf("Push made %d attempts in %s, want %d without waiting %s",
					pushed.Attempts, elapsed, attempts, backoff)
			}
			if retries := logs.lines("push failed; retrying"); len(retries) != 0 {
				t.Errorf("retries logged:\n%s", logs.String())
			}
			assertNoSecret(t, map[string]string{"error": err.Error(), "pusher log": logs.String(),
				"copy report": output.String(), "library log": f.library.String()})
		})
	}
}
