package push_test

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/polardb/imagebuilder/internal/buildtest"
	"github.com/polardb/imagebuilder/push"
)

// refNameAnnotation is the OCI annotation that carries a tag in an image layout's index.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// testPushToOCI pushes into an OCI layout directory under two tags and into an OCI
// archive, then reads both back with go-containerregistry: each tag names the manifest
// Push reported, and the image has the fixture's label and file.
func testPushToOCI(t *testing.T, f *fixture) {
	tests := []struct {
		name  string
		dests func(dir string) []string
		// layoutDir returns the OCI layout that the destinations wrote into dir.
		layoutDir func(t *testing.T, dir string) string
	}{{
		name: "layout with two tags",
		dests: func(dir string) []string {
			return []string{"oci:" + dir + "/layout:15.1", "oci:" + dir + "/layout:latest"}
		},
		layoutDir: func(t *testing.T, dir string) string { return filepath.Join(dir, "layout") },
	}, {
		name: "archive",
		dests: func(dir string) []string {
			return []string{"oci-archive:" + dir + "/engine.tar:15.1"}
		},
		layoutDir: func(t *testing.T, dir string) string {
			return untar(t, filepath.Join(dir, "engine.tar"))
		},
	}}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			// A missing auth file matters to registries only.
			absent := filepath.Join(t.TempDir(), "absent.json")
			pusher, _ := f.pusher(t, push.Options{AuthFile: absent})
			dir := t.TempDir()
			var dests []push.Destination
			for _, dest := range test.dests(dir) {
				dests = append(dests, destination(t, dest))
			}

			results, err := pusher.PushAll(context.Background(), imageName, dests)
			if err != nil {
				t.Fatalf("PushAll: %v", err)
			}

			index, tagged := readLayout(t, test.layoutDir(t, dir))
			if len(tagged) != len(dests) {
				t.Errorf("the layout holds tags %v, want %d", tagged, len(dests))
			}
			for _, pushed := range results {
				tag := pushed.Destination[strings.LastIndex(pushed.Destination, ":")+1:]
				digest, found := tagged[tag]
				if !found || digest.String() != pushed.Digest {
					t.Errorf("tag %q names %v in the layout, Push reported %q",
						tag, digest, pushed.Digest)
					continue
				}
				image, err := index.Image(digest)
				if err != nil {
					t.Fatalf("reading the image tagged %q: %v", tag, err)
				}
				f.assertContent(t, image)
			}
		})
	}
}

// readLayout reads the OCI layout in dir and returns its index, and its tags with the
// manifests they name.
func readLayout(t *testing.T, dir string) (v1.ImageIndex, map[string]v1.Hash) {
	t.Helper()
	index, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatalf("reading the OCI layout %s: %v", dir, err)
	}
	manifest, err := index.IndexManifest()
	if err != nil {
		t.Fatalf("reading the index of %s: %v", dir, err)
	}
	tags := map[string]v1.Hash{}
	for _, descriptor := range manifest.Manifests {
		if tag := descriptor.Annotations[refNameAnnotation]; tag != "" {
			tags[tag] = descriptor.Digest
		}
	}
	return index, tags
}

// untar unpacks the regular files and directories of the tar file at path into a new
// directory and returns it.
func untar(t *testing.T, path string) string {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	dir := t.TempDir()
	entries := tar.NewReader(file)
	for {
		header, err := entries.Next()
		if errors.Is(err, io.EOF) {
			return dir
		}
		if err != nil {
			t.Fatalf("reading %s: %v", path, err)
		}
		if !filepath.IsLocal(header.Name) {
			t.Fatalf("%s holds %q, outside the archive", path, header.Name)
		}
		target := filepath.Join(dir, header.Name)
		switch header.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(target, 0o755)
		case tar.TypeReg:
			err = writeEntry(target, entries)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// writeEntry copies the current tar entry into a new file at path.
func writeEntry(path string, entry io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, entry); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// TestPushMissingImageWritesNothing pushes an image the store lacks into an archive: the
// push fails before anything, even the archive's directory, is created.
func TestPushMissingImageWritesNothing(t *testing.T) {
	pusher := push.New(buildtest.Builder(t), push.Options{BlobInfoCacheDir: t.TempDir()})
	dir := filepath.Join(t.TempDir(), "out")
	dest := destination(t, "oci-archive:"+dir+"/engine.tar:15.1")

	pushed, err := pusher.Push(context.Background(), "polardb_pg/absent:1", dest)

	if err == nil || !strings.Contains(err.Error(), "build it first") {
		t.Errorf("Push of a missing image returned %v, want the hint to build it", err)
	}
	if pushed.Attempts != 0 {
		t.Errorf("Push made %d attempts for a missing image, want 0", pushed.Attempts)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the failed push created %s (stat: %v)", dir, err)
	}
}
