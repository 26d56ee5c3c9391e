package pipeline

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// pushRecord is what the last push to one destination sent.
type pushRecord struct {
	ImageID string `json:"image_id"`
	Digest  string `json:"digest"`
}

func (r *Run) pushStatePath() string {
	return filepath.Join(r.workDir, "state", "pushed.json")
}

// loadPushState reads the record of earlier pushes; a missing or unreadable record means
// nothing is known and everything is pushed.
func (r *Run) loadPushState() map[string]pushRecord {
	state := map[string]pushRecord{}
	if data, err := os.ReadFile(r.pushStatePath()); err == nil {
		_ = json.Unmarshal(data, &state)
	}
	return state
}

// savePushState records the pushes made, replacing the file atomically.
func (r *Run) savePushState(state map[string]pushRecord) error {
	data, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		return err
	}
	path := r.pushStatePath()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path+".tmp", data, 0o644); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}
