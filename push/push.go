// Package push copies images from containers storage to their destinations: registries,
// OCI layouts and archives. Only what a registry lacks is uploaded, failures of the
// network or the server are retried with backoff, and refused credentials fail at once
// with how to log in.
//
// Pushes go through libimage, the containers library that buildah's own Push is built
// on, called directly because buildah.Push (v1.45) drops its MaxRetries option: each of
// its calls would retry up to three more times on its own, unseen and unlogged, whatever
// Options.Attempts says.
package push

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/polardb/imagebuilder/build"
	"go.podman.io/common/libimage"
	"go.podman.io/common/pkg/auth"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// The retry schedule used where Options leaves it unset. The waits between the default
// attempts (1, 2, 4, 8, 16 and 16 s, 47 s in all) outlast a registry restart of half a
// minute.
const (
	DefaultAttempts = 7
	DefaultBackoff  = time.Second
	// MaxBackoff caps the doubling delay, unless Options.Backoff itself is longer.
	MaxBackoff = 16 * time.Second
)

// Options configures a Pusher.
type Options struct {
	// Attempts is the number of attempts per destination, the first one included;
	// 0 means DefaultAttempts. Only transient failures are retried.
	Attempts int
	// Backoff is the delay before the first retry; 0 means DefaultBackoff. It doubles
	// with every retry, up to MaxBackoff.
	Backoff time.Duration
	// AuthFile is the containers-auth.json file holding registry credentials. Empty means
	// the lookup podman and buildah make: REGISTRY_AUTH_FILE, else
	// $DOCKER_CONFIG/config.json, else ${XDG_RUNTIME_DIR}/containers/auth.json,
	// ~/.config/containers/auth.json, ~/.docker/config.json and ~/.dockercfg in turn,
	// along with the credential helpers that registries.conf and those files name.
	AuthFile string
	// BlobInfoCacheDir is where the record of which compressed blobs each registry holds
	// is kept; it is what lets a later push of an unchanged image skip every upload. Empty
	// means the containers default (/var/lib/containers/cache for root).
	BlobInfoCacheDir string
	// Output receives the copy report ("Copying blob …"); nil discards it.
	Output io.Writer
	// Logger receives one Info line per retry, with its reason, and Debug lines before
	// and after each push. Nil means silent. Credentials never appear in it.
	Logger *slog.Logger
}

// Pusher pushes images from one Builder's store. Its methods are safe for concurrent use.
type Pusher struct {
	store    storage.Store
	system   *types.SystemContext
	attempts int
	backoff  time.Duration
	authFile string
	cacheDir string
	output   io.Writer
	logger   *slog.Logger
}

// New returns a Pusher for the images in b's store, with b's containers settings.
func New(b *build.Builder, o Options) *Pusher {
	p := &Pusher{
		store:    b.Store(),
		system:   b.SystemContext(),
		attempts: o.Attempts,
		backoff:  o.Backoff,
		authFile: o.AuthFile,
		cacheDir: o.BlobInfoCacheDir,
		output:   o.Output,
		logger:   o.Logger,
	}
	if p.attempts <= 0 {
		p.attempts = DefaultAttempts
	}
	if p.backoff <= 0 {
		p.backoff = DefaultBackoff
	}
	if p.authFile == "" {
		p.authFile = auth.GetDefaultAuthFile()
	}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	return p
}

// Pushed is what one destination holds after a push.
type Pushed struct {
	// Destination is the destination as Destination.String gives it.
	Destination string
	// Digest is the digest of the manifest the destination holds, such as "sha256:…";
	// empty when the push failed.
	Digest string
	// Attempts is how many attempts the push took, or made before it failed.
	Attempts int
}

// Push copies image, a name or ID in the store, to dest and returns the digest of the
// manifest dest then holds. Blobs a registry already has are not uploaded again.
// Transient failures are retried up to the configured number of attempts; refused
// credentials, a missing image and other failures that a retry cannot mend are reported
// at once. The error names the image and the destination. Pushes into one OCI layout
// directory must not run at the same time.
func (p *Pusher) Push(ctx context.Context, image string, dest Destination) (Pushed, error) {
	pushed := Pushed{Destination: dest.String()}
	failed := func(err error) (Pushed, error) {
		return pushed, redactError(fmt.Errorf("pushing %q to %q: %w", image, dest, err))
	}
	if dest.transport == nil {
		return failed(errors.New("no destination given; make one with ParseDestination"))
	}
	runtime, err := libimage.RuntimeFromStore(p.store, &libimage.RuntimeOptions{
		SystemContext: p.system,
	})
	if err != nil {
		return failed(err)
	}
	if _, _, err := runtime.LookupImage(image, nil); err != nil {
		return failed(p.hint(err, image, dest))
	}
	if err := p.checkAuthFile(dest); err != nil {
		return failed(err)
	}
	if err := dest.prepare(); err != nil {
		return failed(err)
	}

	p.logger.Debug("pushing", "image", image, "destination", pushed.Destination)
	digest, attempts, err := p.attempt(ctx, runtime, image, dest)
	pushed.Attempts = attempts
	if err != nil {
		return failed(err)
	}
	pushed.Digest = digest
	p.logger.Debug("pushed", "image", image, "destination", pushed.Destination,
		"digest", digest, "attempts", attempts)
	return pushed, nil
}

// checkAuthFile fails a push to a registry when the auth file named in Options or
// REGISTRY_AUTH_FILE is missing, as podman does, rather than pushing without credentials.
func (p *Pusher) checkAuthFile(dest Destination) error {
	if dest.registry == nil {
		return nil
	}
	if err := auth.CheckAuthFile(p.authFile); err != nil {
		return fmt.Errorf("reading auth file %q: %w; log in with \"podman login --authfile "+
			"%s %s\" or name an existing file", p.authFile, err, p.authFile, dest.Registry())
	}
	return nil
}

// attempt pushes until a push succeeds, fails for good, or the attempts run out, and
// returns the manifest digest and the number of attempts made.
func (p *Pusher) attempt(ctx context.Context, runtime *libimage.Runtime, image string,
	dest Destination) (string, int, error) {
	options := p.pushOptions(dest)
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return "", attempt - 1, err
		}
		manifestBytes, err := runtime.Push(ctx, image, dest.String(), options)
		if err == nil {
			digest, err := manifest.Digest(manifestBytes)
			if err != nil {
				return "", attempt, fmt.Errorf("computing the manifest digest: %w", err)
			}
			return digest.String(), attempt, nil
		}
		if ctx.Err() != nil {
			return "", attempt, errors.Join(ctx.Err(), err)
		}
		if classify(err) != transient {
			return "", attempt, p.hint(err, image, dest)
		}
		if attempt == p.attempts {
			return "", attempt, fmt.Errorf("giving up after %d attempts: %w", attempt,
				p.hint(err, image, dest))
		}
		if err := p.wait(ctx, image, dest, attempt, err); err != nil {
			return "", attempt, err
		}
	}
}

// pushOptions are the copy settings for dest: the image as it is stored (no change of
// format or compression, so that blobs keep their digests from push to push) and no
// retries of the library's own, since attempt retries.
func (p *Pusher) pushOptions(dest Destination) *libimage.PushOptions {
	var noRetries uint
	options := &libimage.PushOptions{}
	options.MaxRetries = &noRetries
	options.AuthFilePath = p.authFile
	options.BlobInfoCacheDirPath = p.cacheDir
	options.Writer = p.output
	options.PolicyAllowStorage = true
	if dest.loopback() {
		// Like Docker, reach a registry on the loopback interface over plain HTTP when it
		// offers no HTTPS; registries elsewhere need registries.conf to say so.
		options.InsecureSkipTLSVerify = types.OptionalBoolTrue
	}
	return options
}

// wait logs the failure of attempt and sleeps until the next one, or until ctx is done.
func (p *Pusher) wait(ctx context.Context, image string, dest Destination, attempt int,
	failure error) error {
	delay := p.delay(attempt)
	p.logger.Info("push failed; retrying", "image", image, "destination", dest.String(),
		"attempt", attempt, "attempts", p.attempts, "delay", delay,
		"reason", redact(failure.Error()))
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return errors.Join(ctx.Err(), failure)
	}
}

// delay is how long to wait after the given failed attempt: Backoff, doubled after each
// further failure, capped at MaxBackoff or Backoff, whichever is longer.
func (p *Pusher) delay(attempt int) time.Duration {
	limit := max(MaxBackoff, p.backoff)
	delay := p.backoff
	for range attempt - 1 {
		if delay >= limit/2 {
			return limit
		}
		delay *= 2
	}
	return delay
}

// PushAll pushes image to every destination in turn. A failing destination does not stop
// the others. It returns one Pushed per destination, in their order, and an error joining
// the failures, each naming its destination.
func (p *Pusher) PushAll(ctx context.Context, image string, dests []Destination) (
	[]Pushed, error) {
	results := make([]Pushed, 0, len(dests))
	var failures []error
	for _, dest := range dests {
		pushed, err := p.Push(ctx, image, dest)
		results = append(results, pushed)
		if err != nil {
			failures = append(failures, err)
		}
	}
	return results, errors.Join(failures...)
}
