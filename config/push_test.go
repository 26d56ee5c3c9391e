package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestRenderTags(t *testing.T) {
	values := TagValues{Tag: "15.14.4.0.20250101.0123abcd.20250102030405", Major: "15",
		PGVersion: "15.14", Version: "15.14.4.0", ReleaseDate: "20250101",
		Commit: "0123abcdef", ShortCommit: "0123abcd"}
	tests := []struct {
		name      string
		templates []string
		want      []string
		err       string
	}{
		{name: "default is the image tag", want: []string{values.Tag}},
		{
			name: "polardb publishing shape",
			templates: []string{"{{.Major}}", "{{.Version}}", "{{.Version}}.{{.ShortCommit}}",
				"{{.Major}}"},
			want: []string{"15", "15.14.4.0", "15.14.4.0.0123abcd"},
		},
		{name: "unknown field", templates: []string{"{{.Branch}}"}, err: "use fields of"},
		{name: "invalid tag", templates: []string{"v {{.Major}}"}, err: "not a valid tag"},
		{name: "bad syntax", templates: []string{"{{.Major"}, err: "parsing tag template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderTags(tt.templates, values)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("RenderTags = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestPushValidation(t *testing.T) {
	yml := strings.Replace(seedConfig, "    push: true\n", `    push: true
    push_tags: ["{{.Major}}", "{{.Nope}}"]
    push_to:
      - registry.example.com:5000/polardb/engine
      - oci-archive:/tmp/engine.tar
      - docker://quay.io/polardb/engine
      - registry.example.com/polardb/engine:15
      - "Not A Repo"
      - "oci:"
`, 1)
	_, err := Load(project(t, yml), "")
	if err == nil {
		t.Fatal("Load accepted bad push settings")
	}
	wants := []string{
		`push_tags: expanding tag template "{{.Nope}}"`,
		`push_to: "registry.example.com/polardb/engine:15" carries a tag`,
		`push_to: "Not A Repo" is neither a repository nor a destination`,
		`push_to: "oci:" names no path`,
	}
	for _, want := range wants {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
	if n := strings.Count(err.Error(), ", push_"); n != len(wants) {
		t.Errorf("%d push problems reported, want %d:\n%v", n, len(wants), err)
	}
}
