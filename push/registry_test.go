package push_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"golang.org/x/crypto/bcrypt"

	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
)

// registry is a distribution registry with in-memory storage, served on loopback until
// the test ends. It records the requests it answers.
type registry struct {
	// Host is "127.0.0.1:port".
	Host string
	// URL is "http://127.0.0.1:port".
	URL string

	mu       sync.Mutex
	requests []string
}

// newRegistry starts a registry. With a user and password it accepts only them, with
// HTTP basic authentication checked against an htpasswd file.
func newRegistry(t *testing.T, credentials ...string) *registry {
	t.Helper()
	r := &registry{}
	server := httptest.NewServer(r.record(registryApp(t, credentials...)))
	t.Cleanup(server.Close)
	r.URL = server.URL
	r.Host = strings.TrimPrefix(server.URL, "http://")
	return r
}

// registryApp returns the registry's handler, shut down at cleanup.
func registryApp(t *testing.T, credentials ...string) http.Handler {
	t.Helper()
	config := &configuration.Configuration{
		Storage: configuration.Storage{
			"inmemory": configuration.Parameters{},
			"maintenance": configuration.Parameters{
				"uploadpurging": map[any]any{"enabled": false},
			},
		},
	}
	config.HTTP.Secret = "push-test-secret"
	config.Log.Level = "error"
	if len(credentials) == 2 {
		config.Auth = configuration.Auth{"htpasswd": configuration.Parameters{
			"realm": "push-test",
			"path":  htpasswdFile(t, credentials[0], credentials[1]),
		}}
	}
	app := handlers.NewApp(context.Background(), config)
	t.Cleanup(func() { _ = app.Shutdown() })
	return app
}

// htpasswdFile writes an htpasswd file granting user with password.
func htpasswdFile(t *testing.T, user, password string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(path, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// record wraps next so that every request is noted before it is answered.
func (r *registry) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.requests = append(r.requests, req.Method+" "+req.URL.Path)
		r.mu.Unlock()
		next.ServeHTTP(w, req)
	})
}

// blobUploads returns the number of blob upload requests answered so far: starts, chunks
// and completions of uploads.
func (r *registry) blobUploads() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	count := 0
	for _, request := range r.requests {
		method, path, _ := strings.Cut(request, " ")
		if isBlobUpload(method, path) {
			count++
		}
	}
	return count
}

// isBlobUpload reports whether a request with method and path is part of a blob upload.
func isBlobUpload(method, path string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		return strings.Contains(path, "/blobs/uploads/")
	}
	return false
}

// fault is what a front does to one request.
type fault int

const (
	pass         fault = iota
	unavailable        // answer 503 Service Unavailable
	drop               // close the connection without an answer
	unauthorized       // answer 401 with a basic-auth challenge
	forbidden          // answer 403 with the registry's DENIED error
)

// front serves target (a URL) on a loopback port of its own through a reverse proxy that
// spoils requests as spoil decides, and returns its host. spoil is called for every
// request, one at a time.
func front(t *testing.T, target string, spoil func(*http.Request) fault) string {
	t.Helper()
	targetURL, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(targetURL)
	var mu sync.Mutex
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		decision := spoil(r)
		mu.Unlock()
		answer(w, r, decision, proxy)
	}))
	t.Cleanup(server.Close)
	return strings.TrimPrefix(server.URL, "http://")
}

// answer carries out decision for one request.
func answer(w http.ResponseWriter, r *http.Request, decision fault, proxy http.Handler) {
	switch decision {
	case unavailable:
		http.Error(w, "registry restarting", http.StatusServiceUnavailable)
	case drop:
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
	case unauthorized:
		w.Header().Set("WWW-Authenticate", `Basic realm="push-test"`)
		registryError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
	case forbidden:
		registryError(w, http.StatusForbidden, "DENIED",
			"requested access to the resource is denied")
	default:
		proxy.ServeHTTP(w, r)
	}
}

// registryError answers with status and an error body in the registry API's format.
func registryError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"errors":[{"code":"` + code + `","message":"` + message + `"}]}`))
}

// firstN returns a spoil function that answers the first n requests that match with
// decision and passes everything else.
func firstN(n int, decision fault, match func(*http.Request) bool) func(*http.Request) fault {
	var seen atomic.Int64
	return func(r *http.Request) fault {
		if match(r) && seen.Add(1) <= int64(n) {
			return decision
		}
		return pass
	}
}

// uploadStart matches the requests that start blob uploads.
func uploadStart(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/blobs/uploads/")
}

// uploadData matches the requests that send or complete blob uploads.
func uploadData(r *http.Request) bool {
	return r.Method != http.MethodPost && isBlobUpload(r.Method, r.URL.Path)
}

// manifestPut matches the requests that store manifests.
func manifestPut(r *http.Request) bool {
	return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/")
}

// freePort returns a loopback address on which nothing listens right now.
func freePort(t *testing.T) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	address := listener.Addr().String()
	if err := listener.Close(); err != nil {
		t.Fatal(err)
	}
	return address
}

// serveAfter serves handler on address from delay on, until the test ends.
func serveAfter(t *testing.T, address string, handler http.Handler, delay time.Duration) {
	t.Helper()
	server := &http.Server{Handler: handler}
	stop := make(chan struct{})
	served := make(chan struct{})
	go func() {
		defer close(served)
		select {
		case <-time.After(delay):
		case <-stop:
			return
		}
		listener, err := net.Listen("tcp", address)
		if err != nil {
			t.Errorf("listening on %s again: %v", address, err)
			return
		}
		_ = server.Serve(listener)
	}()
	t.Cleanup(func() {
		close(stop)
		_ = server.Close()
		<-served
	})
}
