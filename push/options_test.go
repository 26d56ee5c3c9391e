package push

import (
	"testing"
	"time"

	"go.podman.io/image/v5/types"
)

// TestPushOptions checks the copy settings per destination: plain HTTP only for loopback
// registries, and never retries of the library's own.
func TestPushOptions(t *testing.T) {
	tests := []struct {
		destination string
		insecure    types.OptionalBool
	}{
		{"127.0.0.1:5000/x:1", types.OptionalBoolTrue},
		{"127.3.2.1/x:1", types.OptionalBoolTrue},
		{"localhost:5000/x:1", types.OptionalBoolTrue},
		{"LocalHost:5000/x:1", types.OptionalBoolTrue},
		{"registry.example.com/x:1", types.OptionalBoolUndefined},
		{"localhost.example.com:5000/x:1", types.OptionalBoolUndefined},
		{"10.0.0.1:5000/x:1", types.OptionalBoolUndefined},
		{"org/engine:15", types.OptionalBoolUndefined},
		{"oci:/out/layout:1", types.OptionalBoolUndefined},
	}
	p := &Pusher{authFile: "/auth.json", cacheDir: "/cache"}
	for _, test := range tests {
		t.Run(test.destination, func(t *testing.T) {
			dest, err := ParseDestination(test.destination)
			if err != nil {
				t.Fatal(err)
			}
			options := p.pushOptions(dest)
			if options.InsecureSkipTLSVerify != test.insecure {
				t.Errorf("InsecureSkipTLSVerify = %v, want %v",
					options.InsecureSkipTLSVerify, test.insecure)
			}
			if options.MaxRetries == nil || *options.MaxRetries != 0 {
				t.Errorf("MaxRetries = %v, want 0: the library would retry on its own",
					options.MaxRetries)
			}
			if options.AuthFilePath != p.authFile || options.BlobInfoCacheDirPath != p.cacheDir {
				t.Errorf("auth file %q and cache %q, want %q and %q", options.AuthFilePath,
					options.BlobInfoCacheDirPath, p.authFile, p.cacheDir)
			}
			if options.CompressionFormat != nil || options.ManifestMIMEType != "" {
				t.Errorf("the push converts the image (compression %v, manifest %q)",
					options.CompressionFormat, options.ManifestMIMEType)
			}
		})
	}
}

// TestDelay checks the retry schedule: doubling from Backoff, capped, and by default
// waiting out a registry restart of half a minute.
func TestDelay(t *testing.T) {
	s := time.Second
	tests := []struct {
		name    string
		backoff time.Duration
		want    []time.Duration
	}{
		{"default", DefaultBackoff, []time.Duration{s, 2 * s, 4 * s, 8 * s, 16 * s, 16 * s}},
		{"short", 10 * time.Millisecond, []time.Duration{10 * time.Millisecond,
			20 * time.Millisecond, 40 * time.Millisecond}},
		{"uneven", 3 * s, []time.Duration{3 * s, 6 * s, 12 * s, 16 * s, 16 * s}},
		{"longer than the cap", 20 * s, []time.Duration{20 * s, 20 * s, 20 * s}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			p := &Pusher{backoff: test.backoff}
			for i, want := range test.want {
				if got := p.delay(i + 1); got != want {
					t.Errorf("delay after attempt %d = %s, want %s", i+1, got, want)
				}
			}
		})
	}
	var total time.Duration
	defaults := &Pusher{backoff: DefaultBackoff}
	for attempt := 1; attempt < DefaultAttempts; attempt++ {
		total += defaults.delay(attempt)
	}
	if total < 40*time.Second {
		t.Errorf("the default attempts wait %s in all, too little to outlast a restart of "+
			"half a minute", total)
	}
}
