package push

import (
	"context"

	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/types"
)

// Holds reports whether a registry destination already holds the manifest with the given
// digest, asking the registry for the tag's digest without downloading anything. Other
// destinations are local copies and report false. An unreachable registry reports false
// with the error, so the caller can push (and retry) as usual.
func (p *Pusher) Holds(ctx context.Context, dest Destination, digest string) (bool, error) {
	if dest.registry == nil || digest == "" {
		return false, nil
	}
	sys := types.SystemContext{}
	if p.system != nil {
		sys = *p.system
	}
	sys.AuthFilePath = p.authFile
	if dest.loopback() {
		sys.DockerInsecureSkipTLSVerify = types.OptionalBoolTrue
	}
	held, err := docker.GetDigest(ctx, &sys, dest.registry)
	if err != nil {
		return false, redactError(err)
	}
	return held.String() == digest, nil
}
