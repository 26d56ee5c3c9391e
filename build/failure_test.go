package build_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/polardb/imagebuilder/build"
	"github.com/polardb/imagebuilder/internal/buildtest"
)

// TestBuildFailure checks what a failed build returns and leaves: an error naming the
// image, the Dockerfile, the step and the cause; no tag; no container or mount; and a
// store that the next build can use.
func TestBuildFailure(t *testing.T) {
	tests := []struct {
		name       string
		dockerfile string
		wantInErr  []string
	}{
		{
			name:       "failing RUN",
			dockerfile: "FROM {base}\nRUN echo ok > /ok\nRUN echo about to fail && exit 3\n",
			wantInErr:  []string{"RUN echo about to fail && exit 3", "exit status 3"},
		},
		{
			name:       "missing base image",
			dockerfile: "FROM 127.0.0.1:1/nothing:latest\nRUN true\n",
			wantInErr:  []string{`base image "127.0.0.1:1/nothing:latest"`, "connection refused"},
		},
	}
	b := buildtest.Builder(t)
	base := buildtest.BaseImage(t, b)
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			request := buildContext(t, "failing-image", map[string]string{
				"Dockerfile": strings.ReplaceAll(test.dockerfile, "{base}", base),
			}, "failing/image:latest")
			_, err := b.Build(context.Background(), request)
			if err == nil {
				t.Fatal("build succeeded")
			}
			t.Logf("error: %v", err)
			for _, want := range append(test.wantInErr, `"failing-image"`, request.Dockerfile) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q", want)
				}
			}
			if b.Exists("failing/image:latest") {
				t.Error("the failed build tagged an image")
			}
			assertNoLeftovers(t, b)
			assertBuilds(t, b, base)
		})
	}
}

// TestBuildCancel cancels a build while a RUN step sleeps: Build returns at once, and the
// build leaves nothing behind.
func TestBuildCancel(t *testing.T) {
	b := buildtest.Builder(t)
	base := buildtest.BaseImage(t, b)
	request := buildContext(t, "sleeper", map[string]string{
		"Dockerfile": "FROM " + base + "\nRUN echo sleeping && sleep 30\n",
	}, "cancel/sleeper:latest")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	output := &signalWriter{marker: "sleeping", seen: make(chan struct{})}
	request.Output = output
	result := make(chan error, 1)
	go func() {
		_, err := b.Build(ctx, request)
		result <- err
	}()

	select {
	case <-output.seen:
	case err := <-result:
		t.Fatalf("build ended before its RUN step slept: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("the RUN step never started")
	}
	cancel()
	select {
	case err := <-result:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v is not context.Canceled", err)
		}
		if err != nil && !strings.Contains(err.Error(), `"sleeper"`) {
			t.Errorf("error %v does not name the image", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Build did not return after cancellation while RUN sleeps for 30 s")
	}
	if b.Exists("cancel/sleeper:latest") {
		t.Error("the cancelled build tagged an image")
	}
	assertNoLeftovers(t, b)
	assertBuilds(t, b, base)
}

// TestBuildConcurrent runs two builds on one Builder at once.
func TestBuildConcurrent(t *testing.T) {
	b := buildtest.Builder(t)
	base := buildtest.BaseImage(t, b)
	names := []string{"concurrent/one:latest", "concurrent/two:latest"}
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for i, name := range names {
		request := buildContext(t, name, map[string]string{
			"Dockerfile": "FROM " + base + "\nCOPY file /file\nRUN cat /file > /copy\n",
			"file":       name + "\n",
		}, name)
		wg.Go(func() {
			_, errs[i] = b.Build(context.Background(), request)
		})
	}
	wg.Wait()
	for i, name := range names {
		if errs[i] != nil {
			t.Errorf("building %s: %v", name, errs[i])
			continue
		}
		if got := readFile(t, b, name, "/copy"); got != name+"\n" {
			t.Errorf("%s: /copy = %q", name, got)
		}
	}
	assertNoLeftovers(t, b)
}

// assertBuilds checks that the store still builds.
func assertBuilds(t *testing.T, b *build.Builder, base string) {
	t.Helper()
	request := buildContext(t, "after", map[string]string{
		"Dockerfile": "FROM " + base + "\nRUN echo after > /after\n",
	}, "after/failure:latest")
	mustBuild(t, b, request)
	if got := readFile(t, b, "after/failure:latest", "/after"); got != "after\n" {
		t.Errorf("/after = %q", got)
	}
}

// signalWriter closes seen once marker has been written to it.
type signalWriter struct {
	marker string
	seen   chan struct{}
	once   sync.Once
	buffer syncBuffer
}

// Write records p and signals when the marker has appeared.
func (s *signalWriter) Write(p []byte) (int, error) {
	n, err := s.buffer.Write(p)
	if strings.Contains(s.buffer.String(), "\n"+s.marker) {
		s.once.Do(func() { close(s.seen) })
	}
	return n, err
}

// TestBuildBadRequest checks that requests buildah cannot carry out are refused with an
// error naming the image and the problem, and tag nothing.
func TestBuildBadRequest(t *testing.T) {
	b := buildtest.Builder(t)
	valid := func(t *testing.T) build.Request {
		return buildContext(t, "bad", map[string]string{"Dockerfile": "FROM scratch\n"},
			"bad/request:latest")
	}
	tests := []struct {
		name   string
		change func(r *build.Request)
		want   string
	}{
		{"no tags", func(r *build.Request) { r.Tags = nil }, "no tags"},
		{"relative context", func(r *build.Request) { r.ContextDir = "docker" },
			`context directory "docker" is not an absolute path`},
		{"missing Dockerfile", func(r *build.Request) { r.Dockerfile += ".missing" },
			"no such file"},
		{"bad platform", func(r *build.Request) { r.Platform = "linux/arm64/v8/extra" },
			`platform "linux/arm64/v8/extra"`},
		{"bad tag", func(r *build.Request) { r.Tags = []string{"Upper/Case:tag"} },
			"Upper/Case:tag"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			request := valid(t)
			test.change(&request)
			_, err := b.Build(context.Background(), request)
			if err == nil {
				t.Fatal("build succeeded")
			}
			for _, want := range []string{`"bad"`, test.want} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if b.Exists("bad/request:latest") {
				t.Error("a refused request tagged an image")
			}
		})
	}
}
