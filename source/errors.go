package source

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Sentinel errors that Fetch wraps, for use with errors.Is.
var (
	// ErrRefNotFound reports a ref that is neither a branch, a tag nor a commit of the
	// repository.
	ErrRefNotFound = errors.New("ref not found")
	// ErrAuth reports credentials that the repository refused, or that were needed and
	// missing.
	ErrAuth = errors.New("authentication refused")
	// ErrUnreachable reports a repository that could not be reached or does not exist.
	ErrUnreachable = errors.New("repository unreachable")
)

// Hints appended to errors users meet, saying what to do next.
const (
	hintMainBranch = "PolarDB's main branch holds no engine source: use a stable branch " +
		"such as POLARDB_15_STABLE"
	hintHTTPAuth = "set GIT_USERNAME and GIT_PASSWORD (or GIT_TOKEN), or store the " +
		"credentials for this host in ~/.git-credentials or $XDG_CONFIG_HOME/git/credentials"
	hintSSHAuth = "start an SSH agent holding the key (SSH_AUTH_SOCK) or set GIT_SSH_KEY " +
		"(and GIT_SSH_KEY_PASSPHRASE), and list the host in ~/.ssh/known_hosts"
	hintUnreachable = "check the repository URL and the network"
)

// fetchError is the error Fetch returns: the repository and ref, the kind of failure (one
// of the sentinels, a context error, or nil), the cause, and a hint. Its text never holds
// a credential: URLs are shown without their user information and known secrets are masked.
type fetchError struct {
	repo    string // redacted
	ref     string
	kind    error
	cause   error
	hint    string
	secrets []string
}

func (e *fetchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fetching %q at %q: ", e.repo, e.ref)
	if e.kind != nil && !errors.Is(e.cause, e.kind) {
		b.WriteString(e.kind.Error())
		b.WriteString(": ")
	}
	b.WriteString(oneLine(redact(e.cause.Error(), e.secrets)))
	if e.hint != "" {
		b.WriteString("; ")
		b.WriteString(e.hint)
	}
	return redact(b.String(), e.secrets)
}

// Unwrap exposes the kind and the cause to errors.Is and errors.As.
func (e *fetchError) Unwrap() []error {
	if e.kind == nil {
		return []error{e.cause}
	}
	return []error{e.kind, e.cause}
}

// newError wraps cause for the spec being fetched from r, classifying it when kind is nil.
func newError(ctx context.Context, s Spec, r *remote, kind, cause error, hint string) error {
	if ctxErr := ctx.Err(); ctxErr != nil && kind == nil {
		kind = ctxErr
	}
	if kind == nil {
		kind, hint = classify(r, cause)
	}
	e := &fetchError{repo: redactURL(s.Repo), ref: s.Ref, kind: kind, cause: cause, hint: hint}
	if r != nil {
		e.secrets = r.secrets
	}
	return e
}

// classify maps an error from go-git's transports to a sentinel and a hint.
func classify(r *remote, err error) (error, string) {
	authHint := hintHTTPAuth
	if r != nil && r.protocol == "ssh" {
		authHint = hintSSHAuth
	}
	var noRef git.NoMatchingRefSpecError
	var netErr net.Error
	switch {
	case errors.Is(err, ErrRefNotFound), errors.Is(err, transport.ErrEmptyRemoteRepository),
		errors.As(err, &noRef):
		return ErrRefNotFound, hintMainBranch
	case errors.Is(err, ErrAuth), errors.Is(err, transport.ErrAuthenticationRequired),
		errors.Is(err, transport.ErrAuthorizationFailed),
		errors.Is(err, transport.ErrInvalidAuthMethod),
		isSSHAuthFailure(err):
		return ErrAuth, authHint
	case errors.Is(err, transport.ErrRepositoryNotFound) && r != nil && r.protocol == "file":
		return ErrUnreachable, "check the repository path: it must hold a git repository"
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return ErrUnreachable, hintUnreachable + " (a private repository may also " +
			"answer \"not found\" without credentials: " + authHint + ")"
	case errors.As(err, &netErr), isConnectFailure(err):
		return ErrUnreachable, hintUnreachable
	case strings.Contains(err.Error(), "dubious ownership"):
		return ErrUnreachable, "the local repository belongs to another user, so git refuses " +
			"to serve it: run git config --global --add safe.directory with its path, " +
			"or fetch it as its owner"
	}
	return nil, ""
}

// isSSHAuthFailure recognises the SSH client's refusals, which carry no typed error.
func isSSHAuthFailure(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "unable to authenticate") ||
		strings.Contains(msg, "knownhosts:") ||
		strings.Contains(msg, "known_hosts") ||
		strings.Contains(msg, "SSH_AUTH_SOCK") ||
		strings.Contains(msg, "passphrase")
}

// isConnectFailure recognises transport failures that go-git reports as plain text.
func isConnectFailure(err error) bool {
	msg := err.Error()
	for _, text := range []string{"connection refused", "no such host", "dial tcp",
		"i/o timeout", "connection reset", "network is unreachable"} {
		if strings.Contains(msg, text) {
			return true
		}
	}
	return false
}

// maxCauseLength bounds the cause text, which may carry a page a server sent back.
const maxCauseLength = 600

// oneLine folds a cause onto one line and shortens it to maxCauseLength.
func oneLine(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	if len(text) > maxCauseLength {
		text = text[:maxCauseLength] + "…"
	}
	return text
}

// urlUserinfo matches the user information of a URL inside any text.
var urlUserinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)([^/@\s"'<>]+)@`)

// redact removes credentials from text: the user information of every URL (kept only when it
// is a bare SSH user name) and every known secret of four characters or more. Shorter
// secrets would mask ordinary words; URLs cover the usual way such a secret reaches a text.
func redact(text string, secrets []string) string {
	text = urlUserinfo.ReplaceAllStringFunc(text, func(match string) string {
		m := urlUserinfo.FindStringSubmatch(match)
		scheme, userinfo := strings.ToLower(m[1]), m[2]
		if strings.HasPrefix(scheme, "ssh") && !strings.Contains(userinfo, ":") {
			return match
		}
		return m[1] + "***@"
	})
	for _, secret := range secrets {
		if len(secret) >= 4 {
			text = strings.ReplaceAll(text, secret, "***")
		}
	}
	return text
}

// redactURL returns a repository URL fit to show: without a password or token.
func redactURL(repo string) string {
	return redact(repo, nil)
}
