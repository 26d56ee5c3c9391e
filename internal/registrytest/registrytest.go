// Package registrytest serves a real distribution registry, with in-memory storage, on a
// loopback port for tests, and counts the blob data it receives.
package registrytest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"

	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
)

// Registry is a running registry.
type Registry struct {
	// Host is the registry's "127.0.0.1:port".
	Host      string
	uploads   atomic.Int64
	manifests atomic.Int64
}

// Start serves a registry until the test ends.
func Start(t testing.TB) *Registry {
	t.Helper()
	cfg := &configuration.Configuration{Storage: configuration.Storage{
		"inmemory":    configuration.Parameters{},
		"maintenance": configuration.Parameters{"uploadpurging": map[any]any{"enabled": false}},
	}}
	cfg.HTTP.Secret = "registrytest"
	cfg.Log.Level = "error"
	app := handlers.NewApp(context.Background(), cfg)
	r := &Registry{}
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if (req.Method == http.MethodPatch || req.Method == http.MethodPut) &&
			strings.Contains(req.URL.Path, "/blobs/uploads/") {
			r.uploads.Add(1)
		}
		if req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/manifests/") {
			r.manifests.Add(1)
		}
		app.ServeHTTP(w, req)
	}))
	t.Cleanup(func() {
		server.Close()
		_ = app.Shutdown()
	})
	r.Host = strings.TrimPrefix(server.URL, "http://")
	return r
}

// Uploads returns how many requests carried blob data to the registry (PATCH or PUT of an
// upload). Cross-repository mounts move no data and are not counted.
func (r *Registry) Uploads() int64 { return r.uploads.Load() }

// Manifests returns how many manifests have been put to the registry.
func (r *Registry) Manifests() int64 { return r.manifests.Load() }
