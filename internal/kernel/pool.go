package kernel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The worker pool.
//
// One set of persistent goroutines serves every Parallel call in the process.
// A call publishes a job (a chunk counter), drops wake-up tokens for up to
// threads-1 workers into a buffered channel and then works on the job itself.
// Every participant, the caller included, claims chunks with an atomic add
// until none are left, so a worker that wakes late simply finds nothing to do.
// The caller only ever waits for chunks that somebody has already claimed and
// is running; it never waits for a worker to become free. That is what makes
// nested calls (Parallel from inside a chunk) and concurrent callers safe:
// when every worker is busy the caller ends up running all chunks inline.
//
// Jobs are recycled through a free list and their life is reference counted
// (caller + one per token), so a worker holding a stale token never touches a
// job that was handed to another call. In steady state nothing allocates.

// runner is the unit of work the pool runs. Internal callers (Sgemm) pass a
// pointer to a pooled struct, which converts to an interface without
// allocating; Parallel wraps a plain func the same way. slot numbers the
// participants of one call densely from 0 (the caller is 0), so a runner can
// give each participant its own scratch while chunks are handed out
// dynamically.
type runner interface {
	run(lo, hi, slot int)
}

type funcRunner func(lo, hi int)

func (f funcRunner) run(lo, hi, _ int) { f(lo, hi) }

type job struct {
	r      runner
	n      int   // items
	chunks int32 // number of chunks
	next   atomic.Int32
	done   atomic.Int32
	refs   atomic.Int32
	slots  atomic.Int32  // participants so far (slot numbers handed out)
	finish chan struct{} // buffered(1): the helper that completes the last chunk signals the caller
}

// chunkRange returns the half-open item range of chunk i: chunks are as equal
// as possible and contiguous.
func (j *job) chunkRange(i int) (int, int) { return chunkBounds(i, j.n, int(j.chunks)) }

// chunkBounds is chunk i of n items cut into chunks contiguous pieces.
func chunkBounds(i, n, chunks int) (int, int) { return i * n / chunks, (i + 1) * n / chunks }

// work claims and runs chunks until none are left. It reports whether this
// participant completed the final chunk. A participant that arrives after
// every chunk was claimed takes no slot.
func (j *job) work() bool {
	last, _ := j.workCount()
	return last
}

// workCount is work that also reports how many chunks it ran.
func (j *job) workCount() (last bool, ran int) {
	slot := -1
	for {
		i := j.next.Add(1) - 1
		if i >= j.chunks {
			return last, ran
		}
		ran++
		if slot < 0 {
			slot = int(j.slots.Add(1) - 1)
		}
		lo, hi := j.chunkRange(int(i))
		j.r.run(lo, hi, slot)
		if j.done.Add(1) == j.chunks {
			last = true
		}
	}
}

func (j *job) release() {
	if j.refs.Add(-1) == 0 {
		j.r = nil
		freeJobs.put(j)
	}
}

var (
	tokens   = make(chan *job, 256) // wake-up tokens; a worker takes one and helps that job
	freeJobs = make(freeList[*job], 64)

	threadsSet atomic.Int32 // 0: follow GOMAXPROCS

	spawnMu sync.Mutex
	spawned int // worker goroutines started so far (they never exit)
)

// spinFor is how long an idle worker keeps polling for the next job before it
// parks, and spinWait how long a caller polls for its helpers to finish
// before it blocks. Waking a parked goroutine's thread costs tens of
// microseconds on a VM (BenchmarkParallelWake), which would eat most of a
// 128³ product; training steps issue parallel calls a few tens of
// microseconds apart, so a worker that polls across those gaps keeps the
// second core engaged. The poll is a PAUSE loop on one shared word (the
// token queue's length), yielding the processor only every spinRounds
// rounds: a runtime.Gosched per round takes the scheduler lock millions of
// times a second, but never yielding would starve goroutines waiting for
// this P (the GC's mark worker takes one of two Ps, and then the caller's
// own helper could not run while the caller polls).
const (
	spinFor  = 100 * time.Microsecond
	spinWait = 200 * time.Microsecond
)

// spinRounds is how many PAUSE rounds (a few microseconds) pass between
// clock reads and yields while polling.
const spinRounds = 64

// pollTokens polls the token queue for up to spinFor and returns a job, or
// nil when the time ran out.
func pollTokens() *job {
	var start time.Time
	for round := 0; ; round++ {
		if soloLeft.Load() > 0 {
			// Contention: callers run alone for a while, and a polling
			// helper would only take CPU time from them.
			return nil
		}
		if len(tokens) > 0 {
			select {
			case j := <-tokens:
				return j
			default: // another worker took it
			}
		}
		if round%spinRounds == 0 {
			if round == 0 {
				start = time.Now()
			} else if time.Since(start) > spinFor {
				return nil
			} else {
				runtime.Gosched()
			}
		}
		cpuRelax()
	}
}

func worker() {
	for {
		j := pollTokens()
		if j == nil {
			j = <-tokens
		}
		if j.work() {
			j.finish <- struct{}{}
		}
		j.release()
	}
}

// waitDone waits until every chunk of j is done: a PAUSE poll first (a
// helper usually finishes within microseconds of the caller), then the
// finish signal, which the participant completing the last chunk always
// sends and the caller must always consume.
func (j *job) waitDone() {
	var start time.Time
	for round := 0; j.done.Load() < j.chunks; round++ {
		if round%spinRounds == 0 {
			if round == 0 {
				start = time.Now()
			} else if time.Since(start) > spinWait {
				break
			} else {
				runtime.Gosched()
			}
		}
		cpuRelax()
	}
	<-j.finish
}

// Contention backoff. On a machine shared with other processes a helper
// can lose its core in the middle of a chunk it claimed; the caller then
// waits for the operating system to run it again (milliseconds), and two
// threads end up slower than one. A caller that waited for its helpers
// much longer than one of its own chunks took treats that as contention
// and runs the next parallel calls alone (16, doubling up to
// maxSolo, while the contention lasts), then tries helpers again; a call
// whose helpers kept pace resets the backoff.
const (
	minSolo = 16
	maxSolo = 256
	// lateSlack is how much later than the caller's own chunk a helper
	// may finish before it counts as held up (a wake-up, a stray
	// interrupt).
	lateSlack = 100 * time.Microsecond
)

var (
	soloLeft atomic.Int32 // parallel calls still to run alone
	soloNext atomic.Int32 // the length of the next backoff
)

// runSolo reports whether this parallel call runs on the caller alone
// because of recent contention.
func runSolo() bool {
	if soloLeft.Load() <= 0 {
		return false
	}
	return soloLeft.Add(-1) >= 0
}

// judgeWait records how long a caller waited for its helpers after its own
// last chunk, against the time one of its chunks took.
func judgeWait(waited, perChunk time.Duration) {
	if waited <= 2*perChunk+lateSlack {
		if soloNext.Load() != minSolo {
			soloNext.Store(minSolo)
		}
		return
	}
	next := max(soloNext.Load(), minSolo)
	soloLeft.Store(next)
	soloNext.Store(min(2*next, maxSolo))
}

// ensureWorkers starts goroutines so that at least n-1 workers exist.
func ensureWorkers(n int) {
	spawnMu.Lock()
	if spawned == 0 {
		// A worker that wakes late still holds its job for a while after
		// the call returned, so a few jobs are in flight at once; stock the
		// free list so that even then calls do not allocate.
		for len(freeJobs) < cap(freeJobs)/2 {
			freeJobs <- &job{finish: make(chan struct{}, 1)}
		}
	}
	for spawned < n-1 {
		spawned++
		go worker()
	}
	spawnedFast.Store(int32(spawned))
	spawnMu.Unlock()
}

var spawnedFast atomic.Int32 // lock-free read of spawned for the hot path

// Threads reports how many goroutines (the caller included) Parallel and
// Sgemm use: the value given to SetThreads, or GOMAXPROCS when that was <=0.
// It costs one atomic load (plus a GOMAXPROCS query when following it).
func Threads() int {
	if t := threadsSet.Load(); t > 0 {
		return int(t)
	}
	return runtime.GOMAXPROCS(0)
}

// SetThreads sets the number of threads Parallel and Sgemm use and returns the
// previous setting (0 meaning "follow GOMAXPROCS"). n<=0 means follow
// GOMAXPROCS. It is safe to call at any time; calls already running keep the
// count they started with. Workers are started on demand and never exit.
func SetThreads(n int) int {
	if n < 0 {
		n = 0
	}
	if n > 256 {
		n = 256
	}
	return int(threadsSet.Swap(int32(n)))
}

// Parallel splits [0,n) into contiguous chunks of at least grain items and
// runs fn on each, on the shared worker pool with the caller taking part,
// returning when all chunks are done. It runs fn inline as fn(0,n) when
// n<=grain or when only one thread is configured. There are up to
// chunksPerThread chunks per thread, handed out as threads come free: a
// helper that wakes late, or loses its core to another process in the
// middle of a chunk, then holds up a small share of the work instead of
// half of it. fn must therefore treat its items independently of where
// the chunk boundaries fall (callers that sum per chunk use ForParts).
//
// It never waits for a worker to become free: from inside a chunk (nested) or
// while other callers keep the workers busy, the caller runs the remaining
// chunks itself, so it cannot deadlock. In steady state it does not allocate
// (fn itself must not escape-allocate at the call site); the cost of a
// parallel call is a channel send per helper plus, when the helper had
// parked, a wake-up of tens of microseconds (BenchmarkParallelOverhead,
// BenchmarkParallelWake), so grain should make each chunk worth well more
// than that.
func Parallel(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	grain = max(grain, 1)
	threads := maxThreads()
	chunks := min(n/grain, chunksPerThread*threads)
	if chunks <= 1 || threads <= 1 {
		fn(0, n)
		return
	}
	parallel(n, chunks, threads, funcRunner(fn))
}

// ForParts cuts [0,n) into parts contiguous ranges fixed by n and parts
// alone, part p being [p*n/parts, (p+1)*n/parts), and runs fn on each on the
// pool. A caller that sums per part (a weight gradient over the rows of a
// batch) and adds the parts' sums in part order gets the same bits with any
// thread count and any scheduling, which Parallel's chunks, cut by the
// thread count, would not give.
func ForParts(n, parts int, fn func(part, lo, hi int)) {
	if n <= 0 || parts <= 0 {
		return
	}
	Parallel(parts, 1, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			fn(p, p*n/parts, (p+1)*n/parts)
		}
	})
}

// maxThreads is Threads capped by GOMAXPROCS: more threads than Ps would only
// queue behind each other (and a token no P can serve keeps its job alive).
func maxThreads() int {
	return min(Threads(), runtime.GOMAXPROCS(0))
}

// parallel runs r over [0,n) split into chunks contiguous chunks, handed out
// one at a time to the caller and up to helpers-1 woken workers (so at most
// helpers slots). More chunks than helpers balance the load when a helper
// wakes late or loses its core to another process: whoever is running takes
// the next chunk, and the caller never waits for a chunk nobody started.
func parallel(n, chunks, helpers int, r runner) {
	helpers = min(helpers, chunks)
	if chunks <= 1 || helpers <= 1 {
		// One participant: the chunking is invisible, run it in one go.
		r.run(0, n, 0)
		return
	}
	if runSolo() {
		// Alone, but chunk by chunk: callers may reduce per chunk (partial
		// sums per chunk, then added), and the float result must not
		// depend on whether helpers took part.
		for i := 0; i < chunks; i++ {
			lo, hi := chunkBounds(i, n, chunks)
			r.run(lo, hi, 0)
		}
		return
	}
	if int(spawnedFast.Load()) < helpers-1 {
		ensureWorkers(helpers)
	}
	j, ok := freeJobs.take()
	if !ok {
		j = &job{finish: make(chan struct{}, 1)}
	}
	j.r, j.n, j.chunks = r, n, int32(chunks)
	j.next.Store(0)
	j.done.Store(0)
	j.slots.Store(0)
	j.refs.Store(1)
	sent := 0
	for i := 1; i < helpers; i++ {
		j.refs.Add(1)
		select {
		case tokens <- j:
			sent++
		default:
			j.refs.Add(-1)
		}
	}
	start := time.Now()
	if last, ran := j.workCount(); !last {
		// Somebody else holds the last chunk and will signal when done.
		mine := time.Since(start)
		j.waitDone()
		judgeWait(time.Since(start)-mine, mine/time.Duration(max(ran, 1)))
	} else {
		judgeWait(0, 0)
	}
	// When the work was quicker than a wake-up, our tokens are still queued
	// and keep the job alive; take back up to as many tokens as we sent,
	// serving each as a worker would (ours are no-ops, another caller's is
	// help it wanted anyway), so tokens do not pile up and jobs recycle.
	for ; sent > 0 && j.refs.Load() > 1; sent-- {
		var o *job
		select {
		case o = <-tokens:
		default:
			sent = 1 // none queued: stop
			continue
		}
		if o.work() {
			o.finish <- struct{}{}
		}
		o.release()
	}
	j.release()
}
