package push

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"syscall"

	"github.com/docker/distribution/registry/api/errcode"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/pkg/docker/config"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// verdict is what a failed attempt calls for.
type verdict int

const (
	// final failures are reported at once: retrying cannot change them.
	final verdict = iota
	// transient failures (network errors, busy or failing servers) are retried.
	transient
	// refused failures are authentication or authorisation refusals, reported at once
	// with how to log in.
	refused
)

// transientErrnos are the system errors of a network that may come back.
var transientErrnos = []syscall.Errno{
	syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
	syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.EHOSTDOWN, syscall.ENETUNREACH,
	syscall.ENETDOWN, syscall.ENETRESET,
}

// classify tells what err, the failure of one attempt, calls for.
func classify(err error) verdict {
	switch {
	case anyCause(err, isRefusal):
		return refused
	case anyCause(err, isTransient):
		return transient
	}
	return final
}

// isRefusal reports whether err itself is a registry refusing credentials (401) or access
// (403).
func isRefusal(err error) bool {
	switch e := err.(type) {
	case docker.ErrUnauthorizedForCredentials:
		return true
	case docker.UnexpectedHTTPStatusError:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	case errcode.Error:
		return e.Code == errcode.ErrorCodeUnauthorized || e.Code == errcode.ErrorCodeDenied
	case errcode.ErrorCode:
		return e == errcode.ErrorCodeUnauthorized || e == errcode.ErrorCodeDenied
	}
	return false
}

// isTransient reports whether err itself is a failure that a later attempt may not meet:
// a server error (5xx), too many requests (429), a connection refused, reset or cut short,
// or a timeout.
func isTransient(err error) bool {
	switch e := err.(type) {
	case docker.UnexpectedHTTPStatusError:
		return e.StatusCode >= http.StatusInternalServerError ||
			e.StatusCode == http.StatusTooManyRequests
	case errcode.Error:
		return e.Code == errcode.ErrorCodeUnavailable || e.Code == errcode.ErrorCodeTooManyRequests
	case syscall.Errno:
		return slices.Contains(transientErrnos, e)
	case net.Error:
		if e.Timeout() {
			return true
		}
	}
	return err == io.EOF || err == io.ErrUnexpectedEOF || err == net.ErrClosed ||
		err == docker.ErrTooManyRequests ||
		strings.Contains(err.Error(), "server closed idle connection")
}

// anyCause reports whether match holds for err or any error it wraps, including the
// elements of the registry's error lists, which do not unwrap.
func anyCause(err error, match func(error) bool) bool {
	if err == nil {
		return false
	}
	if match(err) {
		return true
	}
	switch e := err.(type) {
	case errcode.Errors:
		return slices.ContainsFunc(e, func(inner error) bool { return anyCause(inner, match) })
	case interface{ Unwrap() []error }:
		return slices.ContainsFunc(e.Unwrap(), func(inner error) bool {
			return anyCause(inner, match)
		})
	case interface{ Unwrap() error }:
		return anyCause(e.Unwrap(), match)
	}
	return false
}

// hint adds to err what the user can do about it, where that is known.
func (p *Pusher) hint(err error, image string, dest Destination) error {
	registry := dest.Registry()
	switch {
	case errors.Is(err, storage.ErrImageUnknown):
		return fmt.Errorf("no image %q in containers storage %q: %w; build it first",
			image, p.store.GraphRoot(), err)
	case classify(err) == refused && anyCause(err, isForbidden):
		return fmt.Errorf("registry %q denied the push: %w; log in as an account that may "+
			"push there with \"podman login %s\" or \"buildah login %s\"",
			registry, err, registry, registry)
	case classify(err) == refused && !p.hasCredentials(registry):
		return fmt.Errorf("registry %q asks for credentials and none were found for it: "+
			"%w; %s", registry, err, p.loginHint(dest))
	case classify(err) == refused:
		return fmt.Errorf("registry %q refused the credentials found for it: %w; %s",
			registry, err, p.loginHint(dest))
	case registry != "" && anyCause(err, isTLSFailure):
		return fmt.Errorf("%w; if %q serves plain HTTP or a certificate this machine does not "+
			"trust, mark it insecure in registries.conf ([[registry]] location = %q "+
			"insecure = true) or put its CA certificate in /etc/containers/certs.d/%s/",
			err, registry, registry, registry)
	}
	return err
}

// loginHint says where credentials for dest's registry were looked for and how to store
// them there.
func (p *Pusher) loginHint(dest Destination) string {
	registry := dest.Registry()
	if p.authFile != "" {
		return fmt.Sprintf("store credentials for it in %s with "+
			"\"podman login --authfile %s %s\" (or buildah login)", p.authFile, p.authFile,
			registry)
	}
	return fmt.Sprintf("log in with \"podman login %s\" or \"buildah login %s\", "+
		"or set REGISTRY_AUTH_FILE to an auth file holding credentials for it "+
		"(~/.docker/config.json is read too)", registry, registry)
}

// hasCredentials reports whether the credential lookup of a push finds any for registry.
func (p *Pusher) hasCredentials(registry string) bool {
	system := *p.system
	system.AuthFilePath = p.authFile
	found, err := config.GetCredentials(&system, registry)
	return err == nil && found != (types.DockerAuthConfig{})
}

// isForbidden reports whether err itself is a registry refusing access to credentials it
// accepted (403).
func isForbidden(err error) bool {
	switch e := err.(type) {
	case docker.UnexpectedHTTPStatusError:
		return e.StatusCode == http.StatusForbidden
	case errcode.Error:
		return e.Code == errcode.ErrorCodeDenied
	case errcode.ErrorCode:
		return e == errcode.ErrorCodeDenied
	}
	return false
}

// isTLSFailure reports whether err itself is a failed TLS handshake: a certificate this
// machine does not trust, or a server that answers HTTPS with plain HTTP.
func isTLSFailure(err error) bool {
	switch err.(type) {
	case *tls.CertificateVerificationError, x509.UnknownAuthorityError, x509.HostnameError,
		tls.RecordHeaderError:
		return true
	}
	return strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}

// Patterns of secrets that may appear in URLs inside library errors: user information
// before the host, and query parameters that carry tokens or signatures.
var (
	urlUserInfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@"]+@`)
	secretQuery = regexp.MustCompile(
		`(?i)([?&][^=&\s"]*(?:token|signature|credential|password|secret|state)[^=&\s"]*=)` +
			`[^&\s"]*`)
)

// redact replaces the secrets that the patterns above find in s.
func redact(s string) string {
	s = urlUserInfo.ReplaceAllString(s, "${1}REDACTED@")
	return secretQuery.ReplaceAllString(s, "${1}REDACTED")
}

// redactedError is an error whose message has its secrets removed; it still unwraps to
// the original.
type redactedError struct {
	message string
	err     error
}

// redactError returns err with secrets removed from its message.
func redactError(err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{message: redact(err.Error()), err: err}
}

// Error returns the message without secrets.
func (e *redactedError) Error() string {
	return e.message
}

// Unwrap returns the original error.
func (e *redactedError) Unwrap() error {
	return e.err
}
