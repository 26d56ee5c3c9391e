package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/polardb/imagebuilder/build"
	"github.com/polardb/imagebuilder/pipeline"
)

// TestMain lets buildah's helper processes, which run this test binary again, do their work.
func TestMain(m *testing.M) {
	done, err := build.Reexec()
	if done {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// BenchmarkUpToDate runs the build target's work in-process on 1, 3, 10 and 30 images of
// one engine repository when nothing changed: open the run (load image.yml, plan, read the
// project), fetch, stage, decide every image is up to date, write the result, close. It
// needs the fixtures run.sh makes, named by BENCH_DIR, each work directory already built
// once; without BENCH_DIR it is skipped.
func BenchmarkUpToDate(b *testing.B) {
	dir := os.Getenv("BENCH_DIR")
	if dir == "" {
		b.Skip("BENCH_DIR is not set: run the benchmark with `go run magefile.go bench`")
	}
	project := filepath.Join(dir, "project")
	for _, images := range []int{1, 3, 10, 30} {
		b.Run(fmt.Sprintf("images=%d", images), func(b *testing.B) {
			settings := pipeline.Settings{
				ConfigPath: filepath.Join(project, fmt.Sprintf("bench-image-%d.yml", images)),
				ProjectDir: project,
				WorkDir:    filepath.Join(dir, fmt.Sprintf("work-scale-%d", images)),
			}
			for b.Loop() {
				buildAll(b, settings)
			}
		})
	}
}

// buildAll does what the build target does: engines and managers, then closes the run.
func buildAll(b *testing.B, settings pipeline.Settings) {
	b.Helper()
	run, err := pipeline.Open(settings)
	if err != nil {
		b.Fatal(err)
	}
	defer run.Close()
	ctx := context.Background()
	errs := make(chan error, 2)
	go func() { errs <- run.BuildEngines(ctx) }()
	go func() { errs <- run.BuildManagers(ctx) }()
	for range 2 {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
}
