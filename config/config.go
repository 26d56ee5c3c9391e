// Package config reads image.yml, the declarative list of engine and manager images, and
// checks it completely before any work starts.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// DefaultResult is the result file written when image.yml has no result key.
const DefaultResult = "image.result"

// Type says whether an image holds the engine or the management tooling on top of it.
type Type string

// The image types image.yml knows.
const (
	Engine  Type = "engine"
	Manager Type = "manager"
)

// Config is a loaded and validated image.yml.
type Config struct {
	// Images lists the images in the order image.yml declares them.
	Images []Image `yaml:"images"`
	// Result is the path of the file listing every built image, relative to Dir unless absolute.
	Result string `yaml:"result"`
	// Path is the absolute path of image.yml.
	Path string `yaml:"-"`
	// Dir is the project root. Dockerfile paths, relative engine repositories and the result
	// file are resolved against it.
	Dir string `yaml:"-"`
}

// Image is one entry of image.yml.
type Image struct {
	ID                   string            `yaml:"id"`
	Type                 Type              `yaml:"type"`
	Name                 string            `yaml:"build_image_name"`
	Dockerfile           string            `yaml:"build_image_dockerfile"`
	EngineRepo           string            `yaml:"engine_repo"`
	EngineBranch         string            `yaml:"engine_branch"`
	EngineConfigTemplate string            `yaml:"engine_config_template"`
	EngineImageID        string            `yaml:"engine_image_id"`
	Push                 bool              `yaml:"push"`
	Enable               *bool             `yaml:"enable"`
	BuildArgs            map[string]string `yaml:"build_args"`
	// PushTags are the tags pushed, as templates over the derived values (see TagValues);
	// empty means the image's own tag.
	PushTags []string `yaml:"push_tags"`
	// PushTo lists where the image is pushed: repositories (registry/org/name) or
	// containers-image destinations such as oci-archive:/path; empty means the repository
	// build_image_name names.
	PushTo []string `yaml:"push_to"`
	// Line is where the entry starts in image.yml.
	Line int `yaml:"-"`
	// fieldLines maps each key of the entry to its line in image.yml.
	fieldLines map[string]int
}

// FieldLine returns the line of the entry's key field, or the entry's first line when the key
// is absent.
func (i Image) FieldLine(field string) int {
	if line, ok := i.fieldLines[field]; ok {
		return line
	}
	return i.Line
}

// Enabled reports whether the image is built for its own sake; a missing enable key means yes.
func (i Image) Enabled() bool {
	return i.Enable == nil || *i.Enable
}

// DockerfilePath returns the absolute path of the image's Dockerfile.
func (c *Config) DockerfilePath(i Image) string {
	return filepath.Join(c.Dir, filepath.FromSlash(i.Dockerfile))
}

// ResultPath returns the absolute path of the result file.
func (c *Config) ResultPath() string {
	result := c.Result
	if result == "" {
		result = DefaultResult
	}
	if filepath.IsAbs(result) {
		return result
	}
	return filepath.Join(c.Dir, filepath.FromSlash(result))
}

// Image returns the image with the given id.
func (c *Config) Image(id string) (Image, bool) {
	for _, image := range c.Images {
		if image.ID == id {
			return image, true
		}
	}
	return Image{}, false
}

// Load reads, decodes strictly and validates the image.yml at path for the project at dir
// (empty: the directory holding image.yml). All problems found are returned together as
// Problems.
func Load(path, dir string) (*Config, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("resolving config path %q: %w", path, err)
	}
	data, err := os.ReadFile(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading config %q: file not found; "+
			"run from the project directory or set IMAGE_CONFIG to the path of image.yml", path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading config %q: %w", path, err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("loading config %q: %w", path, err)
	}
	cfg.Path = abs
	if dir == "" {
		dir = filepath.Dir(abs)
	}
	if cfg.Dir, err = filepath.Abs(dir); err != nil {
		return nil, fmt.Errorf("resolving project directory %q: %w", dir, err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validating config %q: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes image.yml strictly: unknown keys are reported with their line and the
// nearest known key. It does not validate the content; Load does.
func Parse(data []byte) (*Config, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, decodeError(err)
	}
	if problems := checkKeys(&doc); len(problems) > 0 {
		return nil, problems
	}
	var cfg Config
	if err := doc.Decode(&cfg); err != nil {
		return nil, decodeError(err)
	}
	recordLines(&doc, &cfg)
	return &cfg, nil
}

func decodeError(err error) error {
	if errors.Is(err, errEmpty) || err.Error() == "EOF" {
		return errEmpty
	}
	return fmt.Errorf("decoding YAML: %w", err)
}

var errEmpty = errors.New("the file is empty; it needs an images: list (see README)")
