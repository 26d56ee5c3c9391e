package config

import (
	"fmt"
	"regexp"
	"strings"
	"text/template"

	"github.com/distribution/reference"
)

// TagValues are the values push_tags templates may use, derived from the engine source and
// the image's own tag.
type TagValues struct {
	// Tag is the image's tag: the one in build_image_name or the derived one.
	Tag string
	// Major is the PostgreSQL major version, e.g. 15.
	Major string
	// PGVersion is the PostgreSQL version, e.g. 15.14.
	PGVersion string
	// Version is the full PolarDB version, e.g. 15.14.4.0.
	Version string
	// ReleaseDate is the PolarDB release date (YYYYMMDD), or the commit date.
	ReleaseDate string
	// Commit is the engine commit id and ShortCommit its first 8 characters.
	Commit, ShortCommit string
}

// transports are the destinations that name a place rather than a registry repository.
var transports = []string{"docker://", "oci:", "oci-archive:", "docker-archive:", "dir:"}

// tagFields lists the TagValues fields for error messages.
const tagFields = "{{.Tag}}, {{.Major}}, {{.PGVersion}}, {{.Version}}, {{.ReleaseDate}}, " +
	"{{.Commit}}, {{.ShortCommit}}"

var validTag = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// RenderTags expands the push_tags templates with v. Without push_tags it returns v.Tag.
func RenderTags(templates []string, v TagValues) ([]string, error) {
	if len(templates) == 0 {
		return []string{v.Tag}, nil
	}
	var tags []string
	for _, text := range templates {
		tag, err := renderTag(text, v)
		if err != nil {
			return nil, err
		}
		if !contains(tags, tag) {
			tags = append(tags, tag)
		}
	}
	return tags, nil
}

func renderTag(text string, v TagValues) (string, error) {
	tmpl, err := template.New("tag").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("parsing tag template %q: %w", text, err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, v); err != nil {
		return "", fmt.Errorf("expanding tag template %q: %w; use fields of %s", text, err,
			tagFields)
	}
	if !validTag.MatchString(b.String()) {
		return "", fmt.Errorf("tag template %q gives %q, which is not a valid tag", text,
			b.String())
	}
	return b.String(), nil
}

// IsTransport reports whether a push_to entry names a containers-image transport rather than
// a registry repository.
func IsTransport(dest string) bool {
	for _, prefix := range transports {
		if strings.HasPrefix(dest, prefix) {
			return true
		}
	}
	return false
}

func (v *validator) checkPush(image Image) {
	sample := TagValues{Tag: "1", Major: "15", PGVersion: "15.1", Version: "15.1.1.0",
		ReleaseDate: "20250101", Commit: strings.Repeat("0", 40), ShortCommit: "00000000"}
	for _, text := range image.PushTags {
		if _, err := renderTag(text, sample); err != nil {
			v.add(image, "push_tags", "%v", err)
		}
	}
	for _, dest := range image.PushTo {
		if IsTransport(dest) {
			if strings.TrimPrefix(dest, dest[:strings.Index(dest, ":")+1]) == "" {
				v.add(image, "push_to", "%q names no path or repository", dest)
			}
			continue
		}
		named, err := reference.ParseNormalizedNamed(dest)
		if err != nil {
			v.add(image, "push_to", "%q is neither a repository nor a destination starting "+
				"with one of %s: %v", dest, strings.Join(transports, ", "), err)
			continue
		}
		if !reference.IsNameOnly(named) {
			v.add(image, "push_to", "%q carries a tag or digest; give the repository alone "+
				"and list tags in push_tags", dest)
		}
	}
}
