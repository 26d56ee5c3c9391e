//go:build mage

// Targets of the PolarDB image builder. Settings come from the environment: IMAGE_CONFIG,
// IMAGES, WORK_DIR, NO_CACHE, JOBS and PUSH_ATTEMPTS (see README.md).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/magefile/mage/mg"

	"github.com/polardb/imagebuilder/build"
)

// Default is the target run when none is named.
var Default = Build

func init() {
	done, err := build.Reexec()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if done {
		os.Exit(0)
	}
}

// Plan validates image.yml and prints what would be built, in order, without fetching.
func Plan() error {
	run, err := current()
	if err != nil {
		return err
	}
	return run.WritePlan(os.Stdout)
}

// Fetch clones or updates every planned engine source.
func Fetch(ctx context.Context) error {
	run, err := current()
	if err != nil {
		return err
	}
	return run.Fetch(ctx)
}

// Template stages each image's build context with its engine's postgresql.conf template.
func Template(ctx context.Context) error {
	mg.CtxDeps(ctx, Fetch)
	run, err := current()
	if err != nil {
		return err
	}
	return run.Template(ctx)
}

// BuildEngines builds every planned engine image.
func BuildEngines(ctx context.Context) error {
	mg.CtxDeps(ctx, Template)
	run, err := current()
	if err != nil {
		return err
	}
	return run.BuildEngines(ctx)
}

// BuildManagers builds every planned manager image, each as soon as its engine is built.
func BuildManagers(ctx context.Context) error {
	mg.CtxDeps(ctx, Template)
	run, err := current()
	if err != nil {
		return err
	}
	return run.BuildManagers(ctx)
}

// Push builds, then pushes every planned image whose push is true to each destination.
func Push(ctx context.Context) error {
	mg.CtxDeps(ctx, Build)
	run, err := current()
	if err != nil {
		return err
	}
	return run.Push(ctx, pushOptions())
}

// Build builds every planned image, engines and the managers on them (the default target).
func Build(ctx context.Context) {
	mg.CtxDeps(ctx, BuildEngines, BuildManagers)
}
