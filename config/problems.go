package config

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with image.yml.
type Problem struct {
	// ID is the image the problem belongs to; empty for file-level problems.
	ID string
	// Field is the image.yml key at fault, if any.
	Field string
	// Line is the line in image.yml, when known.
	Line int
	// Msg says what is wrong and how to fix it.
	Msg string
}

func (p Problem) String() string {
	var where []string
	if p.Line > 0 {
		where = append(where, fmt.Sprintf("line %d", p.Line))
	}
	if p.ID != "" {
		where = append(where, fmt.Sprintf("image %q", p.ID))
	}
	if p.Field != "" {
		where = append(where, p.Field)
	}
	if len(where) == 0 {
		return p.Msg
	}
	return strings.Join(where, ", ") + ": " + p.Msg
}

// Problems is every problem found in image.yml; it is returned as one error so a user can
// fix them all in one go.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = "  " + p.String()
	}
	noun := "problems"
	if len(ps) == 1 {
		noun = "problem"
	}
	return fmt.Sprintf("%d %s:\n%s", len(ps), noun, strings.Join(lines, "\n"))
}
