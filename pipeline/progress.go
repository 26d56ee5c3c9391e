package pipeline

import (
	"fmt"
	"io"
	"sync"
)

// progress writes the user-facing lines, one at a time, from concurrent stages.
type progress struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *progress) printf(format string, args ...any) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}
