package serve

import (
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/predict"
)

// Observer receives every successful inference, for monitoring (drift,
// online accuracy, alerts). Observe is called on one goroutine per server,
// in the order requests finished, never on a request's path: observations
// wait in a bounded queue, and when the observer falls behind they are
// dropped and counted (shen_observer_dropped_total) rather than slowing
// requests. An Observation belongs to the observer: it may keep it.
type Observer interface {
	Observe(o *Observation)
}

// VersionObserver is an Observer that also hears when a model version
// starts and stops being served, so it can keep state per version (a
// monitor's windows and alerts). VersionLoaded is called just before the
// version is published, with its artifact and the model's folder (where
// its config file lives; "" for a single artifact); VersionUnloaded after
// the version is retired. Both are called from the repository's scan, so
// they should return quickly.
type VersionObserver interface {
	Observer
	VersionLoaded(name, version string, m *model.Model, modelDir string)
	VersionUnloaded(name, version string)
}

// Observation is one served request.
type Observation struct {
	Model     string
	Version   string
	RequestID string        // the request's id: the V2 body's "id", else X-Request-Id or the server's
	Protocol  string        // "v2_http", "v2_grpc" or "v1_http"
	Time      time.Time     // when the answer was ready
	Latency   time.Duration // from the request's arrival to its answer

	// Records are the raw records of a table model's request as the client
	// sent them: V1 instances, or V2 column tensors gathered into rows.
	// nil for prepared V2 inputs, images and prompts.
	Records []map[string]any
	// Inputs are the rows as the network took them (after preprocessing):
	// N rows of Width float32 values, row-major (Row(i) is one); nil for V1
	// records.
	Inputs []float32
	Width  int

	// Result is the answer the client got: probabilities, classes and
	// labels, or values; for V1 records also the per-row notes.
	Result *predict.Result
}

// Rows is the number of rows observed.
func (o *Observation) Rows() int {
	if o.Records != nil {
		return len(o.Records)
	}
	if o.Width == 0 {
		return 0
	}
	return len(o.Inputs) / o.Width
}

// Row is V2 input row i.
func (o *Observation) Row(i int) []float32 { return o.Inputs[i*o.Width : (i+1)*o.Width] }

// observerQueue hands observations to the observer off the request path.
type observerQueue struct {
	ch      chan *Observation
	dropped prometheus.Counter
	done    sync.WaitGroup
	once    sync.Once
}

// ObserverQueueSize is how many observations may wait for the observer.
const ObserverQueueSize = 4096

func newObserverQueue(o Observer, size int, dropped prometheus.Counter, log *slog.Logger) *observerQueue {
	q := &observerQueue{ch: make(chan *Observation, size), dropped: dropped}
	q.done.Add(1)
	go func() {
		defer q.done.Done()
		for ob := range q.ch {
			func() {
				defer func() {
					if p := recover(); p != nil {
						log.Error("observer panicked; observation skipped", "model", ob.Model, "panic", p)
					}
				}()
				o.Observe(ob)
			}()
		}
	}()
	return q
}

// offer queues ob, or drops and counts it when the queue is full.
func (q *observerQueue) offer(ob *Observation) {
	select {
	case q.ch <- ob:
	default:
		q.dropped.Inc()
	}
}

// close delivers what is queued and stops.
func (q *observerQueue) close() {
	q.once.Do(func() { close(q.ch) })
	q.done.Wait()
}

// observeV2 offers a V2 request's rows and answer to the observer.
func (s *Server) observeV2(v *version, id string, p protocol, j *job, records []map[string]any, res *predict.Result, latency time.Duration) {
	if s.observer == nil {
		return
	}
	s.observer.offer(&Observation{
		Model: v.model, Version: v.label, RequestID: id, Protocol: p.String(), Time: time.Now(), Latency: latency,
		Inputs: slices.Clone(j.x), Width: v.pred.InputSize(), Records: records, Result: res,
	})
}
