package build

import (
	"errors"

	nettypes "go.podman.io/common/libnetwork/types"
)

// errHostNetworkOnly is what hostNetwork answers to anything beyond the host's network.
var errHostNetworkOnly = errors.New("only the host network is available: " +
	"install netavark (Debian package netavark) for container networks")

// hostNetwork stands in for a network backend on machines without netavark. Builds run
// every step in the host's network namespace, so nothing ever asks it to set up a network;
// if something does, it refuses with a hint.
type hostNetwork struct{}

var _ nettypes.ContainerNetwork = hostNetwork{}

// NetworkCreate refuses: there are no networks to create.
func (hostNetwork) NetworkCreate(nettypes.Network, *nettypes.NetworkCreateOptions) (
	nettypes.Network, error) {
	return nettypes.Network{}, errHostNetworkOnly
}

// NetworkUpdate refuses: there are no networks to update.
func (hostNetwork) NetworkUpdate(string, nettypes.NetworkUpdateOptions) error {
	return errHostNetworkOnly
}

// NetworkRemove refuses: there are no networks to remove.
func (hostNetwork) NetworkRemove(string) error {
	return errHostNetworkOnly
}

// NetworkList lists no networks.
func (hostNetwork) NetworkList(...nettypes.FilterFunc) ([]nettypes.Network, error) {
	return nil, nil
}

// NetworkInspect refuses: there are no networks to inspect.
func (hostNetwork) NetworkInspect(string) (nettypes.Network, error) {
	return nettypes.Network{}, errHostNetworkOnly
}

// Setup refuses to configure a network namespace.
func (hostNetwork) Setup(string, nettypes.SetupOptions) (map[string]nettypes.StatusBlock, error) {
	return nil, errHostNetworkOnly
}

// Teardown has nothing to undo.
func (hostNetwork) Teardown(string, nettypes.TeardownOptions) error {
	return nil
}

// RunInRootlessNetns refuses: there is no rootless network namespace.
func (hostNetwork) RunInRootlessNetns(func() error) error {
	return errHostNetworkOnly
}

// RootlessNetnsInfo refuses: there is no rootless network namespace.
func (hostNetwork) RootlessNetnsInfo() (*nettypes.RootlessNetnsInfo, error) {
	return nil, errHostNetworkOnly
}

// PestoSocketPath is empty: there is no port forwarder.
func (hostNetwork) PestoSocketPath() string {
	return ""
}

// Drivers lists no drivers.
func (hostNetwork) Drivers() []string {
	return nil
}

// DefaultNetworkName is "host", the only network there is.
func (hostNetwork) DefaultNetworkName() string {
	return "host"
}

// NetworkInfo describes the stand-in backend.
func (hostNetwork) NetworkInfo() nettypes.NetworkInfo {
	return nettypes.NetworkInfo{Backend: "host"}
}
