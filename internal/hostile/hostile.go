// Package hostile runs tables of hostile inputs (truncated, overflowing,
// mismatched, bombs, special files, path escapes) against a reader and
// checks what issue 16 asks of every one: no panic, an error naming the
// culprit, memory bounded by a stated figure, and nothing written outside
// the folder the case was given. It is a test helper, imported only by
// _test files.
package hostile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Case is one hostile input. Make builds it inside dir (a fresh folder
// holding only what Make writes); Run reads it and returns the error the
// reader gave. The error must contain every string of Culprit (a file
// name, a field, a line).
type Case struct {
	Name    string
	Make    func(t testing.TB, dir string)
	Run     func(dir string) error
	Culprit []string
	// Out, when set, is a folder under dir that Run may write into; the
	// rest of the sandbox (and dir's parent) must be left as it was. Check
	// makes it before Make runs, so that Make finds it (to plant a link
	// in it) and its appearance is not a change to dir.
	Out string
	// Succeeds marks a case whose input is hostile to the writer's
	// surroundings (a symlink planted where the output goes), not to the
	// reader: Run must return nil, and still touch nothing outside Out.
	Succeeds bool
}

// Result is what a table of cases cost.
type Result struct {
	Cases     int
	WorstCase string
	// WorstPeak is the largest live heap seen while a case ran (sampled
	// every millisecond) above the heap before it.
	WorstPeak uint64
	// WorstAlloc is the most bytes a case allocated in all, garbage
	// included (a measure of work, not of memory held).
	WorstAlloc uint64
}

// Check runs every case and fails t for a panic, a missing error, an error
// that does not name the culprit, a case whose peak heap (live and not yet
// swept objects, sampled every millisecond) rose more than maxPeak bytes
// above the heap before it, or a change outside the case's output folder. Cases run
// one after another, each in its own sandbox/<n>/in folder with a sibling
// "outside" folder holding a canary file.
func Check(t *testing.T, cases []Case, maxPeak uint64) Result {
	t.Helper()
	var res Result
	root := t.TempDir()
	// A memory limit makes the GC collect garbage before the heap grows
	// past the bound, so the peak measures what a case keeps, not how
	// lazily the GC ran; the peak bound below is what fails the test.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(int64(maxPeak) + 256<<20))
	for i, c := range cases {
		sandbox := filepath.Join(root, fmt.Sprint(i))
		dir := filepath.Join(sandbox, "in")
		outside := filepath.Join(sandbox, "outside")
		dirs := []string{dir, outside}
		if c.Out != "" {
			dirs = append(dirs, filepath.Join(dir, c.Out))
		}
		for _, d := range dirs {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(outside, "canary"), []byte("keep me"), 0o644); err != nil {
			t.Fatal(err)
		}
		c.Make(t, dir)
		before := snapshot(t, sandbox, c.Out, dir)
		start := time.Now()
		peak, alloc, panicked, err := measure(func() error { return c.Run(dir) })
		if d := time.Since(start); d > time.Second {
			t.Logf("%s: slow, %v", c.Name, d.Round(time.Millisecond))
		}
		res.Cases++
		if peak > res.WorstPeak {
			res.WorstPeak, res.WorstCase = peak, c.Name
		}
		res.WorstAlloc = max(res.WorstAlloc, alloc)
		switch {
		case panicked != nil:
			t.Errorf("%s: panic: %v", c.Name, panicked)
		case c.Succeeds:
			if err != nil {
				t.Errorf("%s: %v", c.Name, err)
			}
		case err == nil:
			t.Errorf("%s: no error", c.Name)
		default:
			for _, want := range c.Culprit {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%s: error %q does not name %q", c.Name, err, want)
				}
			}
			if n := len(err.Error()); n > 2000 {
				t.Errorf("%s: a %d-byte error message (quote excerpts, not whole inputs)", c.Name, n)
			}
		}
		if peak > maxPeak {
			t.Errorf("%s: peak heap %d MiB, over the %d MiB bound", c.Name, peak>>20, maxPeak>>20)
		}
		if after := snapshot(t, sandbox, c.Out, dir); !slices.Equal(before, after) {
			t.Errorf("%s: files outside its output folder changed:\nbefore %v\nafter  %v", c.Name, before, after)
		}
		os.RemoveAll(sandbox)
	}
	t.Logf("%d hostile cases; worst live heap %.0f KiB (%s); most allocated by one case %.0f KiB",
		res.Cases, float64(res.WorstPeak)/(1<<10), res.WorstCase, float64(res.WorstAlloc)/(1<<10))
	return res
}

// measure runs fn, recovering a panic, and returns its error, the peak
// live heap above the starting one (sampled every millisecond and at the
// end) and the bytes it allocated in all.
func measure(fn func() error) (peak, alloc uint64, panicked any, err error) {
	runtime.GC()
	// ReadMemStats flushes the per-P caches, so small allocations count;
	// the sampler below uses runtime/metrics, which is cheap enough to
	// read every millisecond and sees large allocations at once.
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, allocs0 := ms.HeapAlloc, ms.TotalAlloc
	var top atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > base && v-base > top.Load() {
				top.Store(v - base)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	func() {
		defer func() { panicked = recover() }()
		err = fn()
	}()
	close(stop)
	wg.Wait()
	runtime.ReadMemStats(&ms)
	if v := ms.HeapAlloc; v > base && v-base > top.Load() {
		top.Store(v - base)
	}
	return top.Load(), ms.TotalAlloc - allocs0, panicked, err
}

// snapshot lists every path under sandbox outside out (relative to dir)
// and under sandbox's parent's direct entries, with size and mode, so a
// write, a new file or a removal shows as a difference.
func snapshot(t testing.TB, sandbox, out, dir string) []string {
	var list []string
	skip := ""
	if out != "" {
		skip = filepath.Join(dir, out)
	}
	filepath.WalkDir(sandbox, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if skip != "" && (p == skip || strings.HasPrefix(p, skip+string(filepath.Separator))) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		size := info.Size()
		if !info.Mode().IsRegular() {
			size = 0
		}
		list = append(list, fmt.Sprintf("%s %v %d %d", p, info.Mode(), size, info.ModTime().UnixNano()))
		return nil
	})
	ents, _ := os.ReadDir(filepath.Dir(sandbox))
	for _, e := range ents {
		list = append(list, "../"+e.Name())
	}
	return list
}
