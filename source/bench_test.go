package source

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The benchmarks compare Fetch with the git command line on a repository shaped like the
// PostgreSQL source tree: 7,800 text files and about 130 MB, one commit, in a packed bare
// repository served over file://. Run them with:
//
//	go test -run '^$' -bench Fetch -benchtime 3x -timeout 0 ./source/
//
// peak-RSS-MB is, for Fetch, the high-water mark of this process's resident memory during
// the operation (reset before it through /proc/self/clear_refs); it leaves out the
// git-upload-pack process that go-git starts for file:// URLs. For git it is the maximum
// resident size that /usr/bin/time reports for the command: the largest of the git process
// and the processes it waited for (upload-pack, index-pack), not their sum; serving-RSS-MB
// is the same figure for the upload-pack side alone, which serves Fetch identically.

const (
	fixtureFiles = 7800
	fixtureBytes = 130 << 20
)

var (
	fixtureOnce sync.Once
	fixtureDir  string // holds engine.git, a bare repository
	fixtureErr  error
	fixtureInfo string // what was built, for the benchmark log
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		_ = os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// benchFixture returns the file:// URL of the fixture repository, building it on first use.
func benchFixture(b *testing.B) string {
	b.Helper()
	fixtureOnce.Do(func() {
		fixtureDir, fixtureErr = os.MkdirTemp("", "source-bench-")
		if fixtureErr == nil {
			fixtureErr = buildFixture(fixtureDir)
		}
	})
	if fixtureErr != nil {
		b.Fatalf("building the fixture repository: %v", fixtureErr)
	}
	b.Log(fixtureInfo)
	return "file://" + filepath.Join(fixtureDir, "engine.git")
}

// buildFixture writes the tree, commits it and packs it into a bare repository.
func buildFixture(dir string) error {
	tree := filepath.Join(dir, "tree")
	files, bytes, err := writeSourceTree(tree)
	if err != nil {
		return err
	}
	steps := [][]string{
		{"-C", tree, "init", "-q", "-b", "main"},
		{"-C", tree, "add", "-A"},
		{"-C", tree, "-c", "user.name=Bench", "-c", "user.email=bench@example.com",
			"commit", "-q", "-m", "engine source"},
		{"clone", "-q", "--bare", tree, filepath.Join(dir, "engine.git")},
		{"-C", filepath.Join(dir, "engine.git"), "repack", "-a", "-d", "-q"},
	}
	for _, args := range steps {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, out)
		}
	}
	packs, _ := filepath.Glob(filepath.Join(dir, "engine.git", "objects", "pack", "*.pack"))
	var packBytes int64
	for _, pack := range packs {
		if info, err := os.Stat(pack); err == nil {
			packBytes += info.Size()
		}
	}
	fixtureInfo = fmt.Sprintf("fixture: %d files, %.1f MB of text, %.1f MB packed",
		files, float64(bytes)/(1<<20), float64(packBytes)/(1<<20))
	return os.RemoveAll(tree)
}

// writeSourceTree writes fixtureFiles files of C-like text, about fixtureBytes in all, from
// a fixed seed, in a directory layout of PostgreSQL's depth. It returns the files and bytes
// written.
func writeSourceTree(root string) (files int, total int64, err error) {
	text := newTextSource(rand.New(rand.NewPCG(15, 14)))
	mean := fixtureBytes / fixtureFiles
	for i := range fixtureFiles {
		dir := filepath.Join(root, "src", fmt.Sprintf("module%02d", i%40),
			fmt.Sprintf("part%02d", i/40%8))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return 0, 0, err
		}
		// Sizes spread evenly from a tenth of the mean to 1.9 times it.
		size := mean/10 + text.rng.IntN(mean*9/5)
		path := filepath.Join(dir, fmt.Sprintf("file%04d.c", i))
		written, err := writeSourceFile(path, size, text)
		if err != nil {
			return 0, 0, err
		}
		total += int64(written)
	}
	configure := "AC_INIT([PostgreSQL], [15.14])\nPOLAR_MINORVERSION=\"4.0\"\n"
	err = os.WriteFile(filepath.Join(root, "configure.ac"), []byte(configure), 0o644)
	return fixtureFiles + 1, total + int64(len(configure)), err
}

// textSource makes lines of C-like text that compress about as well as real C source
// (about 4x with zlib): words follow a Zipf law and most lines repeat common idioms.
type textSource struct {
	rng   *rand.Rand
	words []string
	word  *rand.Zipf
	pool  []string // lines that recur across files
	idiom *rand.Zipf
}

func newTextSource(rng *rand.Rand) *textSource {
	words := strings.Fields("int char void static const return if else for while struct " +
		"typedef unsigned size_t bool true false NULL break case switch default elog " +
		"ERROR palloc pfree Datum Relation Buffer XLogRecPtr TransactionId")
	for len(words) < 1500 {
		var w strings.Builder
		for range 3 + rng.IntN(10) {
			w.WriteByte(byte('a' + rng.IntN(26)))
		}
		if rng.IntN(3) == 0 {
			w.WriteString("_" + strconv.Itoa(rng.IntN(100)))
		}
		words = append(words, w.String())
	}
	t := &textSource{rng: rng, words: words,
		word: rand.NewZipf(rng, 1.4, 4, uint64(len(words)-1))}
	t.pool = make([]string, 5000)
	for i := range t.pool {
		t.pool[i] = t.freshLine()
	}
	t.idiom = rand.NewZipf(rng, 1.1, 8, uint64(len(t.pool)-1))
	return t
}

// line returns a recurring idiom about two times in three, else a fresh line.
func (t *textSource) line() string {
	if t.rng.IntN(100) < 65 {
		return t.pool[t.idiom.Uint64()]
	}
	return t.freshLine()
}

func (t *textSource) freshLine() string {
	var line strings.Builder
	line.WriteString(strings.Repeat("\t", t.rng.IntN(4)))
	for range 2 + t.rng.IntN(8) {
		line.WriteString(t.words[t.word.Uint64()])
		line.WriteByte(" (),;=*"[t.rng.IntN(7)])
	}
	line.WriteByte('\n')
	return line.String()
}

// writeSourceFile writes about size bytes of text and returns how many it wrote.
func writeSourceFile(path string, size int, text *textSource) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriter(f)
	written := 0
	for written < size {
		n, _ := w.WriteString(text.line())
		written += n
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	return written, f.Close()
}

func BenchmarkFetch(b *testing.B) {
	repo := benchFixture(b)
	spec := Spec{Repo: repo, Ref: "main"}

	b.Run("cold/go-git", func(b *testing.B) {
		var peak int64
		for i := 0; i < b.N; i++ {
			root := b.TempDir()
			peak = max(peak, measureInProcess(b, func() error {
				_, err := (&Fetcher{Root: root}).Fetch(context.Background(), spec)
				return err
			}))
			b.StopTimer()
			_ = os.RemoveAll(root)
			b.StartTimer()
		}
		reportPeak(b, peak)
	})
	b.Run("cold/git", func(b *testing.B) {
		var peak, serving int64
		for i := 0; i < b.N; i++ {
			dest := filepath.Join(b.TempDir(), "engine")
			whole, server := measureGit(b, "clone", "%s", "-q", "--depth", "1",
				"--branch", "main", repo, dest)
			peak, serving = max(peak, whole), max(serving, server)
			b.StopTimer()
			_ = os.RemoveAll(dest)
			b.StartTimer()
		}
		reportPeak(b, peak)
		b.ReportMetric(float64(serving)/1024, "serving-RSS-MB")
	})
	b.Run("unchanged/go-git", func(b *testing.B) {
		f := &Fetcher{Root: b.TempDir()}
		if _, err := f.Fetch(context.Background(), spec); err != nil {
			b.Fatal(err)
		}
		var peak int64
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			peak = max(peak, measureInProcess(b, func() error {
				_, err := f.Fetch(context.Background(), spec)
				return err
			}))
		}
		reportPeak(b, peak)
	})
	b.Run("unchanged/git", func(b *testing.B) {
		warm := filepath.Join(b.TempDir(), "engine")
		measureGit(b, "clone", "%s", "-q", "--depth", "1", "--branch", "main", repo, warm)
		var peak, serving int64
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			whole, server := measureGit(b, "-C", warm, "fetch", "%s", "-q", "--depth", "1",
				"origin", "main")
			peak, serving = max(peak, whole), max(serving, server)
		}
		reportPeak(b, peak)
		b.ReportMetric(float64(serving)/1024, "serving-RSS-MB")
	})
}

// measureInProcess runs op with the timer on and returns this process's peak resident
// memory during it, in kB.
func measureInProcess(b *testing.B, op func() error) int64 {
	b.Helper()
	b.StopTimer()
	runtime.GC()
	debug.FreeOSMemory()
	// Writing 5 to clear_refs resets VmHWM to the current resident size.
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0o644); err != nil {
		b.Fatalf("resetting the peak memory mark: %v", err)
	}
	b.StartTimer()
	err := op()
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	peak := statusField(b, "VmHWM:")
	b.StartTimer()
	return peak
}

// measureGit runs git with the timer on and returns, in kB, the peak resident memory of the
// whole command and of its serving side (git-upload-pack and the pack-objects it starts),
// as /usr/bin/time reports them. The git arguments must leave a place for the
// --upload-pack option: "%s" stands for it.
//
// git runs under time rather than straight from this process because a child started by
// the Go runtime shares this process's memory until it executes, and Linux then counts
// this process's peak as the child's.
func measureGit(b *testing.B, args ...string) (peak, serving int64) {
	b.Helper()
	dir := b.TempDir()
	whole, server := filepath.Join(dir, "whole"), filepath.Join(dir, "server")
	uploadPack := "--upload-pack=/usr/bin/time -f %M -o " + server + " git-upload-pack"
	timeArgs := []string{"-f", "%M", "-o", whole, "git"}
	for _, arg := range args {
		if arg == "%s" {
			arg = uploadPack
		}
		timeArgs = append(timeArgs, arg)
	}
	out, err := exec.Command("/usr/bin/time", timeArgs...).CombinedOutput()
	if err != nil {
		b.Fatalf("git %s: %v: %s (the benchmark needs /usr/bin/time, Debian package time)",
			strings.Join(args, " "), err, out)
	}
	b.StopTimer()
	defer b.StartTimer()
	return readKB(b, whole), readKB(b, server)
}

// readKB reads the figure /usr/bin/time wrote.
func readKB(b *testing.B, path string) int64 {
	b.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	kb, err := strconv.ParseInt(strings.TrimSpace(string(text)), 10, 64)
	if err != nil {
		b.Fatalf("reading %s: %v", path, err)
	}
	return kb
}

// statusField reads a kB figure from /proc/self/status.
func statusField(b *testing.B, field string) int64 {
	b.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}

func reportPeak(b *testing.B, peakKB int64) {
	b.ReportMetric(float64(peakKB)/1024, "peak-RSS-MB")
}
