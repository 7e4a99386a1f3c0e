package serve

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shenml/shen/predict"
)

// gated holds each Forward of a real model until the test releases it, so
// tests can fill the queue behind a running batch.
type gated struct {
	forwarder
	entered chan int // rows of each batch, as it starts
	release chan struct{}
}

func (g *gated) Forward(x []float32, n int, out []float32) error {
	g.entered <- n
	<-g.release
	return g.forwarder.Forward(x, n, out)
}

func irisNet(t testing.TB) *predict.Predictor {
	dir := filepath.Join(t.TempDir(), "iris")
	saveMLP(t, dir, 1)
	p, err := predict.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newGated(t testing.TB, p batchPolicy) (*batcher, *gated, *predict.Predictor) {
	net := irisNet(t)
	g := &gated{forwarder: net, entered: make(chan int, 16), release: make(chan struct{})}
	b := newBatcher(g, p, prometheus.NewGauge(prometheus.GaugeOpts{Name: "depth"}), nil)
	t.Cleanup(func() { close(g.release); b.close() })
	return b, g, net
}

// submit runs row i of irisRows in the background.
func submit(b *batcher, ctx context.Context, row int) (*job, chan error) {
	j := getJob(1, 4, 3)
	copy(j.x, irisRows[4*(row%3):4*(row%3)+4])
	done := make(chan error, 1)
	go func() { done <- b.run(ctx, j) }()
	return j, done
}

// waitQueued waits until the queue holds n jobs.
func waitQueued(t *testing.T, b *batcher, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); len(b.queue) < n; {
		if time.Now().After(deadline) {
			t.Fatalf("queue holds %d jobs, want %d", len(b.queue), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBatcherMergesWaitingRequests(t *testing.T) {
	b, g, net := newGated(t, batchPolicy{merge: true, maxRows: 8, queue: 16, instances: 1})
	ctx := context.Background()
	first, firstDone := submit(b, ctx, 0)
	if n := <-g.entered; n != 1 {
		t.Fatalf("first batch has %d rows, want 1", n)
	}
	var jobs []*job
	var dones []chan error
	for i := range 5 {
		j, d := submit(b, ctx, i)
		jobs, dones = append(jobs, j), append(dones, d)
	}
	waitQueued(t, b, 5)
	g.release <- struct{}{}
	if n := <-g.entered; n != 5 {
		t.Fatalf("the five waiting requests ran in a batch of %d, want 5", n)
	}
	g.release <- struct{}{}
	for i, d := range append([]chan error{firstDone}, dones...) {
		if err := <-d; err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	for i, j := range append([]*job{first}, jobs...) {
		row := 0
		if i > 0 {
			row = i - 1
		}
		want := make([]float32, 3)
		if err := net.Forward(irisRows[4*(row%3):4*(row%3)+4], 1, want); err != nil {
			t.Fatal(err)
		}
		if !near(j.out, want) {
			t.Errorf("request %d got %v from its batch, alone it gives %v", i, j.out, want)
		}
		if i > 0 && j.batch != 5 {
			t.Errorf("request %d reports batch %d, want 5", i, j.batch)
		}
	}
}

func TestBatcherQueueFullAnswersAtOnce(t *testing.T) {
	b, g, _ := newGated(t, batchPolicy{merge: true, maxRows: 1, queue: 2, instances: 1})
	ctx := context.Background()
	_, d0 := submit(b, ctx, 0)
	<-g.entered
	_, d1 := submit(b, ctx, 1)
	_, d2 := submit(b, ctx, 2)
	waitQueued(t, b, 2)
	start := time.Now()
	j := getJob(1, 4, 3)
	if err := b.run(ctx, j); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third queued request: %v, want ErrQueueFull", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the refusal took %v", d)
	}
	g.release <- struct{}{}
	for range 2 {
		<-g.entered
		g.release <- struct{}{}
	}
	for _, d := range []chan error{d0, d1, d2} {
		if err := <-d; err != nil {
			t.Fatal(err)
		}
	}
}

func TestBatcherCancelledRequestTakesNoSlot(t *testing.T) {
	b, g, _ := newGated(t, batchPolicy{merge: true, maxRows: 8, queue: 16, instances: 1})
	_, d0 := submit(b, context.Background(), 0)
	<-g.entered
	ctx, cancel := context.WithCancel(context.Background())
	_, cancelled := submit(b, ctx, 1)
	deadlineCtx, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer stop()
	_, timedOut := submit(b, deadlineCtx, 1)
	kept, keptDone := submit(b, context.Background(), 2)
	waitQueued(t, b, 3)
	cancel()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled request: %v", err)
	}
	if err := <-timedOut; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("request past its deadline: %v", err)
	}
	g.release <- struct{}{}
	if n := <-g.entered; n != 1 {
		t.Fatalf("the batch after the cancellations has %d rows; the withdrawn requests took slots", n)
	}
	g.release <- struct{}{}
	if err := <-d0; err != nil {
		t.Fatal(err)
	}
	if err := <-keptDone; err != nil || kept.batch != 1 {
		t.Fatalf("kept request: %v, batch %d", err, kept.batch)
	}
}

func TestBatcherPreferredSizeRunsAtOnce(t *testing.T) {
	net := irisNet(t)
	b := newBatcher(net, batchPolicy{merge: true, maxRows: 8, delay: 10 * time.Second, preferred: []int{2}, queue: 16, instances: 1},
		prometheus.NewGauge(prometheus.GaugeOpts{Name: "depth"}), nil)
	defer b.close()
	start := time.Now()
	j1, d1 := submit(b, context.Background(), 0)
	j2, d2 := submit(b, context.Background(), 1)
	if err := <-d1; err != nil {
		t.Fatal(err)
	}
	if err := <-d2; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second || j1.batch != 2 || j2.batch != 2 {
		t.Fatalf("two requests with preferred size 2 ran in batches %d and %d after %v; want one batch of 2 well before the 10 s delay", j1.batch, j2.batch, d)
	}
}

// TestBatcherDelayGathers: four requests arriving within a long delay run
// as one batch, which leaves as soon as it is full.
func TestBatcherDelayGathers(t *testing.T) {
	net := irisNet(t)
	b := newBatcher(net, batchPolicy{merge: true, maxRows: 4, delay: 5 * time.Second, queue: 16, instances: 1},
		prometheus.NewGauge(prometheus.GaugeOpts{Name: "depth"}), nil)
	defer b.close()
	var wg sync.WaitGroup
	jobs := make([]*job, 4)
	for i := range jobs {
		wg.Add(1)
		j, d := submit(b, context.Background(), i)
		jobs[i] = j
		go func() { defer wg.Done(); <-d }()
	}
	start := time.Now()
	wg.Wait()
	if time.Since(start) > 4*time.Second {
		t.Errorf("the full batch waited out the delay")
	}
	for i, j := range jobs {
		if j.batch != 4 {
			t.Errorf("request %d ran in a batch of %d; four arriving within the delay should run as one", i, j.batch)
		}
	}
}

// BenchmarkBatcher measures the batcher's own cost per request under
// concurrent load, merging requests of one row on the iris MLP.
func BenchmarkBatcher(b *testing.B) {
	net := irisNet(b)
	bt := newBatcher(net, batchPolicy{merge: true, maxRows: 64, queue: 1024, instances: 1},
		prometheus.NewGauge(prometheus.GaugeOpts{Name: "depth"}), nil)
	defer bt.close()
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(16)
	var rows, batches float64
	var mu sync.Mutex
	b.RunParallel(func(pb *testing.PB) {
		var r, n float64
		for pb.Next() {
			j := getJob(1, 4, 3)
			copy(j.x, irisRows[:4])
			if err := bt.run(ctx, j); err != nil {
				b.Error(err)
				return
			}
			r += float64(j.batch)
			n++
			putJob(j)
		}
		mu.Lock()
		rows, batches = rows+r, batches+n
		mu.Unlock()
	})
	b.ReportMetric(rows/max(batches, 1), "rows/batch")
}

// TestBatcherRunsAtOnceWhenNoOneIsComing: with a long delay, a lone request
// whose version has no other holder runs at once; while another holder is
// still on its way, the batch waits for it and takes it.
func TestBatcherRunsAtOnceWhenNoOneIsComing(t *testing.T) {
	net := irisNet(t)
	var holders atomic.Int64
	b := newBatcher(net, batchPolicy{merge: true, maxRows: 8, delay: 10 * time.Second, queue: 16, instances: 1},
		prometheus.NewGauge(prometheus.GaugeOpts{Name: "depth"}), &holders)
	defer b.close()
	holders.Store(1)
	start := time.Now()
	j, d := submit(b, context.Background(), 0)
	if err := <-d; err != nil || j.batch != 1 || time.Since(start) > 5*time.Second {
		t.Fatalf("lone request: %v, batch %d after %v; want it run at once", err, j.batch, time.Since(start))
	}
	holders.Store(2) // a second request is being decoded
	j1, d1 := submit(b, context.Background(), 1)
	time.Sleep(50 * time.Millisecond)
	j2, d2 := submit(b, context.Background(), 2)
	for _, d := range []chan error{d1, d2} {
		if err := <-d; err != nil {
			t.Fatal(err)
		}
	}
	if j1.batch != 2 || j2.batch != 2 {
		t.Fatalf("batches %d and %d; the first request should have waited for the second", j1.batch, j2.batch)
	}
}

// copyForward stands in for a model that costs nothing, so that only the
// batcher's own work (queueing, gathering, copying rows in and out,
// answering) is measured.
type copyForward struct{}

func (copyForward) Forward(x []float32, n int, out []float32) error { copy(out, x); return nil }
func (copyForward) InputSize() int                                  { return 4 }
func (copyForward) Outputs() int                                    { return 4 }

// BenchmarkBatcherOverhead is the batcher's own cost per request with
// 16 concurrent submitters; allocs/op shows it allocates nothing.
func BenchmarkBatcherOverhead(b *testing.B) {
	bt := newBatcher(copyForward{}, batchPolicy{merge: true, maxRows: 64, queue: 1024, instances: 1},
		prometheus.NewGauge(prometheus.GaugeOpts{Name: "depth"}), nil)
	defer bt.close()
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			j := getJob(1, 4, 4)
			if err := bt.run(ctx, j); err != nil {
				b.Error(err)
				return
			}
			putJob(j)
		}
	})
}
