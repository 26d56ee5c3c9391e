package push

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/transports"
	"go.podman.io/image/v5/types"

	// Registers every transport of the image library, so that transports.Get finds them.
	_ "go.podman.io/image/v5/transports/alltransports"
)

// destinationTransports are the transports an image can be pushed to.
var destinationTransports = []string{"docker", "oci", "oci-archive", "docker-archive", "dir"}

// destinationSyntax is the hint given with every malformed destination.
const destinationSyntax = "write a registry name such as registry.example.com/org/engine:15, " +
	"or a transport and its reference: docker://…, oci:/dir:tag, oci-archive:/file.tar:tag, " +
	"docker-archive:/file.tar:name:tag or dir:/dir"

// Destination is where one image goes: a reference of the containers image library with
// its transport. The zero Destination is not valid; ParseDestination makes them.
type Destination struct {
	transport types.ImageTransport
	// within is the reference within the transport, with paths made absolute.
	within string
	// registry is the parsed reference of a registry destination, nil for the others.
	registry types.ImageReference
}

// ParseDestination reads s as a destination. A transport prefix selects where the image
// goes: "docker://registry.example.com/org/engine:15.1" (a registry),
// "oci:/out/layout:15.1" (an OCI layout directory), "oci-archive:/out/engine.tar:15.1"
// (a tar file of one), "docker-archive:/out/engine.tar:org/engine:15.1" or "dir:/out/engine".
// A name without a transport is a registry name normalised as docker push does:
// "org/engine:15" means docker.io/org/engine:15, and a name without a tag gets "latest".
// Relative paths are taken from the current directory; their directories need not exist
// yet, Push creates them.
func ParseDestination(s string) (Destination, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Destination{}, fmt.Errorf("parsing destination: it is empty; %s", destinationSyntax)
	}
	transportName, within, _ := strings.Cut(s, ":")
	transport := transports.Get(transportName)
	var d Destination
	var err error
	switch {
	case transport == nil && strings.Contains(s, "://"):
		err = fmt.Errorf("unknown transport %q", transportName)
	case transport == nil:
		d, err = parseRegistryName(s)
	case !slices.Contains(destinationTransports, transportName):
		err = fmt.Errorf("transport %q cannot receive a pushed image", transportName)
	case transportName == docker.Transport.Name() && !strings.HasPrefix(within, "//"):
		err = errors.New(`registry references start with "docker://"`)
	case transportName == docker.Transport.Name():
		d, err = parseRegistryName(strings.TrimPrefix(within, "//"))
	default:
		d, err = parsePath(transport, within)
	}
	if err != nil {
		return Destination{}, fmt.Errorf("parsing destination %q: %w; %s", s, err,
			destinationSyntax)
	}
	return d, nil
}

// parseRegistryName reads a registry destination, the part after "docker://".
func parseRegistryName(s string) (Destination, error) {
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return Destination{}, err
	}
	ref, err := docker.NewReference(reference.TagNameOnly(named))
	if err != nil {
		return Destination{}, err
	}
	return Destination{transport: docker.Transport, within: "//" + ref.DockerReference().String(),
		registry: ref}, nil
}

// parsePath reads a destination in the file system: a path, then for some transports a
// colon and a tag or name.
func parsePath(transport types.ImageTransport, within string) (Destination, error) {
	path, rest, hasRest := strings.Cut(within, ":")
	if path == "" {
		return Destination{}, errors.New("no path given")
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return Destination{}, err
	}
	// The transport resolves the path's directory, which need not exist before the push:
	// check the rest of the reference on a path whose directory, the root, always does.
	probe := filepath.Join("/", filepath.Base(path))
	if hasRest {
		path += ":" + rest
		probe += ":" + rest
	}
	if _, err := transport.ParseReference(probe); err != nil {
		return Destination{}, err
	}
	return Destination{transport: transport, within: path}, nil
}

// prepare creates the directory that a destination in the file system goes into.
func (d Destination) prepare() error {
	if d.registry != nil {
		return nil
	}
	path, _, _ := strings.Cut(d.within, ":")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating the directory of %q: %w", path, err)
	}
	return nil
}

// String returns the destination with its transport, such as
// "docker://docker.io/org/engine:15" or "oci:/out/layout:15.1". ParseDestination reads it
// back as the same destination.
func (d Destination) String() string {
	if d.transport == nil {
		return ""
	}
	return d.transport.Name() + ":" + d.within
}

// Transport returns the name of the destination's transport, such as "docker" or "oci".
func (d Destination) Transport() string {
	if d.transport == nil {
		return ""
	}
	return d.transport.Name()
}

// Registry returns the registry host (with its port, if any) of a registry destination,
// such as "docker.io" or "127.0.0.1:5000", and "" for every other destination.
func (d Destination) Registry() string {
	if d.registry == nil {
		return ""
	}
	return reference.Domain(d.registry.DockerReference())
}

// loopback reports whether d is a registry on this machine's loopback interface, named
// as localhost or by an IPv4 loopback address (references cannot hold IPv6 addresses).
// Such a registry may be reached over plain HTTP.
func (d Destination) loopback() bool {
	registry := d.Registry()
	if registry == "" {
		return false
	}
	host := registry
	if h, _, err := net.SplitHostPort(registry); err == nil {
		host = h
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
