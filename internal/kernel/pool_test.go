package kernel

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// checkCoverage runs Parallel and verifies every index is visited exactly once.
func checkCoverage(t *testing.T, n, grain int) {
	t.Helper()
	hits := make([]int32, n)
	Parallel(n, grain, func(lo, hi int) {
		if lo < 0 || hi > n || lo > hi {
			t.Errorf("bad chunk [%d,%d) for n=%d", lo, hi, n)
			return
		}
		if hi-lo < grain && !(lo == 0 && hi == n) {
			t.Errorf("chunk [%d,%d) smaller than grain %d", lo, hi, grain)
		}
		for i := lo; i < hi; i++ {
			atomic.AddInt32(&hits[i], 1)
		}
	})
	for i, h := range hits {
		if h != 1 {
			t.Fatalf("n=%d grain=%d: index %d visited %d times", n, grain, i, h)
		}
	}
}

func TestParallelCoverage(t *testing.T) {
	for _, th := range []int{1, 2, 3, 8} {
		old := SetThreads(th)
		if Threads() != th {
			t.Fatalf("Threads()=%d after SetThreads(%d)", Threads(), th)
		}
		for _, n := range []int{0, 1, 2, 3, 7, 100, 1001} {
			for _, g := range []int{0, 1, 2, 5, 64, 2000} {
				checkCoverage(t, n, g)
			}
		}
		SetThreads(old)
	}
}

func TestParallelInline(t *testing.T) {
	defer SetThreads(SetThreads(1))
	calls := 0
	Parallel(100, 1, func(lo, hi int) {
		calls++ // not atomic: must run inline on one thread
		if lo != 0 || hi != 100 {
			t.Errorf("single thread should get the whole range, got [%d,%d)", lo, hi)
		}
	})
	if calls != 1 {
		t.Fatalf("fn called %d times", calls)
	}
}

// TestParallelNested checks that Parallel called from inside a chunk (with
// all workers busy in the outer call) completes instead of deadlocking.
func TestParallelNested(t *testing.T) {
	defer SetThreads(SetThreads(4))
	var total atomic.Int64
	Parallel(8, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			Parallel(50, 1, func(lo, hi int) {
				Parallel(hi-lo, 1, func(a, b int) { total.Add(int64(b - a)) })
			})
		}
	})
	if total.Load() != 8*50 {
		t.Fatalf("nested total %d, want %d", total.Load(), 8*50)
	}
}

// TestParallelConcurrent runs Parallel and Sgemm from several goroutines at
// once; with -race it also checks the pool's synchronisation.
func TestParallelConcurrent(t *testing.T) {
	defer SetThreads(SetThreads(2))
	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := 0; it < 50; it++ {
				n := 1 + (g*31+it*17)%500
				hits := make([]int32, n)
				Parallel(n, 3, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						atomic.AddInt32(&hits[i], 1)
					}
				})
				for i, h := range hits {
					if h != 1 {
						t.Errorf("goroutine %d: index %d visited %d times", g, i, h)
						return
					}
				}
			}
		}()
	}
	// Concurrent Sgemms share the pool and the context free list.
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := 100 + 20*g
			a, b, c := make([]float32, s*s), make([]float32, s*s), make([]float32, s*s)
			for i := range a {
				a[i], b[i] = float32(i%7), 1
			}
			for it := 0; it < 10; it++ {
				Sgemm(false, false, s, s, s, 1, a, s, b, s, 0, c, s)
				for i := 0; i < s; i++ {
					var want float32
					for p := 0; p < s; p++ {
						want += float32((i*s + p) % 7)
					}
					if c[i*s] != want || c[i*s+s-1] != want {
						t.Errorf("concurrent Sgemm %d: row %d = %v, want %v", s, i, c[i*s], want)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// mallocsPerCall measures allocations at the current GOMAXPROCS (unlike
// testing.AllocsPerRun, which forces one P and so never wakes a worker).
func mallocsPerCall(runs int, f func()) float64 {
	// The count is process-wide, so a stray allocation by the runtime or a
	// late worker can land in a window; the best of five windows measures
	// what the call itself does, which must be nothing in steady state.
	f()
	best := math.Inf(1)
	for range 5 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := 0; i < runs; i++ {
			f()
		}
		runtime.ReadMemStats(&after)
		best = math.Min(best, float64(after.Mallocs-before.Mallocs)/float64(runs))
	}
	return best
}

func TestParallelNoAlloc(t *testing.T) {
	defer SetThreads(SetThreads(2))
	var sink atomic.Int64
	fn := func(lo, hi int) { sink.Add(int64(hi - lo)) }
	// A stray allocation elsewhere in the runtime is tolerated; one per call is not.
	if n := mallocsPerCall(500, func() { Parallel(1000, 10, fn) }); n > 0.05 {
		t.Fatalf("Parallel allocates %v times per call", n)
	}
	if n := testing.AllocsPerRun(100, func() { Parallel(1000, 10, fn) }); n != 0 {
		t.Fatalf("Parallel on one P allocates %v times per call", n)
	}
}

// BenchmarkParallelOverhead times an empty two-chunk parallel-for called back
// to back: the dispatch cost when the helper is already polling.
func BenchmarkParallelOverhead(b *testing.B) {
	defer SetThreads(SetThreads(2))
	var sink atomic.Int64
	fn := func(lo, hi int) { sink.Add(int64(hi - lo)) }
	b.ReportAllocs()
	for b.Loop() {
		Parallel(2, 1, fn)
	}
}

// BenchmarkParallelWake times an empty two-chunk parallel-for whose helper
// has parked (each call follows a pause longer than spinFor), and reports
// how late the helper starts its chunk after the call began (wake_us): the
// price of a parallel call after idle time, which is what a minimum grain
// must repay.
func BenchmarkParallelWake(b *testing.B) {
	defer SetThreads(SetThreads(2))
	var start time.Time
	var lateNs atomic.Int64
	var helped atomic.Int64
	fn := func(lo, hi int) {
		if lo > 0 {
			lateNs.Add(int64(time.Since(start)))
			helped.Add(1)
			return
		}
		// The caller's chunk lasts long enough for any wake-up to land.
		for time.Since(start) < 300*time.Microsecond {
			cpuRelax()
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		time.Sleep(2 * spinFor)
		b.StartTimer()
		start = time.Now()
		Parallel(2, 1, fn)
	}
	if h := helped.Load(); h > 0 {
		b.ReportMetric(float64(lateNs.Load())/float64(h)/1e3, "wake_us")
	}
	b.ReportMetric(float64(helped.Load())/float64(b.N), "helped/op")
}

// TestContentionBackoff checks the backoff rule: a caller that waited for
// its helpers far longer than its own chunk took runs the next calls alone,
// for a doubling number of calls while that repeats, and a call whose
// helpers kept pace resets it.
func TestContentionBackoff(t *testing.T) {
	soloLeft.Store(0)
	soloNext.Store(minSolo)
	defer func() { soloLeft.Store(0); soloNext.Store(minSolo) }()
	judgeWait(50*time.Microsecond, 100*time.Microsecond) // kept pace
	if runSolo() {
		t.Fatal("solo after a call whose helpers kept pace")
	}
	for _, want := range []int{minSolo, 2 * minSolo, 4 * minSolo} {
		judgeWait(5*time.Millisecond, 20*time.Microsecond) // held up
		n := 0
		for runSolo() {
			n++
		}
		if n != want {
			t.Fatalf("backoff ran %d calls alone, want %d", n, want)
		}
	}
	judgeWait(0, 0)
	judgeWait(5*time.Millisecond, 20*time.Microsecond)
	n := 0
	for runSolo() {
		n++
	}
	if n != minSolo {
		t.Fatalf("after a calm call the backoff is %d calls, want %d", n, minSolo)
	}
	// In backoff, Parallel still covers every index, on the caller, in the
	// same chunks as with helpers (callers may sum per chunk).
	defer SetThreads(SetThreads(2))
	judgeWait(5*time.Millisecond, 0)
	checkCoverage(t, 100, 1)
	var chunks [][2]int
	Parallel(100, 1, func(lo, hi int) { chunks = append(chunks, [2]int{lo, hi}) })
	if runtime.GOMAXPROCS(0) >= 2 {
		var want [][2]int
		for i := 0; i < 2*chunksPerThread; i++ {
			lo, hi := chunkBounds(i, 100, 2*chunksPerThread)
			want = append(want, [2]int{lo, hi})
		}
		if !slices.Equal(chunks, want) {
			t.Fatalf("solo Parallel ran chunks %v, want %v", chunks, want)
		}
	}
}

// TestForParts checks that ForParts runs every part once with the range
// its index fixes, whatever the thread count.
func TestForParts(t *testing.T) {
	for _, th := range []int{1, 2} {
		prev := SetThreads(th)
		for _, c := range []struct{ n, parts int }{{10, 3}, {7, 7}, {100, 16}, {5, 8}} {
			var mu sync.Mutex
			seen := make(map[int][2]int)
			ForParts(c.n, c.parts, func(p, lo, hi int) {
				mu.Lock()
				defer mu.Unlock()
				if _, dup := seen[p]; dup {
					t.Errorf("n=%d parts=%d: part %d ran twice", c.n, c.parts, p)
				}
				seen[p] = [2]int{lo, hi}
			})
			for p := 0; p < c.parts; p++ {
				want := [2]int{p * c.n / c.parts, (p + 1) * c.n / c.parts}
				if got, ok := seen[p]; !ok || got != want {
					t.Errorf("threads=%d n=%d parts=%d: part %d ran over %v (ran: %v), want %v", th, c.n, c.parts, p, got, ok, want)
				}
			}
		}
		SetThreads(prev)
	}
}
