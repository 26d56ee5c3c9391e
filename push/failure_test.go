package push

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/docker/distribution/registry/api/errcode"
	"go.podman.io/image/v5/docker"
	"go.podman.io/storage"
)

// TestClassify sorts failures in the shapes the image library reports them.
func TestClassify(t *testing.T) {
	refusedConnection := &url.Error{Op: "Get", URL: "https://registry.example.com/v2/",
		Err: &net.OpError{Op: "dial", Net: "tcp",
			Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	tests := []struct {
		name string
		err  error
		want verdict
	}{
		{"503", fmt.Errorf("writing blob: %w", docker.UnexpectedHTTPStatusError{StatusCode: 503}),
			transient},
		{"500", docker.UnexpectedHTTPStatusError{StatusCode: 500}, transient},
		{"429", docker.ErrTooManyRequests, transient},
		{"404", docker.UnexpectedHTTPStatusError{StatusCode: 404}, final},
		{"connection refused", fmt.Errorf("pinging: %w", refusedConnection), transient},
		{"connection reset", &net.OpError{Op: "read",
			Err: os.NewSyscallError("read", syscall.ECONNRESET)}, transient},
		{"EOF from the server", &url.Error{Op: "Put", URL: "http://r/v2/", Err: io.EOF},
			transient},
		{"connection closed under a write", &net.OpError{Op: "write", Err: net.ErrClosed},
			transient},
		{"timeout", &net.DNSError{IsTimeout: true}, transient},
		{"registry unavailable", errcode.Errors{errcode.ErrorCodeUnavailable.WithMessage("x")},
			transient},
		{"401 for credentials", docker.ErrUnauthorizedForCredentials{Err: errors.New("no")},
			refused},
		{"401 in an error list", fmt.Errorf("writing manifest: %w",
			errcode.Errors{errcode.ErrorCodeUnauthorized.WithMessage("authentication required")}),
			refused},
		{"403 denied", fmt.Errorf("%s%.0w", "denied",
			errcode.ErrorCodeDenied.WithMessage("denied")), refused},
		{"401 beside a network error", errors.Join(refusedConnection,
			docker.ErrUnauthorizedForCredentials{Err: errors.New("no")}), refused},
		{"missing image", fmt.Errorf("x: %w", storage.ErrImageUnknown), final},
		{"manifest invalid", errcode.Errors{errcode.ErrorCodeUnknown.WithMessage("bad")}, final},
		{"cancelled", context.Canceled, final},
		{"plain error", errors.New("unsupported manifest type"), final},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if got := classify(test.err); got != test.want {
				t.Errorf("classify(%v) = %d, want %d", test.err, got, test.want)
			}
		})
	}
}

// TestRedact removes credentials and tokens from URLs in messages, and keeps the rest.
func TestRedact(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"user information",
			`Get "https://user:hunter2@registry.example.com/v2/": EOF`,
			`Get "https://REDACTED@registry.example.com/v2/": EOF`},
		{"upload state",
			`Patch "http://r/v2/x/blobs/uploads/1?_state=abc.def&digest=sha256:1": reset`,
			`Patch "http://r/v2/x/blobs/uploads/1?_state=REDACTED&digest=sha256:1": reset`},
		{"token and signature",
			"GET https://auth.example.com/token?access_token=s3cr3t&X-Amz-Signature=f00",
			"GET https://auth.example.com/token?access_token=REDACTED&X-Amz-Signature=REDACTED"},
		{"nothing secret", `pinging container registry 127.0.0.1:5000: connection refused`,
			`pinging container registry 127.0.0.1:5000: connection refused`},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if got := redact(test.input); got != test.want {
				t.Errorf("redact(%q) =\n%q, want\n%q", test.input, got, test.want)
			}
		})
	}
	wrapped := redactError(fmt.Errorf("pushing: %w", &url.Error{Op: "Get",
		URL: "https://u:hunter2@r/v2/", Err: context.Canceled}))
	if strings.Contains(wrapped.Error(), "hunter2") || !errors.Is(wrapped, context.Canceled) {
		t.Errorf("redactError gave %q, which shows the password or lost the cause", wrapped)
	}
}
