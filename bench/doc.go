// Package bench holds the pipeline benchmark: run.sh times the image builder against the
// command-line sequence the original builder ran, on fixtures it makes itself, and
// BenchmarkUpToDate measures the pipeline's own work, in-process, when nothing changed.
// Run both with `go run magefile.go bench`; BENCHMARKS.md has the figures.
package bench
