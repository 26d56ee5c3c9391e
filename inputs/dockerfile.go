package inputs

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/openshift/imagebuilder/dockerfile/parser"
)

// Uses is what a Dockerfile takes from outside itself.
type Uses struct {
	// Bases are the image references it builds on (FROM and COPY --from), less stage names
	// and scratch, with build arguments substituted.
	Bases []string
	// Paths are the context paths COPY and ADD read, cleaned and relative to the context
	// root; they may hold glob patterns, and "." stands for the whole context.
	Paths []string
}

// ParseUses reads a Dockerfile and reports the base images and context paths its build uses,
// with build arguments substituted as the build will.
func ParseUses(dockerfile []byte, buildArgs map[string]string) (Uses, error) {
	result, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		return Uses{}, fmt.Errorf("parsing Dockerfile: %w", err)
	}
	s := scanner{buildArgs: buildArgs, global: map[string]string{}}
	for _, node := range result.AST.Children {
		s.instruction(node)
	}
	return s.uses, nil
}

type scanner struct {
	buildArgs map[string]string
	global    map[string]string
	scope     map[string]string // nil before the first FROM
	stages    []string
	uses      Uses
}

func (s *scanner) instruction(node *parser.Node) {
	args := values(node)
	switch node.Value {
	case "arg":
		s.arg(args)
	case "from":
		s.from(args)
	case "copy", "add":
		s.copy(node, args)
	}
}

func values(node *parser.Node) []string {
	var out []string
	for n := node.Next; n != nil; n = n.Next {
		out = append(out, n.Value)
	}
	return out
}

func (s *scanner) arg(args []string) {
	for _, arg := range args {
		name, value, hasDefault := strings.Cut(arg, "=")
		if v, ok := s.buildArgs[name]; ok {
			value, hasDefault = v, true
		} else if s.scope != nil && !hasDefault {
			value, hasDefault = s.global[name]
		}
		value = unquote(value)
		target := s.global
		if s.scope != nil {
			target = s.scope
		}
		if hasDefault {
			target[name] = expand(value, target)
		} else {
			target[name] = ""
		}
	}
}

func (s *scanner) from(args []string) {
	s.scope = map[string]string{}
	if len(args) == 0 {
		return
	}
	image := expand(args[0], s.global)
	if len(args) >= 3 && strings.EqualFold(args[1], "as") {
		s.stages = append(s.stages, strings.ToLower(args[2]))
	} else {
		s.stages = append(s.stages, "")
	}
	s.base(image)
}

func (s *scanner) base(image string) {
	if image == "" || strings.EqualFold(image, "scratch") ||
		slices.Contains(s.stages[:len(s.stages)-1], strings.ToLower(image)) {
		return
	}
	if _, err := strconv.Atoi(image); err == nil {
		return
	}
	if !slices.Contains(s.uses.Bases, image) {
		s.uses.Bases = append(s.uses.Bases, image)
	}
}

func (s *scanner) copy(node *parser.Node, args []string) {
	for _, flag := range node.Flags {
		if from, ok := strings.CutPrefix(flag, "--from="); ok {
			s.stages = append(s.stages, "")
			s.base(expand(from, s.scope))
			s.stages = s.stages[:len(s.stages)-1]
			return
		}
	}
	if len(args) < 2 {
		return
	}
	for _, src := range args[:len(args)-1] {
		if strings.HasPrefix(src, "<<") || strings.Contains(src, "://") {
			continue
		}
		p := path.Clean("/" + expand(src, s.scope))
		p = strings.TrimPrefix(p, "/")
		if p == "" {
			p = "."
		}
		if !slices.Contains(s.uses.Paths, p) {
			s.uses.Paths = append(s.uses.Paths, p)
		}
	}
}

// variable matches ${NAME}, ${NAME:-word}, ${NAME:+word} (groups 1 to 3) and $NAME (group 4).
var variable = regexp.MustCompile(
	`\$(?:\{` + identifier + `(?::?([-+])([^}]*))?\}|` + identifier + `)`)

const identifier = `([A-Za-z_][A-Za-z0-9_]*)`

// expand substitutes $NAME, ${NAME}, ${NAME:-default} and ${NAME:+alternative}.
func expand(word string, vars map[string]string) string {
	return variable.ReplaceAllStringFunc(word, func(match string) string {
		m := variable.FindStringSubmatch(match)
		name := m[1] + m[4]
		value, set := vars[name]
		switch m[2] {
		case "-":
			if value == "" {
				return m[3]
			}
		case "+":
			if set && value != "" {
				return m[3]
			}
			return ""
		}
		return value
	})
}

func unquote(value string) string {
	if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
		return value[1 : len(value)-1]
	}
	return value
}
