package monitor

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
)

// quality joins ground truth, which arrives after the answer, to the
// predictions of recent requests and keeps the online metrics over the
// last labelled rows. Safe for concurrent use.
type quality struct {
	classes []string
	cfg     QualityConfig
	ref     map[string]float64 // validation metrics from the artifact

	mu      sync.Mutex
	pending map[string]int // request id -> position in ring
	ring    []pendingEntry // FIFO of recent predictions; the oldest is forgotten
	next    int
	// labelled rows: predicted and true class (or value), a ring.
	pred, truth []float64
	lnext, ln   int
	labelled    uint64 // rows joined
	unknown     uint64 // feedback for requests no longer (or never) known
}

type pendingEntry struct {
	id     string
	values []float64 // per row: class index or regression value
}

func newQuality(classes []string, cfg QualityConfig, ref map[string]float64) *quality {
	return &quality{classes: classes, cfg: cfg, ref: ref, pending: make(map[string]int, cfg.Pending),
		ring: make([]pendingEntry, cfg.Pending), pred: make([]float64, cfg.Window), truth: make([]float64, cfg.Window)}
}

// remember keeps a request's predictions for later feedback, evicting the
// oldest request when full. It reuses the evicted entry's storage.
func (q *quality) remember(id string, class []int, values []float32, outputs int) {
	if id == "" {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	e := &q.ring[q.next]
	if e.id != "" && q.pending[e.id] == q.next {
		delete(q.pending, e.id)
	}
	e.id = id
	e.values = e.values[:0]
	if q.classes != nil {
		for _, c := range class {
			e.values = append(e.values, float64(c))
		}
	} else {
		for i := 0; i < len(values); i += max(outputs, 1) {
			e.values = append(e.values, float64(values[i]))
		}
	}
	q.pending[id] = q.next
	q.next = (q.next + 1) % len(q.ring)
}

// ErrUnknownRequest is Feedback's error for a request id the monitor does
// not hold (never seen, or older than quality.pending requests).
var ErrUnknownRequest = errors.New("monitor: unknown request id (never seen or forgotten)")

// feedback joins labels (one per row of the request: class names or
// indices for classifiers, numbers for regressors) to a remembered
// request.
func (q *quality) feedback(id string, labels []any) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	i, ok := q.pending[id]
	if !ok {
		q.unknown++
		return 0, fmt.Errorf("%w: %q", ErrUnknownRequest, id)
	}
	e := &q.ring[i]
	if len(labels) != len(e.values) {
		return 0, fmt.Errorf("monitor: request %q had %d rows, feedback has %d labels", id, len(e.values), len(labels))
	}
	truth := make([]float64, len(labels))
	for r, l := range labels {
		t, err := q.label(l)
		if err != nil {
			return 0, fmt.Errorf("monitor: feedback for request %q, label %d: %w", id, r, err)
		}
		truth[r] = t
	}
	for r, t := range truth {
		q.pred[q.lnext], q.truth[q.lnext] = e.values[r], t
		q.lnext = (q.lnext + 1) % len(q.pred)
		q.ln = min(q.ln+1, len(q.pred))
	}
	q.labelled += uint64(len(truth))
	delete(q.pending, id) // one feedback per request
	e.id = ""
	return len(truth), nil
}

// label reads one label: a class name (or its index) for classifiers, a
// number for regressors.
func (q *quality) label(l any) (float64, error) {
	if q.classes == nil {
		v := numberOf(l)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%v is not a finite number", l)
		}
		return v, nil
	}
	var s string
	switch x := l.(type) {
	case string:
		s = x
	case json.Number:
		s = string(x)
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	default:
		s = fmt.Sprint(x)
	}
	for i, c := range q.classes {
		if c == s {
			return float64(i), nil
		}
	}
	if i, err := strconv.Atoi(s); err == nil && i >= 0 && i < len(q.classes) {
		return float64(i), nil
	}
	return 0, fmt.Errorf("%q is not one of the classes %v", s, q.classes)
}

// Quality is the online quality over the last labelled rows, beside the
// validation metrics stored in the artifact.
type Quality struct {
	Rows      int                `json:"rows"`     // labelled rows in the window
	Labelled  uint64             `json:"labelled"` // all rows ever joined
	Unknown   uint64             `json:"unknown_feedback"`
	Metrics   map[string]float64 `json:"metrics"`   // accuracy, f1 or mae, rmse
	Reference map[string]float64 `json:"reference"` // the same names: validation values
	// Drop is the validation accuracy minus the online one, or for
	// regressors (rmse - val_rmse) / val_rmse; NaN until min_rows labels
	// and with no reference.
	Drop float64 `json:"-"`
}

// snapshot computes the metrics over the labelled window.
func (q *quality) snapshot() Quality {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := Quality{Rows: q.ln, Labelled: q.labelled, Unknown: q.unknown, Metrics: map[string]float64{}, Reference: map[string]float64{}, Drop: math.NaN()}
	if q.ln < q.cfg.MinRows {
		return s
	}
	pred, truth := q.pred[:q.ln], q.truth[:q.ln]
	if q.classes == nil {
		var ae, se float64
		for i, p := range pred {
			d := p - truth[i]
			ae += math.Abs(d)
			se += d * d
		}
		s.Metrics["mae"] = ae / float64(q.ln)
		s.Metrics["rmse"] = math.Sqrt(se / float64(q.ln))
		for _, k := range []string{"mae", "rmse"} {
			if v, ok := q.ref["val_"+k]; ok {
				s.Reference[k] = v
			}
		}
		if r, ok := s.Reference["rmse"]; ok && r > 0 {
			s.Drop = (s.Metrics["rmse"] - r) / r
		}
		return s
	}
	k := len(q.classes)
	tp, fp, fn := make([]float64, k), make([]float64, k), make([]float64, k)
	correct := 0.0
	for i, p := range pred {
		t := int(truth[i])
		if int(p) == t {
			correct++
			tp[t]++
		} else {
			fp[int(p)]++
			fn[t]++
		}
	}
	f1 := func(c int) float64 {
		if d := 2*tp[c] + fp[c] + fn[c]; d > 0 {
			return 2 * tp[c] / d
		}
		return 0
	}
	s.Metrics["accuracy"] = correct / float64(q.ln)
	refF1 := "val_macro_f1"
	if k == 2 {
		s.Metrics["f1"] = f1(1) // scikit-learn's average="binary": the second class is positive
		refF1 = "val_f1"
	} else {
		var m float64
		for c := range k {
			m += f1(c)
		}
		s.Metrics["f1"] = m / float64(k)
	}
	if v, ok := q.ref["val_accuracy"]; ok {
		s.Reference["accuracy"] = v
		s.Drop = v - s.Metrics["accuracy"]
	}
	if v, ok := q.ref[refF1]; ok {
		s.Reference["f1"] = v
	}
	return s
}
