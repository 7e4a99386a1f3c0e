package serve

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shenml/shen/predict"
)

// ErrQueueFull is the answer when a model's queue holds max_queue_size
// requests already: HTTP 429, gRPC RESOURCE_EXHAUSTED, at once.
var ErrQueueFull = errors.New("the model's request queue is full; retry later")

// errStopped answers requests still queued when a version is retired
// without draining (never in a swap, which drains first).
var errStopped = errors.New("the model version was unloaded")

// batchPolicy is how a version's batcher merges requests.
type batchPolicy struct {
	merge     bool          // dynamic batching on
	maxRows   int           // rows per Forward when merging
	delay     time.Duration // how long the first request waits for company
	preferred []int         // row counts that run at once (ascending)
	queue     int           // waiting requests before ErrQueueFull
	instances int           // workers, each one Forward at a time
}

// forwarder is the one call a batcher makes on a model.
type forwarder interface {
	Forward(x []float32, n int, out []float32) error
	InputSize() int
	Outputs() int
}

// job states: a job is claimed by exactly one of a worker (taken, just
// before its batch's Forward) and its client's cancellation (cancelled),
// so a job withdrawn while it waits, in the queue or in a gathering batch,
// never fills a slot of a Forward, and a taken job's buffers stay valid
// until the worker is done.
const (
	jobWaiting int32 = iota
	jobTaken
	jobCancelled
)

// job is one request's rows on their way through a batcher. Jobs are pooled:
// the x and out buffers keep their capacity from request to request.
type job struct {
	x, out   []float32
	n        int
	state    atomic.Int32
	done     chan error // buffered 1
	enqueued time.Time
	queued   time.Duration // time spent waiting, set by the worker
	compute  time.Duration // Forward time of the batch it ran in
	batch    int           // rows in that batch
	// abandoned is set when the job was withdrawn while still queued: the
	// queue still holds it, so it must not go back to the pool.
	abandoned bool
	// res is the answer built from out when a response needs one; reused
	// with the job, so answering allocates nothing in steady state.
	res predict.Result
}

var jobPool = sync.Pool{New: func() any { return &job{done: make(chan error, 1)} }}

// getJob returns a pooled job with x sized for n rows of width in and out
// sized for n rows of width outs.
func getJob(n, in, outs int) *job {
	j := jobPool.Get().(*job)
	j.n = n
	j.x = grow(j.x, n*in)
	j.out = grow(j.out, n*outs)
	j.state.Store(jobWaiting)
	j.abandoned = false
	return j
}

// putJob returns j to the pool unless it was abandoned in the queue; the
// caller must not touch j afterwards.
func putJob(j *job) {
	if !j.abandoned {
		jobPool.Put(j)
	}
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// batcher is one model version's queue and its instance workers.
type batcher struct {
	model  forwarder
	policy batchPolicy
	queue  chan *job
	stop   chan struct{}
	wg     sync.WaitGroup
	depth  prometheus.Gauge // jobs in the queue

	// holders counts the requests holding the model version (nil: not
	// known), inside the jobs between enqueue and answer. When every
	// holder is inside, no request is on its way (being decoded), so a
	// gathering batch runs at once instead of waiting out the delay for
	// company that cannot come: the delay costs nothing at low load.
	holders *atomic.Int64
	inside  atomic.Int64

	executions atomic.Int64 // Forward calls, for the statistics extension
}

// expecting reports whether requests holding the version have yet to
// reach the queue.
func (b *batcher) expecting() bool {
	return b.holders == nil || b.holders.Load() > b.inside.Load()
}

// newBatcher starts policy.instances workers on m; depth follows the
// queue's length; holders (nil: unknown) counts the requests holding the
// model version.
func newBatcher(m forwarder, p batchPolicy, depth prometheus.Gauge, holders *atomic.Int64) *batcher {
	b := &batcher{model: m, policy: p, queue: make(chan *job, p.queue), stop: make(chan struct{}), depth: depth, holders: holders}
	for range p.instances {
		b.wg.Add(1)
		go b.work()
	}
	return b
}

// close stops the workers after the queue is empty of live jobs; jobs still
// queued (none after a drain) are answered with errStopped.
func (b *batcher) close() {
	close(b.stop)
	b.wg.Wait()
	for {
		select {
		case j := <-b.queue:
			b.depth.Dec()
			b.inside.Add(-1)
			if j.state.CompareAndSwap(jobWaiting, jobTaken) {
				j.done <- errStopped
			}
		default:
			return
		}
	}
}

// run queues j and waits for its rows' outputs, for ctx's end, or for the
// queue to refuse it. On ctx's end a job whose Forward has not started is
// withdrawn at once; a job in a running Forward is waited for, since the
// batch is writing into its buffers (one Forward, bounded).
func (b *batcher) run(ctx context.Context, j *job) error {
	j.enqueued = time.Now()
	b.inside.Add(1)
	select {
	case b.queue <- j:
		b.depth.Inc()
	default:
		b.inside.Add(-1)
		return ErrQueueFull
	}
	select {
	case err := <-j.done:
		return err
	case <-ctx.Done():
		if j.state.CompareAndSwap(jobWaiting, jobCancelled) {
			// The worker that dequeues it will drop it; its buffers go to
			// the garbage collector with it.
			j.abandoned = true
			return ctx.Err()
		}
		return <-j.done
	}
}

// worker holds one instance's batch buffers.
type worker struct {
	x, out []float32
	jobs   []*job
	timer  *time.Timer
}

// work is one instance: take a job, gather more while the policy allows,
// run them as one Forward, hand each its rows.
func (b *batcher) work() {
	defer b.wg.Done()
	w := &worker{timer: time.NewTimer(time.Hour)}
	w.timer.Stop()
	for {
		var first *job
		select {
		case first = <-b.queue:
		case <-b.stop:
			return
		}
		b.depth.Dec()
		if first.state.Load() != jobWaiting {
			b.inside.Add(-1)
			continue
		}
		w.jobs = append(w.jobs[:0], first)
		if b.policy.merge && first.n < b.policy.maxRows {
			b.gather(w, first)
		}
		b.execute(w)
	}
}

// gather adds waiting jobs to w.jobs until the rows reach maxRows or a
// preferred size, or the first job has waited policy.delay, or no other
// request is on its way (see batcher.holders). A job that would overflow
// maxRows goes first in the next batch instead.
func (b *batcher) gather(w *worker, first *job) {
	rows := first.n
	wait := b.policy.delay - time.Since(first.enqueued)
	timed := wait > 0
	if timed {
		w.timer.Reset(wait)
	}
	defer func() {
		if timed && !w.timer.Stop() {
			select {
			case <-w.timer.C:
			default:
			}
		}
	}()
	for rows < b.policy.maxRows && !b.preferred(rows) {
		var j *job
		if timed && !b.expecting() && len(b.queue) == 0 {
			return // nobody else is on the way: run now
		}
		if timed {
			select {
			case j = <-b.queue:
			case <-w.timer.C:
				timed = false
				return
			case <-b.stop:
				return
			}
		} else {
			select {
			case j = <-b.queue:
			default:
				return
			}
		}
		b.depth.Dec()
		if j.state.Load() != jobWaiting {
			b.inside.Add(-1)
			continue // cancelled while queued: it takes no slot
		}
		if rows+j.n > b.policy.maxRows {
			// Too big for this batch: run the batch now and j on its own
			// right after, so neither waits longer than it must.
			b.execute(w)
			w.jobs = append(w.jobs[:0], j)
			return
		}
		w.jobs = append(w.jobs, j)
		rows += j.n
	}
}

func (b *batcher) preferred(rows int) bool {
	for _, p := range b.policy.preferred {
		if p == rows {
			return true
		}
	}
	return false
}

// execute runs w.jobs as one Forward and answers each. A single job runs
// straight on its own buffers; several are copied into the worker's.
func (b *batcher) execute(w *worker) {
	// Claim the jobs; those withdrawn while the batch gathered drop out.
	live := w.jobs[:0]
	for _, j := range w.jobs {
		if j.state.CompareAndSwap(jobWaiting, jobTaken) {
			live = append(live, j)
		} else {
			b.inside.Add(-1)
		}
	}
	clear(w.jobs[len(live):])
	w.jobs = live
	if len(w.jobs) == 0 {
		return
	}
	b.executions.Add(1)
	start := time.Now()
	if len(w.jobs) == 1 {
		j := w.jobs[0]
		err := b.model.Forward(j.x, j.n, j.out)
		b.answer(j, start, time.Since(start), j.n, err)
		w.jobs = w.jobs[:0]
		return
	}
	in, outs := b.model.InputSize(), b.model.Outputs()
	rows := 0
	for _, j := range w.jobs {
		rows += j.n
	}
	w.x, w.out = grow(w.x, rows*in), grow(w.out, rows*outs)
	off := 0
	for _, j := range w.jobs {
		copy(w.x[off*in:], j.x)
		off += j.n
	}
	err := b.model.Forward(w.x, rows, w.out)
	compute := time.Since(start)
	off = 0
	for _, j := range w.jobs {
		if err == nil {
			copy(j.out, w.out[off*outs:(off+j.n)*outs])
		}
		off += j.n
		b.answer(j, start, compute, rows, err)
	}
	clear(w.jobs)
	w.jobs = w.jobs[:0]
}

func (b *batcher) answer(j *job, start time.Time, compute time.Duration, rows int, err error) {
	j.queued = start.Sub(j.enqueued)
	j.compute = compute
	j.batch = rows
	b.inside.Add(-1)
	j.done <- err
}
