package push

import (
	"fmt"
	"net"
	"slices"
	"strings"

	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/transports"
	"go.podman.io/image/v5/transports/alltransports"
	"go.podman.io/image/v5/types"
)

// destinationTransports are the transports an image can be pushed to, in the order the
// error for any other one lists them.
var destinationTransports = []string{"docker", "oci", "oci-archive", "docker-archive", "dir"}

// destinationSyntax is the hint given with every malformed destination.
const destinationSyntax = "write a registry name such as registry.example.com/org/engine:15, " +
	"or a transport and its reference: docker://…, oci:/dir:tag, oci-archive:/file.tar:tag, " +
	"docker-archive:/file.tar:name:tag or dir:/dir"

// Destination is where one image goes: a reference of the containers image library with
// its transport. The zero Destination is not valid; ParseDestination makes them.
type Destination struct {
	ref types.ImageReference
}

// ParseDestination reads s as a destination. A transport prefix selects where the image
// goes: "docker://registry.example.com/org/engine:15.1" (a registry),
// "oci:/out/layout:15.1" (an OCI layout directory), "oci-archive:/out/engine.tar:15.1"
// (a tar file of one), "docker-archive:/out/engine.tar:org/engine:15.1" or "dir:/out/engine".
// A name without a transport is a registry name normalised as docker push does:
// "org/engine:15" means docker.io/org/engine:15, and a name without a tag gets "latest".
func ParseDestination(s string) (Destination, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Destination{}, fmt.Errorf("parsing destination: it is empty; %s", destinationSyntax)
	}
	transportName, _, _ := strings.Cut(s, ":")
	if transports.Get(transportName) == nil {
		if strings.Contains(s, "://") {
			return Destination{}, fmt.Errorf("parsing destination %q: unknown transport %q; %s",
				s, transportName, destinationSyntax)
		}
		return parseRegistryName(s)
	}
	if !slices.Contains(destinationTransports, transportName) {
		return Destination{}, fmt.Errorf("parsing destination %q: transport %q cannot receive "+
			"a pushed image; use one of %s", s, transportName,
			strings.Join(destinationTransports, ", "))
	}
	ref, err := alltransports.ParseImageName(s)
	if err != nil {
		return Destination{}, fmt.Errorf("parsing destination %q: %w; %s", s, err,
			destinationSyntax)
	}
	return Destination{ref: ref}, nil
}

// parseRegistryName reads a name without a transport as a registry destination.
func parseRegistryName(s string) (Destination, error) {
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return Destination{}, fmt.Errorf("parsing destination %q: %w; %s", s, err,
			destinationSyntax)
	}
	ref, err := docker.NewReference(reference.TagNameOnly(named))
	if err != nil {
		return Destination{}, fmt.Errorf("parsing destination %q: %w; %s", s, err,
			destinationSyntax)
	}
	return Destination{ref: ref}, nil
}

// String returns the destination with its transport, such as
// "docker://docker.io/org/engine:15" or "oci:/out/layout:15.1". ParseDestination reads it
// back as the same destination.
func (d Destination) String() string {
	if d.ref == nil {
		return ""
	}
	return transports.ImageName(d.ref)
}

// Transport returns the name of the destination's transport, such as "docker" or "oci".
func (d Destination) Transport() string {
	if d.ref == nil {
		return ""
	}
	return d.ref.Transport().Name()
}

// Registry returns the registry host (with its port, if any) of a registry destination,
// such as "docker.io" or "127.0.0.1:5000", and "" for every other destination.
func (d Destination) Registry() string {
	if d.Transport() != docker.Transport.Name() || d.ref.DockerReference() == nil {
		return ""
	}
	return reference.Domain(d.ref.DockerReference())
}

// loopback reports whether d is a registry on this machine's loopback interface, named
// as localhost or by a loopback address. Such a registry may be reached over plain HTTP.
func (d Destination) loopback() bool {
	registry := d.Registry()
	if registry == "" {
		return false
	}
	host := registry
	if h, _, err := net.SplitHostPort(registry); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
