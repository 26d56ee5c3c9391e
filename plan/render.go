package plan

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Names supplies what the plan shows once sources are known: an image's full name with its
// tag, and a note about its source (commit, version). Either may be empty.
type Names func(u *Unit) (fullName, note string)

// Write prints the plan for a user: the builds in order, then the images left out.
func (p *Plan) Write(w io.Writer, names Names) error {
	var b strings.Builder
	fmt.Fprintf(&b, "plan for %s: %d image(s), %d engine source(s)\n",
		p.Config.Path, len(p.Units), len(p.Sources()))
	idWidth := 0
	for _, u := range p.Units {
		idWidth = max(idWidth, len(u.ID()))
	}
	for i, u := range p.Units {
		fullName, note := names(u)
		if fullName == "" {
			fullName = u.Image.Name + " (tag derived after fetch)"
		}
		fmt.Fprintf(&b, "%2d. %-*s  %-7s  %s  [%s]\n", i+1, idWidth, u.ID(), u.Image.Type,
			fullName, u.Reason)
		for _, detail := range p.details(u, note) {
			fmt.Fprintf(&b, "    %*s  %s\n", idWidth, "", detail)
		}
	}
	for _, s := range p.Skipped {
		fmt.Fprintf(&b, "skipped %s (%s)\n", s.ID, s.Reason)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing plan: %w", err)
	}
	return nil
}

func (p *Plan) details(u *Unit, note string) []string {
	dockerfile, err := filepath.Rel(p.Config.Dir, u.Dockerfile)
	if err != nil {
		dockerfile = u.Dockerfile
	}
	details := []string{"dockerfile " + dockerfile}
	if u.IsEngine() {
		details = append(details, fmt.Sprintf("source %s at %s, template %s",
			Redact(u.Source.Repo), u.Source.Ref, u.Image.EngineConfigTemplate))
	} else {
		details = append(details, "FROM engine "+u.Engine)
	}
	if note != "" {
		details = append(details, note)
	}
	if u.Image.Push {
		details = append(details, "push after build")
	}
	return details
}

// Redact removes any password or token from a repository URL's user information.
func Redact(repo string) string {
	scheme, rest, ok := strings.Cut(repo, "://")
	if !ok {
		return repo
	}
	host, path, _ := strings.Cut(rest, "/")
	if at := strings.LastIndex(host, "@"); at >= 0 {
		host = "***@" + host[at+1:]
	}
	if path == "" && !strings.HasSuffix(rest, "/") {
		return scheme + "://" + host
	}
	return scheme + "://" + host + "/" + path
}
