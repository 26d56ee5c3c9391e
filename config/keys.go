package config

import (
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	topKeys   = yamlKeys(reflect.TypeOf(Config{}))
	imageKeys = yamlKeys(reflect.TypeOf(Image{}))
)

// yamlKeys lists the yaml keys a struct accepts, in declaration order.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}

// checkKeys reports every mapping key image.yml does not define, with its line.
func checkKeys(doc *yaml.Node) Problems {
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return Problems{{Line: root.Line,
			Msg: "the top level must be a mapping with an images: list"}}
	}
	problems := unknownKeys(root, topKeys, "")
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "images" || root.Content[i+1].Kind != yaml.SequenceNode {
			continue
		}
		for _, entry := range root.Content[i+1].Content {
			if entry.Kind == yaml.MappingNode {
				problems = append(problems, unknownKeys(entry, imageKeys, entryID(entry))...)
			}
		}
	}
	return problems
}

func unknownKeys(m *yaml.Node, known []string, id string) Problems {
	var problems Problems
	for i := 0; i+1 < len(m.Content); i += 2 {
		key := m.Content[i]
		if contains(known, key.Value) {
			continue
		}
		msg := fmt.Sprintf("unknown key %q", key.Value)
		if near := nearest(key.Value, known); near != "" {
			msg += fmt.Sprintf("; did you mean %q?", near)
		} else {
			msg += "; known keys are " + strings.Join(known, ", ")
		}
		problems = append(problems, Problem{ID: id, Field: key.Value, Line: key.Line, Msg: msg})
	}
	return problems
}

func entryID(m *yaml.Node) string {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "id" {
			return m.Content[i+1].Value
		}
	}
	return ""
}

// recordLines stores each image entry's starting line in the decoded config.
func recordLines(doc *yaml.Node, cfg *Config) {
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "images" {
			continue
		}
		for n, entry := range root.Content[i+1].Content {
			if n >= len(cfg.Images) {
				break
			}
			cfg.Images[n].Line = entry.Line
			cfg.Images[n].fieldLines = map[string]int{}
			for k := 0; k+1 < len(entry.Content); k += 2 {
				cfg.Images[n].fieldLines[entry.Content[k].Value] = entry.Content[k].Line
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, item := range list {
		if item == s {
			return true
		}
	}
	return false
}

// nearest returns the known key closest to key by edit distance, if it is close enough to be
// a plausible misspelling.
func nearest(key string, known []string) string {
	best, bestDistance := "", len(key)/2+2
	for _, candidate := range known {
		d := distance(strings.ToLower(key), candidate)
		if d < bestDistance {
			best, bestDistance = candidate, d
		}
	}
	return best
}

// distance is the Levenshtein edit distance between a and b.
func distance(a, b string) int {
	previous := make([]int, len(b)+1)
	for j := range previous {
		previous[j] = j
	}
	for i := 1; i <= len(a); i++ {
		current := make([]int, len(b)+1)
		current[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			current[j] = min(previous[j]+1, current[j-1]+1, previous[j-1]+cost)
		}
		previous = current
	}
	return previous[len(b)]
}
