package build

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Intervals for stopping a cancelled build.
const (
	killInterval = 50 * time.Millisecond // between sweeps for the build's processes
	drainTimeout = time.Second           // for output still held by stray processes
)

// outputStream is a pipe that carries one build's output to the caller's writer. RUN steps
// inherit its write end as their standard output and error, which singles out the
// processes of this build among all those the process has started.
type outputStream struct {
	reader, writer *os.File
	pipe           string // the pipe as /proc shows it, "pipe:[inode]"
	copied         chan struct{}
}

// newOutputStream starts copying a new pipe's contents to w, or discarding them if w is nil.
func newOutputStream(w io.Writer) (*outputStream, error) {
	reader, writer, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("creating an output pipe: %w", err)
	}
	inode, err := pipeInode(reader)
	if err != nil {
		reader.Close()
		writer.Close()
		return nil, fmt.Errorf("reading the output pipe's identity: %w", err)
	}
	if w == nil {
		w = io.Discard
	}
	s := &outputStream{
		reader: reader,
		writer: writer,
		pipe:   "pipe:[" + strconv.FormatUint(inode, 10) + "]",
		copied: make(chan struct{}),
	}
	go func() {
		defer close(s.copied)
		_, _ = io.Copy(w, reader)
	}()
	return s, nil
}

// pipeInode returns the inode of f without f.Fd, which would make f blocking and so
// keep Close from interrupting a Read in progress.
func pipeInode(f *os.File) (uint64, error) {
	conn, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var stat unix.Stat_t
	var statErr error
	if err := conn.Control(func(fd uintptr) { statErr = unix.Fstat(int(fd), &stat) }); err != nil {
		return 0, err
	}
	return stat.Ino, statErr
}

// stopUntil kills the build's processes, again and again as new steps start them, until
// the build returns its result on done.
func (s *outputStream) stopUntil(done <-chan buildResult) buildResult {
	ticker := time.NewTicker(killInterval)
	defer ticker.Stop()
	for {
		s.killHolders()
		select {
		case result := <-done:
			return result
		case <-ticker.C:
		}
	}
}

// killHolders sends SIGKILL to every other process that holds the pipe open.
func (s *outputStream) killHolders() {
	self := os.Getpid()
	processes, _ := filepath.Glob("/proc/[0-9]*")
	for _, process := range processes {
		pid, err := strconv.Atoi(filepath.Base(process))
		if err != nil || pid == self || !s.heldBy(process) {
			continue
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// heldBy reports whether the process at /proc path process has the pipe open.
func (s *outputStream) heldBy(process string) bool {
	descriptors, err := os.ReadDir(filepath.Join(process, "fd"))
	if err != nil {
		return false
	}
	for _, descriptor := range descriptors {
		target, err := os.Readlink(filepath.Join(process, "fd", descriptor.Name()))
		if err == nil && target == s.pipe {
			return true
		}
	}
	return false
}

// close ends the stream once the copy has caught up. Output of background processes a RUN
// step left behind is cut off after drainTimeout.
func (s *outputStream) close() {
	s.writer.Close()
	select {
	case <-s.copied:
	case <-time.After(drainTimeout):
	}
	s.reader.Close()
	<-s.copied
}
