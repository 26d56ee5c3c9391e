package push_test

import (
	"os"
	"strings"
	"testing"

	"github.com/polardb/imagebuilder/internal/buildtest"
	"github.com/polardb/imagebuilder/push"
)

// TestParseDestination reads destinations with and without transports, and rejects
// malformed ones with the problem and the accepted forms.
func TestParseDestination(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		input     string
		want      string // String() of the result
		transport string
		registry  string
		problem   string // in the error, when parsing must fail
	}{
		{name: "name on Docker Hub", input: "org/engine:15",
			want: "docker://docker.io/org/engine:15", transport: "docker", registry: "docker.io"},
		{name: "official image without tag", input: "engine",
			want: "docker://docker.io/library/engine:latest", transport: "docker",
			registry: "docker.io"},
		{name: "registry with port", input: "registry:5000/org/engine:tag",
			want: "docker://registry:5000/org/engine:tag", transport: "docker",
			registry: "registry:5000"},
		{name: "registry by address", input: "127.0.0.1:5000/x:1",
			want: "docker://127.0.0.1:5000/x:1", transport: "docker", registry: "127.0.0.1:5000"},
		{name: "docker transport", input: "docker://registry.example.com/org/engine:15.1",
			want: "docker://registry.example.com/org/engine:15.1", transport: "docker",
			registry: "registry.example.com"},
		{name: "docker transport without tag", input: "docker://localhost:5000/x",
			want: "docker://localhost:5000/x:latest", transport: "docker",
			registry: "localhost:5000"},
		{name: "surrounding space", input: "  org/engine:15\n",
			want: "docker://docker.io/org/engine:15", transport: "docker", registry: "docker.io"},
		{name: "OCI layout", input: "oci:/out/layout:15.1", want: "oci:/out/layout:15.1",
			transport: "oci"},
		{name: "OCI archive", input: "oci-archive:/out/engine.tar:15.1",
			want: "oci-archive:/out/engine.tar:15.1", transport: "oci-archive"},
		{name: "Docker archive", input: "docker-archive:/out/engine.tar:org/engine:15",
			want:      "docker-archive:/out/engine.tar:org/engine:15",
			transport: "docker-archive"},
		{name: "directory", input: "dir:/out/engine", want: "dir:/out/engine", transport: "dir"},
		{name: "relative path", input: "oci-archive:out/engine.tar:15",
			want: "oci-archive:" + cwd + "/out/engine.tar:15", transport: "oci-archive"},
		{name: "empty", input: " ", problem: "empty"},
		{name: "misspelt transport", input: "dokcer://registry.example.com/x:1",
			problem: `unknown transport "dokcer"`},
		{name: "local storage", input: "containers-storage:org/engine:15",
			problem: `transport "containers-storage" cannot receive`},
		{name: "upper case", input: "Org/Engine:15", problem: "must be lowercase"},
		{name: "bad tag", input: "registry.example.com/x:bad tag", problem: "invalid reference"},
		{name: "docker transport without name", input: "docker://", problem: "invalid reference"},
		{name: "docker transport without slashes", input: "docker:org/engine:15",
			problem: `start with "docker://"`},
		{name: "OCI layout without path", input: "oci::15", problem: "no path"},
		{name: "OCI layout with bad tag", input: "oci:/out/layout:bad tag!",
			problem: "Invalid image bad tag!"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			dest, err := push.ParseDestination(test.input)
			if test.problem != "" {
				if err == nil {
					t.Fatalf("ParseDestination(%q) = %q, want an error", test.input, dest)
				}
				for _, part := range []string{test.problem, "registry.example.com/org/engine"} {
					if !strings.Contains(err.Error(), part) {
						t.Errorf("error does not contain %q: %v", part, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDestination(%q): %v", test.input, err)
			}
			if dest.String() != test.want || dest.Transport() != test.transport ||
				dest.Registry() != test.registry {
				t.Errorf("ParseDestination(%q) = %q (transport %q, registry %q), "+
					"want %q (%q, %q)", test.input, dest, dest.Transport(), dest.Registry(),
					test.want, test.transport, test.registry)
			}
			again, err := push.ParseDestination(dest.String())
			if err != nil || again.String() != dest.String() {
				t.Errorf("reading %q back gave %q, %v", dest, again, err)
			}
		})
	}
}

// TestZeroDestination pushes to a Destination that ParseDestination did not make.
func TestZeroDestination(t *testing.T) {
	pusher := push.New(buildtest.Builder(t), push.Options{})
	_, err := pusher.Push(t.Context(), imageName, push.Destination{})
	if err == nil || !strings.Contains(err.Error(), "ParseDestination") {
		t.Errorf("Push to the zero Destination returned %v, want an error naming "+
			"ParseDestination", err)
	}
}
