// Package pipeline runs the stages of a build over a plan: fetch engine sources, stage build
// contexts, build images in dependency order and record the result. It holds the state one
// process carries from stage to stage; each stage lives in its own package.
package pipeline

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/polardb/imagebuilder/build"
	"github.com/polardb/imagebuilder/config"
	"github.com/polardb/imagebuilder/internal/keylock"
	"github.com/polardb/imagebuilder/plan"
	"github.com/polardb/imagebuilder/project"
	"github.com/polardb/imagebuilder/source"
	"github.com/polardb/imagebuilder/stage"
)

// Settings configures a Run.
type Settings struct {
	// ConfigPath is the path of image.yml.
	ConfigPath string
	// ProjectDir is the project root that image.yml's paths are relative to and that build
	// contexts are made from; empty means the directory holding image.yml.
	ProjectDir string
	// WorkDir holds checkouts, staged contexts and the builder's own files; empty means .work
	// in the project directory.
	WorkDir string
	// Images limits the run to these image ids and the engines they need.
	Images []string
	// NoCache turns the layer cache off.
	NoCache bool
	// Jobs bounds how many images build at once; 0 picks a default for the machine.
	Jobs int
	// Store selects the containers storage; the zero value is the user's standard storage.
	Store build.Options
	// Out receives one line per stage per image; nil discards them.
	Out io.Writer
	// Steps receives each build's step output, prefixed by the image id; nil discards it.
	Steps io.Writer
	// Logger receives the libraries' diagnostics; nil discards them.
	Logger *slog.Logger
}

// Run carries one invocation's state from stage to stage. Its methods may be called
// concurrently; each stage does its work once.
type Run struct {
	settings Settings
	workDir  string
	out      *progress

	// Config is the loaded image.yml.
	Config *config.Config
	// Plan is what the run builds.
	Plan *plan.Plan
	// Project is the project's git identity.
	Project project.Info

	lockOnce  onceError
	lock      *os.File
	fetchOnce onceError
	stageOnce onceError

	mu        sync.Mutex
	checkouts map[plan.Source]*source.Checkout
	contexts  map[string]*stage.Context
	names     map[string]string
	builds    map[string]*future
	builder   *builderRef
	slots     chan struct{}
	// destinations serialises pushes into one local layout or archive.
	destLocks keylock.Set
}

// Open loads and validates the configuration and makes the plan. It touches no network and
// writes nothing.
func Open(s Settings) (*Run, error) {
	cfg, err := config.Load(s.ConfigPath, s.ProjectDir)
	if err != nil {
		return nil, err
	}
	p, err := plan.Resolve(cfg, s.Images)
	if err != nil {
		return nil, err
	}
	info, err := project.Read(cfg.Dir)
	if err != nil {
		return nil, err
	}
	workDir := s.WorkDir
	if workDir == "" {
		workDir = filepath.Join(cfg.Dir, ".work")
	}
	if workDir, err = filepath.Abs(workDir); err != nil {
		return nil, fmt.Errorf("resolving work directory: %w", err)
	}
	jobs := s.Jobs
	if jobs <= 0 {
		jobs = defaultJobs()
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	return &Run{
		settings:  s,
		workDir:   workDir,
		out:       &progress{w: s.Out},
		Config:    cfg,
		Plan:      p,
		Project:   info,
		checkouts: map[plan.Source]*source.Checkout{},
		contexts:  map[string]*stage.Context{},
		names:     map[string]string{},
		builds:    map[string]*future{},
		builder:   &builderRef{},
		slots:     make(chan struct{}, jobs),
	}, nil
}

// defaultJobs builds up to two images per core pair: builds mix CPU-bound compiles with
// waiting on storage, and the machines this runs on often have two cores.
func defaultJobs() int {
	return max(2, min(runtime.NumCPU(), 4))
}

// WorkDir returns the directory holding the run's checkouts and contexts.
func (r *Run) WorkDir() string { return r.workDir }

// FullName returns the full name with tag of a planned image, once its sources are fetched.
func (r *Run) FullName(id string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	name, ok := r.names[id]
	return name, ok
}

// Close releases the work directory and the containers storage.
func (r *Run) Close() error {
	err := r.builder.close()
	if r.lock != nil {
		r.lock.Close()
	}
	return err
}

func (r *Run) fetcher() *source.Fetcher {
	return &source.Fetcher{Root: filepath.Join(r.workDir, "sources"), Logger: r.settings.Logger}
}

// onceError runs a function once and remembers its error.
type onceError struct {
	once sync.Once
	err  error
}

func (o *onceError) do(f func() error) error {
	o.once.Do(func() { o.err = f() })
	return o.err
}

// lockWorkDir takes the work directory for this process, so two runs never trample each
// other's checkouts and contexts.
func (r *Run) lockWorkDir() error {
	return r.lockOnce.do(func() error {
		f, err := lockDir(r.workDir)
		r.lock = f
		return err
	})
}

// ensureContext keeps ctx's cancellation and gives a readable error after it.
func ensureContext(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped: %w", err)
	}
	return nil
}
