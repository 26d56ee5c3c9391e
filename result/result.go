// Package result writes the record of a run: the result file listing every built image's full
// name, one per line, as the original builder did, and a JSON file beside it with the details.
package result

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Image records one built image.
type Image struct {
	ID       string   `json:"id"`
	Type     string   `json:"type"`
	Names    []string `json:"names"`
	ImageID  string   `json:"image_id"`
	Digest   string   `json:"digest"`
	Platform string   `json:"platform,omitempty"`
	// Reason says why the image was planned; Action whether it was built or found up to
	// date, and Why the decision.
	Reason string `json:"reason"`
	Action string `json:"action"`
	Why    string `json:"why"`
	// Engine is the id of a manager's engine image.
	Engine       string  `json:"engine,omitempty"`
	EngineRepo   string  `json:"engine_repo,omitempty"`
	EngineRef    string  `json:"engine_ref,omitempty"`
	EngineCommit string  `json:"engine_commit,omitempty"`
	Seconds      float64 `json:"duration_seconds"`
	// Pushed lists each destination the image was pushed to and the digest it holds.
	Pushed []Pushed `json:"pushed,omitempty"`
}

// Pushed records one destination of a push.
type Pushed struct {
	Destination string `json:"destination"`
	Digest      string `json:"digest"`
	// Action is "pushed", or "up to date" when the destination already held the digest.
	Action string `json:"action"`
}

// Result is the record of one run.
type Result struct {
	// Config is the path of the image.yml the run used.
	Config string  `json:"config"`
	Images []Image `json:"images"`
}

// JSONPath returns the path of the JSON record written beside the result file at path.
func JSONPath(path string) string { return path + ".json" }

// Write writes the result file at path and its JSON record beside it. Each file is replaced
// atomically, and neither is touched unless both could be written in full.
func Write(path string, r Result) error {
	var names strings.Builder
	for _, image := range r.Images {
		for _, name := range image.Names {
			names.WriteString(name + "\n")
		}
	}
	record, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding result record: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating result directory: %w", err)
	}
	tmpNames, err := writeTemp(path, []byte(names.String()))
	if err != nil {
		return err
	}
	defer os.Remove(tmpNames)
	tmpRecord, err := writeTemp(JSONPath(path), append(record, '\n'))
	if err != nil {
		return err
	}
	defer os.Remove(tmpRecord)
	if err := os.Rename(tmpRecord, JSONPath(path)); err != nil {
		return fmt.Errorf("writing result record %q: %w", JSONPath(path), err)
	}
	if err := os.Rename(tmpNames, path); err != nil {
		return fmt.Errorf("writing result file %q: %w", path, err)
	}
	return nil
}

// Read loads the JSON record written beside the result file at path.
func Read(path string) (Result, error) {
	var r Result
	data, err := os.ReadFile(JSONPath(path))
	if err != nil {
		return r, fmt.Errorf("reading result record: %w", err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("decoding result record %q: %w", JSONPath(path), err)
	}
	return r, nil
}

func writeTemp(path string, data []byte) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return "", fmt.Errorf("writing %q: %w", path, err)
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := firstError(werr, serr, cerr); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("writing %q: %w", path, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("writing %q: %w", path, err)
	}
	return f.Name(), nil
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
