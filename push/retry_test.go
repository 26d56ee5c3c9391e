package push_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/polardb/imagebuilder/push"
)

// testPushRetriesTransientFailures pushes through fronts that answer 503 or cut
// connections, and to a registry that is down for a while: each push succeeds after
// retries, each retry is logged once with its reason, and the registry holds the image.
func testPushRetriesTransientFailures(t *testing.T, f *fixture) {
	tests := []struct {
		name string
		// serve returns the host to push to, in front of reg.
		serve func(t *testing.T, reg *registry) string
		// reason is in the logged reason of every retry.
		reason []string
	}{{
		name: "503 on upload start",
		serve: func(t *testing.T, reg *registry) string {
			return front(t, reg.URL, firstN(2, unavailable, uploadStart))
		},
		reason: []string{"503"},
	}, {
		name: "503 on manifest",
		serve: func(t *testing.T, reg *registry) string {
			return front(t, reg.URL, firstN(1, unavailable, manifestPut))
		},
		reason: []string{"503"},
	}, {
		name: "connection cut during upload",
		serve: func(t *testing.T, reg *registry) string {
			return front(t, reg.URL, firstN(2, drop, uploadData))
		},
		reason: []string{"EOF", "connection reset", "broken pipe", "closed network connection"},
	}, {
		name: "registry down, then up",
		serve: func(t *testing.T, reg *registry) string {
			address := freePort(t)
			serveAfter(t, address, registryApp(t), 300*time.Millisecond)
			return address
		},
		reason: []string{"connection refused"},
	}}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			reg := newRegistry(t)
			host := test.serve(t, reg)
			pusher, logs := f.pusher(t, push.Options{Attempts: 8, Backoff: 20 * time.Millisecond})
			ref := host + "/polardb/engine:15.1"

			pushed, err := pusher.Push(context.Background(), imageName, destination(t, ref))
			if err != nil {
				t.Fatalf("Push: %v\nlog:\n%s", err, logs.String())
			}

			if pushed.Attempts < 2 {
				t.Errorf("the push took %d attempt(s); the failures were not met or not "+
					"retried", pushed.Attempts)
			}
			retries := logs.lines("push failed; retrying")
			if len(retries) != pushed.Attempts-1 {
				t.Errorf("%d retries logged for %d attempts:\n%s", len(retries),
					pushed.Attempts, logs.String())
			}
			for _, line := range retries {
				if !containsAny(line, test.reason) || !strings.Contains(line, "level=INFO") {
					t.Errorf("retry line lacks the level or a reason among %q:\n%s",
						test.reason, line)
				}
			}
			descriptor, image := remoteImage(t, ref, nil)
			if descriptor.Digest.String() != pushed.Digest {
				t.Errorf("registry holds %s, Push reported %q", descriptor.Digest, pushed.Digest)
			}
			f.assertContent(t, image)
		})
	}
}

// containsAny reports whether s contains one of parts.
func containsAny(s string, parts []string) bool {
	for _, part := range parts {
		if strings.Contains(s, part) {
			return true
		}
	}
	return false
}

// testPushGivesUp pushes through a front that always answers 503: the push stops after
// the configured number of attempts, and says so. Every attempt ends at its first request,
// so the front sees one request per attempt and none from retries of the library's own.
func testPushGivesUp(t *testing.T, f *fixture) {
	reg := newRegistry(t)
	var requests atomic.Int64
	host := front(t, reg.URL, func(*http.Request) fault {
		requests.Add(1)
		return unavailable
	})
	pusher, logs := f.pusher(t, push.Options{Attempts: 4, Backoff: 5 * time.Millisecond})
	dest := "docker://" + host + "/polardb/engine:15.1"

	pushed, err := pusher.Push(context.Background(), imageName, destination(t, dest))

	if err == nil {
		t.Fatal("Push succeeded against a registry that only answers 503")
	}
	for _, want := range []string{`pushing "` + imageName + `" to "` + dest + `"`,
		"giving up after 4 attempts", "503"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
	if pushed.Attempts != 4 || pushed.Digest != "" {
		t.Errorf("Pushed = %+v, want 4 attempts and no digest", pushed)
	}
	if retries := logs.lines("push failed; retrying"); len(retries) != 3 {
		t.Errorf("%d retries logged, want 3:\n%s", len(retries), logs.String())
	}
	if got := requests.Load(); got != 4 {
		t.Errorf("the registry received %d requests for 4 attempts", got)
	}
}

// testPushStopsWhenCancelled cancels a push while it waits to retry: it returns at once
// with the context's error instead of sleeping through the backoff.
func testPushStopsWhenCancelled(t *testing.T, f *fixture) {
	pusher, _ := f.pusher(t, push.Options{Attempts: 5, Backoff: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()

	pushed, err := pusher.Push(ctx, imageName,
		destination(t, "127.0.0.1:1/polardb/engine:15.1"))

	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Push returned %v, want the context's deadline error", err)
	}
	if elapsed := time.Since(start); elapsed > 30*time.Second {
		t.Errorf("Push returned %s after its context ended; it slept through the backoff",
			elapsed)
	}
	if pushed.Attempts != 1 {
		t.Errorf("Push made %d attempts, want 1 before the cancellation", pushed.Attempts)
	}
}
