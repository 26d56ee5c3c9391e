package build

import (
	"bytes"
	"io"
	"sync"
)

// prefixLock serialises the lines of all prefix writers, so that lines written through
// different prefix writers over one destination never mix.
var prefixLock sync.Mutex

// prefixWriter is the io.WriteCloser that PrefixWriter returns.
type prefixWriter struct {
	w       io.Writer
	prefix  []byte
	pending []byte // a line still waiting for its newline
	closed  bool
}

// PrefixWriter returns a writer that writes each line written to it to w, with prefix in
// front, one whole line per write to w. Close writes a last unfinished line, ended with a
// newline. It is safe for concurrent use, and so are several of them sharing w.
func PrefixWriter(w io.Writer, prefix string) io.WriteCloser {
	return &prefixWriter{w: w, prefix: []byte(prefix)}
}

// Write writes every line that p completes and keeps the rest for later.
func (p *prefixWriter) Write(data []byte) (int, error) {
	prefixLock.Lock()
	defer prefixLock.Unlock()
	if p.closed {
		return 0, io.ErrClosedPipe
	}
	p.pending = append(p.pending, data...)
	for {
		end := bytes.IndexByte(p.pending, '\n')
		if end < 0 {
			return len(data), nil
		}
		if err := p.writeLine(p.pending[:end+1]); err != nil {
			return 0, err
		}
		p.pending = p.pending[end+1:]
	}
}

// Close writes an unfinished last line, if any.
func (p *prefixWriter) Close() error {
	prefixLock.Lock()
	defer prefixLock.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	if len(p.pending) == 0 {
		return nil
	}
	line := append(p.pending, '\n')
	p.pending = nil
	return p.writeLine(line)
}

// writeLine writes prefix and line to w in one call.
func (p *prefixWriter) writeLine(line []byte) error {
	out := make([]byte, 0, len(p.prefix)+len(line))
	out = append(append(out, p.prefix...), line...)
	_, err := p.w.Write(out)
	return err
}
