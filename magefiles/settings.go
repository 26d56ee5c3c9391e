//go:build mage

package main

import (
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/magefile/mage/mg"

	"github.com/polardb/imagebuilder/pipeline"
	"github.com/polardb/imagebuilder/push"
)

var (
	runOnce sync.Once
	run     *pipeline.Run
	runErr  error
)

// current returns the run every target of this invocation shares.
func current() (*pipeline.Run, error) {
	runOnce.Do(func() { run, runErr = pipeline.Open(settings()) })
	return run, runErr
}

func settings() pipeline.Settings {
	level := slog.LevelWarn
	s := pipeline.Settings{
		ConfigPath: env("IMAGE_CONFIG", "image.yml"),
		ProjectDir: ".",
		WorkDir:    env("WORK_DIR", ".work"),
		NoCache:    truthy(os.Getenv("NO_CACHE")),
		Out:        os.Stdout,
	}
	if jobs, err := strconv.Atoi(os.Getenv("JOBS")); err == nil {
		s.Jobs = jobs
	}
	for _, id := range strings.Split(os.Getenv("IMAGES"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			s.Images = append(s.Images, id)
		}
	}
	if mg.Verbose() {
		level = slog.LevelDebug
		s.Steps = os.Stdout
	}
	s.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	return s
}

func pushOptions() push.Options {
	o := push.Options{}
	if attempts, err := strconv.Atoi(os.Getenv("PUSH_ATTEMPTS")); err == nil {
		o.Attempts = attempts
	}
	if mg.Verbose() {
		o.Output = os.Stdout
	}
	return o
}

func env(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

func truthy(value string) bool {
	b, err := strconv.ParseBool(value)
	return err == nil && b
}
