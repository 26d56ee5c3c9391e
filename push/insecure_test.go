package push_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/polardb/imagebuilder/push"
	"go.podman.io/image/v5/pkg/sysregistriesv2"
)

// TestPushPlainHTTP pushes to plain-HTTP registries: those named as loopback are reached
// without configuration, one under another name only once registries.conf marks it
// insecure, and one under another name that is not marked fails at once, with the hint.
func TestPushPlainHTTP(t *testing.T) {
	otherName := loopbackHostname(t)
	listed, unlisted := newRegistry(t), newRegistry(t)
	conf := filepath.Join(t.TempDir(), "registries.conf")
	writeFile(t, conf, "[[registry]]\nlocation = \""+otherName+":"+port(t, listed.Host)+
		"\"\ninsecure = true\n")
	useRegistriesConf(t, conf)
	f := newFixture(t)

	tests := []struct {
		name string
		host string
		// refused is in the error when the push must fail; empty when it must succeed.
		refused []string
	}{
		{name: "127.0.0.1", host: unlisted.Host},
		{name: "localhost", host: "localhost:" + port(t, unlisted.Host)},
		{name: "other name, insecure in registries.conf", host: otherName + ":" +
			port(t, listed.Host)},
		{name: "other name, not in registries.conf", host: otherName + ":" +
			port(t, unlisted.Host), refused: []string{
			"server gave HTTP response to HTTPS client", "insecure = true",
			"/etc/containers/certs.d/" + otherName + ":" + port(t, unlisted.Host)}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			pusher, _ := f.pusher(t, push.Options{Attempts: 3, Backoff: 10 * time.Second})
			ref := test.host + "/polardb/engine:15.1"

			pushed, err := pusher.Push(context.Background(), imageName, destination(t, ref))

			if len(test.refused) == 0 {
				if err != nil {
					t.Fatalf("Push: %v", err)
				}
				descriptor, _ := remoteImage(t, ref, nil)
				if descriptor.Digest.String() != pushed.Digest {
					t.Errorf("registry holds %s, Push reported %q", descriptor.Digest,
						pushed.Digest)
				}
				return
			}
			if err == nil {
				t.Fatal("Push reached a plain-HTTP registry that nothing marks insecure")
			}
			for _, part := range test.refused {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error does not contain %q:\n%v", part, err)
				}
			}
			if pushed.Attempts != 1 {
				t.Errorf("Push made %d attempts, want 1: a TLS failure is not transient",
					pushed.Attempts)
			}
		})
	}
}

// loopbackHostname returns this machine's host name if it resolves to loopback addresses
// only, so that a registry on loopback can be named by something other than localhost or
// an address. It skips the test otherwise.
func loopbackHostname(t *testing.T) string {
	t.Helper()
	hostname, err := os.Hostname()
	if err != nil || strings.EqualFold(hostname, "localhost") {
		t.Skip("no host name other than localhost")
	}
	addresses, err := net.LookupHost(hostname)
	if err != nil || len(addresses) == 0 {
		t.Skipf("host name %q does not resolve: %v", hostname, err)
	}
	for _, address := range addresses {
		if ip := net.ParseIP(address); ip == nil || !ip.IsLoopback() {
			t.Skipf("host name %q resolves to %s, not loopback", hostname, address)
		}
	}
	return hostname
}

// port returns the port of host ("name:port").
func port(t *testing.T, host string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(host)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// useRegistriesConf makes conf the registries configuration until the test ends. The image
// library caches what it read under the settings it was given, not the environment
// variable, so the cache is emptied on the way in and out.
func useRegistriesConf(t *testing.T, conf string) {
	t.Helper()
	t.Setenv("CONTAINERS_REGISTRIES_CONF", conf)
	sysregistriesv2.InvalidateCache()
	t.Cleanup(sysregistriesv2.InvalidateCache)
}
