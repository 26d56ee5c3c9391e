package push_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/polardb/imagebuilder/push"
)

// TestPush runs the push scenarios on one store that holds the test image, built once:
// each scenario has registries, fronts, caches and logs of its own.
func TestPush(t *testing.T) {
	scenarios := []struct {
		name string
		run  func(*testing.T, *fixture)
	}{
		{"to registry", testPushToRegistry},
		{"uploads only missing blobs", testPushUploadsOnlyMissingBlobs},
		{"PushAll goes on after a failure", testPushAllGoesOnAfterAFailure},
		{"retries transient failures", testPushRetriesTransientFailures},
		{"gives up", testPushGivesUp},
		{"stops when cancelled", testPushStopsWhenCancelled},
		{"with credentials", testPushWithCredentials},
		{"fails at once", testPushFailsAtOnce},
		{"to OCI", testPushToOCI},
	}
	f := newFixture(t)
	for _, scenario := range scenarios {
		t.Run(scenario.name, func(t *testing.T) { scenario.run(t, f) })
	}
}

// testPushToRegistry pushes to two tags of a real registry and reads both back with an
// independent client: the tags, the digest, the label and the copied file.
func testPushToRegistry(t *testing.T, f *fixture) {
	reg := newRegistry(t)
	var output logBuffer
	pusher, logs := f.pusher(t, push.Options{Output: &output})

	refs := []string{reg.Host + "/polardb/engine:15.1", reg.Host + "/polardb/engine:latest"}
	dests := []push.Destination{destination(t, "docker://"+refs[0]), destination(t, refs[1])}
	results, err := pusher.PushAll(context.Background(), imageName, dests)
	if err != nil {
		t.Fatalf("PushAll: %v", err)
	}

	if len(results) != 2 {
		t.Fatalf("PushAll returned %d results, want 2", len(results))
	}
	for i, pushed := range results {
		if want := "docker://" + refs[i]; pushed.Destination != want {
			t.Errorf("Destination = %q, want %q", pushed.Destination, want)
		}
		if pushed.Attempts != 1 {
			t.Errorf("%s took %d attempts, want 1", refs[i], pushed.Attempts)
		}
		descriptor, image := remoteImage(t, refs[i], nil)
		if got := descriptor.Digest.String(); got != pushed.Digest {
			t.Errorf("%s holds manifest %s, Push reported %q", refs[i], got, pushed.Digest)
		}
		f.assertContent(t, image)
	}
	if results[0].Digest != results[1].Digest {
		t.Errorf("the two tags hold different manifests: %s and %s",
			results[0].Digest, results[1].Digest)
	}
	assertTags(t, reg.Host+"/polardb/engine", "15.1", "latest")
	if !strings.Contains(output.String(), "Writing manifest") {
		t.Errorf("the copy report was not written to Options.Output:\n%s", output.String())
	}
	if retries := logs.lines("push failed; retrying"); len(retries) != 0 {
		t.Errorf("retries logged for a push that met no failure:\n%s", logs.String())
	}
}

// assertTags checks with an independent client that repository has exactly tags.
func assertTags(t *testing.T, repository string, tags ...string) {
	t.Helper()
	repo, err := name.NewRepository(repository, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	got, err := remote.List(repo, remote.WithAuth(authn.Anonymous))
	if err != nil {
		t.Fatalf("listing the tags of %s: %v", repository, err)
	}
	slices.Sort(got)
	slices.Sort(tags)
	if !slices.Equal(got, tags) {
		t.Errorf("tags of %s = %v, want %v", repository, got, tags)
	}
}

// testPushUploadsOnlyMissingBlobs pushes an unchanged image again, to the same tag and to
// another, and counts the blob uploads the registry answered.
func testPushUploadsOnlyMissingBlobs(t *testing.T, f *fixture) {
	reg := newRegistry(t)
	pusher, _ := f.pusher(t, push.Options{})
	ctx := context.Background()

	first, err := pusher.Push(ctx, imageName, destination(t, reg.Host+"/polardb/engine:15.1"))
	if err != nil {
		t.Fatal(err)
	}
	uploaded := reg.blobUploads()
	if uploaded == 0 {
		t.Fatal("the first push uploaded no blobs: the upload count sees nothing")
	}

	t.Logf("the first push made %d blob upload requests", uploaded)
	for _, ref := range []string{"/polardb/engine:15.1", "/polardb/engine:stable"} {
		again, err := pusher.Push(ctx, imageName, destination(t, reg.Host+ref))
		if err != nil {
			t.Fatal(err)
		}
		if again.Digest != first.Digest {
			t.Errorf("pushing %s again gave manifest %s, the first push %s",
				ref, again.Digest, first.Digest)
		}
		if more := reg.blobUploads() - uploaded; more != 0 {
			t.Errorf("pushing the unchanged image to %s uploaded %d blob requests, want 0",
				ref, more)
		}
	}
}

// testPushAllGoesOnAfterAFailure pushes to a registry that refuses connections and to
// a working one: the working one gets the image, and the error names the other.
func testPushAllGoesOnAfterAFailure(t *testing.T, f *fixture) {
	reg := newRegistry(t)
	pusher, logs := f.pusher(t, push.Options{Attempts: 3, Backoff: 10 * time.Millisecond})
	refused := "docker://127.0.0.1:1/polardb/engine:15.1"
	good := "docker://" + reg.Host + "/polardb/engine:15.1"

	results, err := pusher.PushAll(context.Background(), imageName,
		[]push.Destination{destination(t, refused), destination(t, good)})

	if err == nil {
		t.Fatal("PushAll reported no error though one destination refuses connections")
	}
	for _, want := range []string{`pushing "` + imageName + `" to "` + refused + `"`,
		"giving up after 3 attempts", "connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), reg.Host) {
		t.Errorf("error names the destination that worked:\n%v", err)
	}
	if len(results) != 2 {
		t.Fatalf("PushAll returned %d results, want 2", len(results))
	}
	if results[0].Digest != "" || results[0].Attempts != 3 {
		t.Errorf("failed destination: %+v, want no digest after 3 attempts", results[0])
	}
	descriptor, _ := remoteImage(t, strings.TrimPrefix(good, "docker://"), nil)
	if results[1].Digest != descriptor.Digest.String() {
		t.Errorf("working destination: %+v, registry holds %s", results[1], descriptor.Digest)
	}
	if retries := logs.lines("push failed; retrying"); len(retries) != 2 {
		t.Errorf("%d retries logged, want 2:\n%s", len(retries), logs.String())
	}
}
