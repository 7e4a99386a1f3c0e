package optim

import "github.com/shenml/shen/internal/kernel"

// parallelMin is the parameter size from which an update is split across
// the worker pool. Below it the pool's hand-off costs more than the loop;
// the updates are memory bound, so more threads help only while memory
// bandwidth is left (see BenchmarkAdamStep).
const parallelMin = 1 << 16

// grain is the smallest chunk a worker takes: large enough that the
// per-chunk overhead is noise, small enough to balance a few cores.
const grain = 1 << 14

// forRange runs fn over [0, n), in parallel when n is large. fn must be
// created once (a stored method value) so that calling this allocates
// nothing.
func forRange(n int, fn func(lo, hi int)) {
	if n < parallelMin {
		fn(0, n)
		return
	}
	kernel.Parallel(n, grain, fn)
}
