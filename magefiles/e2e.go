//go:build mage

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/magefile/mage/sh"

	"github.com/polardb/imagebuilder/build"
	"github.com/polardb/imagebuilder/pipeline"
)

// E2e builds the release engine and manager from local stand-ins for PolarDB's repository and
// development image, then checks them running (slow: needs root and about 15 minutes).
func E2e(ctx context.Context) error {
	work, err := filepath.Abs(env("E2E_WORKDIR", filepath.Join(os.TempDir(), "polardb-e2e")))
	if err != nil {
		return err
	}
	if err := sh.RunV("bash", "e2e/setup.sh", work); err != nil {
		return err
	}
	fixture, err := readEnvFile(filepath.Join(work, "fixture.env"))
	if err != nil {
		return err
	}
	s := settings()
	s.ConfigPath = filepath.Join(work, "image.yml")
	s.WorkDir = filepath.Join(work, "work")
	if err := buildBase(ctx, s, fixture); err != nil {
		return err
	}
	run, err := pipeline.Open(s)
	if err != nil {
		return err
	}
	defer run.Close()
	if err := run.BuildManagers(ctx); err != nil {
		return err
	}
	engine, _ := run.FullName("polardb_pg_engine_release")
	manager, _ := run.FullName("polardb_pg_manager")
	return sh.RunV("bash", "e2e/check.sh", engine, manager)
}

// buildBase imports the fixture's root file system as the base image the engine builds on,
// with the builder itself.
func buildBase(ctx context.Context, s pipeline.Settings, fixture map[string]string) error {
	s.Store.StateDir = filepath.Join(s.WorkDir, "build")
	s.Store.Logger = s.Logger
	b, err := build.New(ctx, s.Store)
	if err != nil {
		return err
	}
	defer b.Close()
	if b.Exists(fixture["BASE_IMAGE"]) {
		return nil
	}
	fmt.Println("building base image", fixture["BASE_IMAGE"])
	_, err = b.Build(ctx, build.Request{
		ID:         "e2e-base",
		ContextDir: fixture["BASE_CONTEXT"],
		Dockerfile: fixture["BASE_CONTAINERFILE"],
		Tags:       []string{fixture["BASE_IMAGE"]},
		Output:     s.Steps,
	})
	return err
}

// readEnvFile reads KEY=VALUE lines, as the fixture script writes them.
func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading fixture description: %w", err)
	}
	defer f.Close()
	values := map[string]string{}
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		key, value, ok := strings.Cut(scanner.Text(), "=")
		if ok && !strings.HasPrefix(key, "#") {
			values[strings.TrimSpace(key)] = strings.Trim(value, `"'`)
		}
	}
	return values, scanner.Err()
}
