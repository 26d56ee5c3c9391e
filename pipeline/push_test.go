package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/polardb/imagebuilder/internal/registrytest"
	"github.com/polardb/imagebuilder/push"
	"github.com/polardb/imagebuilder/result"
)

func TestPush(t *testing.T) {
	store, base := testStore(t)
	registry := registrytest.Start(t)
	engineDir, commit := engineRepo(t, "port = 5432\n")
	archive := filepath.Join(t.TempDir(), "engine.tar")
	yml := chainYAML(engineDir, base)
	yml = strings.Replace(yml, "    enable: false\n", fmt.Sprintf(`    enable: false
    push: true
    push_tags: ["{{.Major}}", "{{.Version}}.{{.ShortCommit}}"]
    push_to: [%s/polardb/engine, "oci-archive:%s"]
`, registry.Host, archive), 1)
	yml = strings.Replace(yml, "build_image_name: polardb_pg/manager",
		"build_image_name: "+registry.Host+"/polardb/manager\n    push: true", 1)
	projectDir := testProject(t, yml)
	options := push.Options{BlobInfoCacheDir: t.TempDir(), Attempts: 1}

	run, out := openRun(t, projectDir, store)
	if err := run.Push(context.Background(), options); err != nil {
		t.Fatalf("Push: %v\n%s", err, out)
	}
	managerName, _ := run.FullName("manager")
	run.Close()

	record, err := result.Read(filepath.Join(projectDir, "image.result"))
	if err != nil {
		t.Fatal(err)
	}
	pushed := map[string]string{}
	for _, image := range record.Images {
		for _, p := range image.Pushed {
			pushed[p.Destination] = p.Digest
		}
	}
	wantRefs := []string{
		registry.Host + "/polardb/engine:15",
		registry.Host + "/polardb/engine:15.14.4.0." + commit[:8],
		managerName,
	}
	for _, ref := range wantRefs {
		descriptor, err := remote.Get(mustRef(t, ref))
		if err != nil {
			t.Errorf("registry lacks %s: %v", ref, err)
			continue
		}
		if got := pushed["docker://"+ref]; got != descriptor.Digest.String() {
			t.Errorf("result records %s for %s; the registry holds %s\nresult: %v", got, ref,
				descriptor.Digest, pushed)
		}
	}
	if got := pushed["oci-archive:"+archive+":15"]; got == "" {
		t.Errorf("no oci-archive destination in the result: %v", pushed)
	}
	if info, err := os.Stat(archive); err != nil || info.Size() == 0 {
		t.Errorf("archive not written: %v", err)
	}

	uploads, manifests := registry.Uploads(), registry.Manifests()
	if uploads == 0 || manifests == 0 {
		t.Fatal("the first push uploaded no blob data or manifests")
	}
	again, out := openRun(t, projectDir, store)
	if err := again.Push(context.Background(), options); err != nil {
		t.Fatalf("second Push: %v\n%s", err, out)
	}
	if extra := registry.Uploads() - uploads; extra != 0 {
		t.Errorf("pushing unchanged images uploaded blob data %d times", extra)
	}
	if extra := registry.Manifests() - manifests; extra != 0 {
		t.Errorf("pushing unchanged images put %d manifests", extra)
	}
	if !strings.Contains(out.String(), "up to date manager at docker://"+managerName) {
		t.Errorf("output does not say the manager push was up to date:\n%s", out)
	}

	again.Close()

	// A tag moved by someone else is pushed again.
	overwrite := mustRef(t, managerName)
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(overwrite, img); err != nil {
		t.Fatal(err)
	}
	third, out := openRun(t, projectDir, store)
	if err := third.Push(context.Background(), options); err != nil {
		t.Fatalf("third Push: %v\n%s", err, out)
	}
	record, err = result.Read(filepath.Join(projectDir, "image.result"))
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]string{}
	for _, image := range record.Images {
		for _, p := range image.Pushed {
			actions[p.Destination] = p.Action
		}
	}
	if got := actions["docker://"+managerName]; got != "pushed" {
		t.Errorf("manager after its tag moved: %q, want pushed (%v)", got, actions)
	}
	if got := actions["docker://"+registry.Host+"/polardb/engine:15"]; got != ActionUpToDate {
		t.Errorf("unchanged engine tag: %q, want %q", got, ActionUpToDate)
	}
}

func mustRef(t *testing.T, ref string) name.Reference {
	t.Helper()
	parsed, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return parsed
}
