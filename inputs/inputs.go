// Package inputs computes the digest of everything that determines an image build: the
// Dockerfile, the context files the build can see, build arguments and labels, the base
// images, the platform and the builder's own settings. Equal digests mean an equal image, so
// a build whose digest matches the existing image's can be skipped.
package inputs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// Label is the image label recording the inputs digest an image was built from.
const Label = "io.github.polardb.imagebuilder.inputs"

// Build lists what determines one image build.
type Build struct {
	// Dockerfile is the Dockerfile's content.
	Dockerfile []byte
	// BuildArgs and Labels are passed to the build.
	BuildArgs, Labels map[string]string
	// Platform is the target platform.
	Platform string
	// Context is the digest of the build context's visible files (see Context).
	Context string
	// Bases maps each base image reference the Dockerfile names to its image ID.
	Bases map[string]string
	// Settings are the builder's own settings that shape the image (format, isolation…).
	Settings map[string]string
}

// Parts returns the digest of each kind of input, by name, so a change can be explained.
func (b Build) Parts() map[string]string {
	return map[string]string{
		"dockerfile": hashBytes(b.Dockerfile),
		"build_args": hashMap(b.BuildArgs),
		"labels":     hashMap(b.Labels),
		"platform":   hashBytes([]byte(b.Platform)),
		"context":    b.Context,
		"base":       hashMap(b.Bases),
		"settings":   hashMap(b.Settings),
	}
}

// Digest returns the digest over all of the build's inputs.
func (b Build) Digest() string {
	return "sha256:" + hashMap(b.Parts())
}

// Changed names the parts that differ between two Parts maps, in a stable order.
func Changed(before, after map[string]string) []string {
	var changed []string
	for _, name := range slices.Sorted(maps.Keys(after)) {
		if before[name] != after[name] {
			changed = append(changed, name)
		}
	}
	return changed
}

func hashBytes(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// hashMap hashes a map in key order; JSON keeps keys and values from running together.
func hashMap(m map[string]string) string {
	pairs := make([][2]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		pairs = append(pairs, [2]string{k, m[k]})
	}
	data, err := json.Marshal(pairs)
	if err != nil {
		panic(fmt.Sprintf("encoding strings cannot fail: %v", err))
	}
	return hashBytes(data)
}
