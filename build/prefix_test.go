package build_test

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/polardb/imagebuilder/build"
)

// TestPrefixWriter checks how writes of every shape come out.
func TestPrefixWriter(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"one line", []string{"a\n"}, "[x] a\n"},
		{"two lines in one write", []string{"a\nb\n"}, "[x] a\n[x] b\n"},
		{"line split over writes", []string{"he", "llo\nwor", "ld\n"}, "[x] hello\n[x] world\n"},
		{"unfinished line ended by Close", []string{"a\nb"}, "[x] a\n[x] b\n"},
		{"empty line", []string{"\n"}, "[x] \n"},
		{"nothing", nil, ""},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			var out bytes.Buffer
			w := build.PrefixWriter(&out, "[x] ")
			for _, chunk := range test.writes {
				n, err := w.Write([]byte(chunk))
				if err != nil || n != len(chunk) {
					t.Fatalf("Write(%q) = %d, %v", chunk, n, err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if out.String() != test.want {
				t.Errorf("got %q, want %q", out.String(), test.want)
			}
			if _, err := w.Write([]byte("late\n")); err == nil {
				t.Error("Write after Close succeeded")
			}
		})
	}
}

// TestPrefixWriterConcurrent writes through two writers sharing one destination, as builds
// of two images do: one writer gets lines split across writes from one goroutine, the other
// whole lines from four goroutines at once. Every line arrives whole, with its prefix.
func TestPrefixWriterConcurrent(t *testing.T) {
	var out bytes.Buffer // not safe for concurrent use by itself
	writers := []struct {
		prefix     string
		goroutines int
		split      bool
	}{{"one", 1, true}, {"two", 4, false}}
	const lines = 300
	var wg sync.WaitGroup
	want := map[string]int{}
	for _, writer := range writers {
		w := build.PrefixWriter(&out, writer.prefix+" ")
		for g := range writer.goroutines {
			wg.Go(func() { writeLines(w, g, lines, writer.split) })
		}
		defer w.Close()
		want[writer.prefix] = writer.goroutines * lines
	}
	wg.Wait()

	got := map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		var prefix string
		var g, i int
		if _, err := fmt.Sscanf(line, "%s goroutine %d line %d", &prefix, &g, &i); err != nil {
			t.Fatalf("mangled line %q: %v", line, err)
		}
		got[prefix]++
	}
	for prefix, count := range want {
		if got[prefix] != count {
			t.Errorf("%d lines with prefix %q, want %d", got[prefix], prefix, count)
		}
	}
}

// writeLines writes count numbered lines to w, each in two pieces if split.
func writeLines(w io.Writer, id, count int, split bool) {
	for i := range count {
		line := fmt.Sprintf("goroutine %d line %d\n", id, i)
		if !split {
			_, _ = w.Write([]byte(line))
			continue
		}
		_, _ = w.Write([]byte(line[:5]))
		_, _ = w.Write([]byte(line[5:]))
	}
}
