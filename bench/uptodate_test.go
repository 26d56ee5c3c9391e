package bench

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/polardb/imagebuilder/internal/buildtest"
	"github.com/polardb/imagebuilder/pipeline"
)

// TestMain runs the benchmarks the way buildtest.Main says.
func TestMain(m *testing.M) { buildtest.Main(m) }

// BenchmarkUpToDate runs the build target's work in-process on 1, 3, 10 and 30 images of
// one engine repository when nothing changed: open the run (load image.yml, plan, read the
// project), fetch, stage, decide every image is up to date, write the result, close. The
// last case is the three images with the result file written outside the project tree,
// which keeps the project's listing, and so its staged contexts, unchanged between runs.
// It needs the fixtures run.sh makes, named by BENCH_DIR, each work directory already built
// once; without BENCH_DIR it is skipped.
func BenchmarkUpToDate(b *testing.B) {
	dir := os.Getenv("BENCH_DIR")
	if dir == "" {
		b.Skip("BENCH_DIR is not set: run the benchmark with `go run magefile.go bench`")
	}
	project := filepath.Join(dir, "project")
	cases := []struct{ name, config, work string }{
		{"images=1", "bench-image-1.yml", "work-scale-1"},
		{"images=3", "bench-image-3.yml", "work-scale-3"},
		{"images=10", "bench-image-10.yml", "work-scale-10"},
		{"images=30", "bench-image-30.yml", "work-scale-30"},
		{"images=3,result-outside", "bench-image-result-outside.yml", "work"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			settings := pipeline.Settings{
				ConfigPath: filepath.Join(project, c.config),
				ProjectDir: project,
				WorkDir:    filepath.Join(dir, c.work),
			}
			buildAll(b, settings) // stages anew if the project changed since the last run
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
