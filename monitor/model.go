package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/model"
)

// Observation is one answered (or failed) request, as a server hands it to
// Model.Observe. The monitor reads the slices later, on its own goroutine:
// the caller must not change them after Observe.
type Observation struct {
	RequestID string
	Time      time.Time     // when the request arrived; zero: now
	Latency   time.Duration // whole request
	// Err, when not empty, is why the request failed (a short reason such
	// as "bad_request" or "timeout"); a failed request has no rows.
	Err string

	Rows int
	// Records are the raw table records, one per row (table models).
	Records []map[string]any
	// Inputs are the prepared rows, Rows × the model's input size (image
	// and tensor models, or table models without records).
	Inputs []float32
	// Class is the predicted class index per row (classifiers).
	Class []int
	// Values are the regression values, Rows × Outputs.
	Values  []float32
	Outputs int

	ack chan struct{} // Flush's marker: closed when reached
}

// Options are a Model's collaborators; the zero value works.
type Options struct {
	Logger      *slog.Logger // nil: slog.Default()
	HTTPClient  *http.Client // for webhooks; nil: a client with a 5 s timeout
	ExternalURL string       // this server's URL, sent with alerts
}

// Model monitors one served model version. Observe is safe for concurrent
// use and never blocks; everything else runs on the model's goroutine
// (windows, drift, alerts) or under small locks (feedback, snapshots).
type Model struct {
	Name, Version string
	cfg           Config
	ref           *Reference
	log           *slog.Logger

	queue  chan Observation
	mu     sync.RWMutex // Close against Observe
	closed bool
	done   chan struct{}
	cancel context.CancelFunc
	hooks  sync.WaitGroup

	observed, dropped atomic.Uint64
	quality           *quality
	alerts            *alerter
	plog              *PredictionLog

	snap        atomic.Pointer[Snapshot]
	server      atomic.Pointer[ServerStats] // from the server's own metrics, when it reports them
	serverDirty atomic.Bool                 // new server figures since the last evaluation

	// Counters read by /metrics while the run goroutine adds to them.
	cmu         sync.Mutex
	requests    uint64
	errors      map[string]uint64
	rows        uint64
	latencySum  float64 // seconds, for the latency summary
	classCounts []uint64
	valueHist   valueHistogram

	// Owned by the run goroutine.
	win        *window
	sinceEval  int
	lastEval   time.Time
	lastReqs   uint64
	latencies  []float64 // ring of recent latencies (seconds)
	latSorted  []float64 // scratch for their percentiles
	latSeen    bool      // some observation carried a latency
	outcomes   []bool    // ring of recent outcomes (true: failed)
	lat, out   int
	latN, outN int
	scratch    evalScratch
	freshRows  int       // rows since the last evaluation that alerted on drift
	lastFresh  time.Time // when that was
	// Without training labels in the profile, the prediction reference is
	// learnt from the first baselineWindows windows of traffic, gathered
	// here until then.
	predBase   *categoricalRef
	valueBase  *numericRef
	baseCounts []float64
	baseValues []float64
	rng        *rand.Rand
}

// recentRequests is how many requests the latency percentiles and the
// error rate cover.
const recentRequests = 1024

// NewModel starts monitoring one model version against its artifact's
// spec and training profile.
func NewModel(name, version string, spec model.Spec, profile *data.Profile, cfg Config, opts Options) (*Model, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	ref, err := NewReference(spec, profile)
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	rules := cfg.Alerts
	if rules == nil {
		rules = DefaultRules(cfg.Drift)
	}
	m := &Model{
		Name: name, Version: version, cfg: cfg, ref: ref, log: opts.Logger,
		queue: make(chan Observation, cfg.Queue), done: make(chan struct{}),
		quality:     newQuality(ref.Classes, cfg.Quality, spec.Training.Metrics),
		alerts:      newAlerter(name, version, rules, opts.Logger),
		errors:      map[string]uint64{},
		classCounts: make([]uint64, len(ref.Classes)),
		valueHist:   newValueHistogram(),
		win:         newWindow(cfg.Window.Size, ref.Width()),
		latencies:   make([]float64, recentRequests),
		outcomes:    make([]bool, recentRequests),
		rng:         rand.New(rand.NewPCG(1, 2)),
	}
	if cfg.PredictionLog.Path != "" {
		if m.plog, err = OpenPredictionLog(cfg.PredictionLog); err != nil {
			return nil, err
		}
	}
	m.snap.Store(&Snapshot{Model: name, Version: version, Alerts: m.alerts.snapshot(), Quality: m.quality.snapshot()})
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	if len(cfg.Webhooks) > 0 {
		m.hooks.Add(1)
		go m.alerts.deliver(ctx, cfg.Webhooks, opts.HTTPClient, opts.ExternalURL, m.hooks.Done)
	} else {
		go func() { // nobody to tell: empty the queue so it never fills
			for {
				select {
				case <-ctx.Done():
					return
				case <-m.alerts.notify:
				}
			}
		}()
	}
	go m.run()
	return m, nil
}

// Reference is what the model's traffic is compared with.
func (m *Model) Reference() *Reference { return m.ref }

// Observe queues one request for monitoring and returns at once: false
// when the queue was full (the observation is dropped and counted) or the
// model is closed. It remembers the request's predictions for Feedback
// before returning, so ground truth may follow the answer immediately.
func (m *Model) Observe(o Observation) bool {
	if o.Err == "" {
		m.quality.remember(o.RequestID, o.Class, o.Values, o.Outputs)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return false
	}
	select {
	case m.queue <- o:
		m.observed.Add(1)
		return true
	default:
		m.dropped.Add(1)
		return false
	}
}

// Feedback joins ground truth to the request's predictions: one label per
// row (class names or indices for classifiers, numbers for regressors).
// It returns the rows joined; ErrUnknownRequest (wrapped) when the request
// is not remembered. The quality alerts are evaluated at once.
func (m *Model) Feedback(requestID string, labels []any) (int, error) {
	n, err := m.quality.feedback(requestID, labels)
	if err != nil {
		return 0, err
	}
	q := m.quality.snapshot()
	m.alerts.evaluate(qualityValues(q, nil), time.Now())
	if s := m.snap.Load(); s != nil {
		c := *s
		c.Quality, c.Alerts = q, m.alerts.snapshot()
		m.snap.CompareAndSwap(s, &c)
	}
	return n, nil
}

// Alerts returns the state of every alert rule.
func (m *Model) Alerts() []Alert { return m.alerts.snapshot() }

// Snapshot returns the latest evaluation.
func (m *Model) Snapshot() *Snapshot { return m.snap.Load() }

// Close stops the model after monitoring every accepted observation:
// a last evaluation, the prediction log flushed and closed, queued
// webhooks sent.
func (m *Model) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	close(m.queue)
	m.mu.Unlock()
	<-m.done
	m.cancel()
	m.hooks.Wait()
	if m.plog != nil {
		return m.plog.Close()
	}
	return nil
}

// Flush waits until every observation accepted so far is processed and a
// fresh evaluation is published (for tests and for the report of a
// draining server).
func (m *Model) Flush() {
	ack := make(chan struct{})
	m.mu.RLock()
	if m.closed {
		m.mu.RUnlock()
		return
	}
	m.queue <- Observation{ack: ack}
	m.mu.RUnlock()
	<-ack
}

func (m *Model) run() {
	defer close(m.done)
	var tick <-chan time.Time
	if iv := m.cfg.Window.EvaluateInterval; iv > 0 {
		t := time.NewTicker(iv)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case o, ok := <-m.queue:
			if !ok {
				if m.sinceEval > 0 {
					m.evaluate(time.Now())
				}
				return
			}
			if o.ack != nil {
				m.evaluate(time.Now())
				close(o.ack)
				continue
			}
			m.process(o)
		case now := <-tick:
			if m.sinceEval > 0 || m.serverDirty.Swap(false) {
				m.evaluate(now)
			}
		}
	}
}

// process adds one observation to the counters and the window.
func (m *Model) process(o Observation) {
	t := o.Time
	if t.IsZero() {
		t = time.Now()
	}
	m.latencies[m.lat] = o.Latency.Seconds()
	m.latSeen = m.latSeen || o.Latency > 0
	m.lat = (m.lat + 1) % len(m.latencies)
	m.latN = min(m.latN+1, len(m.latencies))
	m.outcomes[m.out] = o.Err != ""
	m.out = (m.out + 1) % len(m.outcomes)
	m.outN = min(m.outN+1, len(m.outcomes))
	m.cmu.Lock()
	m.requests++
	m.latencySum += o.Latency.Seconds()
	if o.Err != "" {
		m.errors[o.Err]++
		m.cmu.Unlock()
		m.sinceEval++
		m.maybeEvaluate(t)
		return
	}
	m.rows += uint64(o.Rows)
	for _, c := range o.Class {
		if c >= 0 && c < len(m.classCounts) {
			m.classCounts[c]++
		}
	}
	if m.ref.Classes == nil {
		for i := 0; i < len(o.Values); i += max(o.Outputs, 1) {
			m.valueHist.observe(float64(o.Values[i]))
		}
	}
	m.cmu.Unlock()
	in := 0
	if o.Rows > 0 && len(o.Inputs) > 0 {
		in = len(o.Inputs) / o.Rows
	}
	// A window model answers once per window of records: the records are
	// the inputs (one slot row each), the answers fill the first rows'
	// prediction slots.
	rows := o.Rows
	if m.ref.image == nil {
		rows = max(rows, len(o.Records))
	}
	for r := range rows {
		dst := m.win.slot(t)
		dst[m.ref.inSlot] = 1
		switch {
		case m.ref.image != nil && in > 0:
			m.ref.encodeImage(o.Inputs[r*in:(r+1)*in], dst)
		case m.ref.image == nil && r < len(o.Records):
			m.ref.encodeRecord(o.Records[r], dst)
		default:
			dst[m.ref.inSlot] = 0 // only the answer counts
		}
		dst[m.ref.predSlot] = math.NaN()
		if r < len(o.Class) && o.Class[r] >= 0 && o.Class[r] < len(m.ref.Classes) {
			dst[m.ref.predSlot] = float64(o.Class[r])
		} else if k := r * max(o.Outputs, 1); k < len(o.Values) {
			dst[m.ref.predSlot] = float64(o.Values[k])
		}
	}
	if m.plog != nil && (m.cfg.PredictionLog.SampleRate >= 1 || m.rng.Float64() < m.cfg.PredictionLog.SampleRate) {
		if err := m.plog.Write(m.Name, m.Version, t, o, m.ref.Classes); err != nil {
			m.log.Error("prediction log", "model", m.Name, "err", err)
		}
	}
	if m.ref.prediction == nil && m.predBase == nil && m.valueBase == nil {
		m.gatherBaseline(o)
	}
	m.sinceEval += max(o.Rows, 1)
	m.freshRows += o.Rows
	m.maybeEvaluate(t)
}

func (m *Model) maybeEvaluate(now time.Time) {
	if m.sinceEval >= m.cfg.Window.EvaluateEvery {
		m.evaluate(now)
	}
}

// evalScratch is reused by every evaluation.
type evalScratch struct {
	numeric  [][]float64
	missing  []int
	catCount [][]float64
	chBins   [][]float64
	chMean   [][]float64
	chVar    []float64
	pred     []float64
}

// Snapshot is one evaluation of a model: what /metrics, the alerts
// endpoint and the dashboard show.
type Snapshot struct {
	Model      string    `json:"model"`
	Version    string    `json:"version"`
	Time       time.Time `json:"time"`
	Requests   uint64    `json:"requests"`
	Errors     uint64    `json:"errors"`
	Rows       uint64    `json:"rows"`
	Dropped    uint64    `json:"dropped"`
	Throughput float64   `json:"throughput"` // requests per second since the previous evaluation
	ErrorRate  float64   `json:"error_rate"` // of the last 1024 requests
	Latency    Latency   `json:"latency"`
	// Server holds the server's own request figures when it reports them
	// (WatchServerMetrics); ErrorRate and Latency then come from it.
	Server     *ServerStats   `json:"server,omitempty"`
	WindowRows int            `json:"window_rows"`
	Verdict    bool           `json:"verdict"` // the window held min_rows rows
	Features   []FeatureDrift `json:"features"`
	Dataset    DatasetDrift   `json:"dataset"`
	Prediction *FeatureDrift  `json:"prediction,omitempty"`
	Classes    []ClassCount   `json:"classes,omitempty"`
	Quality    Quality        `json:"quality"`
	Alerts     []Alert        `json:"alerts"`
}

// Latency holds percentiles of the recent requests' latency, in seconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
}

// ClassCount is how often a class was predicted since the model loaded.
type ClassCount struct {
	Class string `json:"class"`
	Count uint64 `json:"count"`
}

// evaluate measures the window against the reference and publishes a
// snapshot.
func (m *Model) evaluate(now time.Time) {
	m.sinceEval = 0
	if m.plog != nil {
		// Lines reach the file at least every evaluation, not only when
		// the buffer fills, so a crash loses little.
		if err := m.plog.Flush(); err != nil {
			m.log.Error("prediction log", "model", m.Name, "err", err)
		}
	}
	var since time.Time
	if p := m.cfg.Window.Period; p > 0 {
		since = now.Add(-p)
	}
	var n int
	var features []FeatureDrift
	var dataset DatasetDrift
	pred := m.scratch.measure(m.ref, &m.cfg.Drift, m.cfg.Window.MinRows, func(fn func(row []float64)) int {
		n = m.win.each(since, fn)
		return n
	}, &features, &dataset)
	s := &Snapshot{Model: m.Name, Version: m.Version, Time: now, WindowRows: n, Dropped: m.dropped.Load()}
	ref := m.ref
	m.cmu.Lock()
	s.Requests, s.Rows = m.requests, m.rows
	for _, e := range m.errors {
		s.Errors += e
	}
	for i, c := range m.classCounts {
		s.Classes = append(s.Classes, ClassCount{ref.Classes[i], c})
	}
	m.cmu.Unlock()
	if !m.lastEval.IsZero() {
		if dt := now.Sub(m.lastEval).Seconds(); dt > 0 {
			s.Throughput = float64(s.Requests-m.lastReqs) / dt
		}
	}
	m.lastEval, m.lastReqs = now, s.Requests
	s.Latency, s.ErrorRate = m.recent()
	if st := m.server.Load(); st != nil {
		// The server measures requests (and failures the monitor never
		// sees) itself: its rates replace the monitor's own.
		s.Latency, s.ErrorRate, s.Server = st.Latency, st.ErrorRate, st
	}
	if s.Verdict = n >= m.cfg.Window.MinRows; s.Verdict {
		s.Features, s.Dataset = features, dataset
		s.Prediction = m.predictionDrift(pred)
	}
	// Drift alerts count only evaluations of windows of fresh rows (a
	// whole window since the last one, or a whole period): overlapping
	// windows share their rows, so one unlucky sample would otherwise
	// breach several evaluations in a row, and For would not mean
	// independent evidence.
	fresh := m.freshRows >= m.cfg.Window.Size || (m.cfg.Window.Period > 0 && now.Sub(m.lastFresh) >= m.cfg.Window.Period)
	if fresh && s.Verdict {
		m.freshRows, m.lastFresh = 0, now
	}
	s.Quality = m.quality.snapshot()
	values := qualityValues(s.Quality, s)
	if !fresh {
		for k := range values {
			if k == "drift_share" || k == "dataset_drift" || k == "prediction_drift" || strings.HasPrefix(k, "feature_drift:") {
				delete(values, k)
			}
		}
	}
	m.alerts.evaluate(values, now)
	s.Alerts = m.alerts.snapshot()
	m.snap.Store(s)
}

// measure runs each over the window's rows, and when they number at
// least minRows measures every input feature's drift into features and
// dataset. It returns the window's predictions (class indices or values).
func (sc *evalScratch) measure(ref *Reference, d *DriftConfig, minRows int, each func(fn func(row []float64)) int, features *[]FeatureDrift, dataset *DatasetDrift) []float64 {
	sc.reset(ref)
	inputs := 0
	n := each(func(row []float64) {
		if v := row[ref.predSlot]; !math.IsNaN(v) {
			sc.pred = append(sc.pred, v)
		}
		if row[ref.inSlot] == 0 {
			return
		}
		inputs++
		for i, s := range ref.numeric {
			if v := row[s.slot]; math.IsNaN(v) {
				sc.missing[i]++
			} else {
				sc.numeric[i] = append(sc.numeric[i], v)
			}
		}
		for i, s := range ref.categorical {
			if v := row[s.slot]; v < 0 || math.IsNaN(v) {
				sc.missing[len(ref.numeric)+i]++
			} else {
				sc.catCount[i][int(v)]++
			}
		}
		for i, ch := range ref.channels {
			if math.IsNaN(row[ch.slot]) {
				continue // a row observed without its image
			}
			sc.chMean[i] = append(sc.chMean[i], row[ch.slot])
			sc.chVar[i] += row[ch.slot+1]
			for b := range ch.bins {
				sc.chBins[i][b] += row[ch.slot+2+b]
			}
		}
	})
	if n < minRows || inputs < minRows {
		return sc.pred
	}
	for i, sn := range ref.numeric {
		slices.Sort(sc.numeric[i])
		*features = append(*features, d.numeric(sn.ref, sc.numeric[i], sc.missing[i]))
	}
	for i, c := range ref.categorical {
		*features = append(*features, d.categorical(c.ref, sc.catCount[i], sc.missing[len(ref.numeric)+i]))
	}
	for i, ch := range ref.channels {
		// All pixels' variance: the images' own variances on average plus
		// the variance of their means.
		var mean, between float64
		k := float64(max(len(sc.chMean[i]), 1))
		for _, v := range sc.chMean[i] {
			mean += v / k
		}
		for _, v := range sc.chMean[i] {
			between += (v - mean) * (v - mean) / k
		}
		*features = append(*features, d.pixels(ch.pixelsProf.Name, ch.pixelsProf, sc.chBins[i], mean, math.Sqrt(sc.chVar[i]/k+between)))
		if ch.meanRef != nil {
			slices.Sort(sc.chMean[i])
			*features = append(*features, d.numeric(ch.meanRef, sc.chMean[i], 0))
		}
	}
	*dataset = d.dataset(*features)
	return sc.pred
}

// predictionDrift compares the window's predictions with the training
// labels (image profiles record them) or, failing those, with the first
// full window of predictions, which becomes the reference.
func (m *Model) predictionDrift(pred []float64) *FeatureDrift {
	d := &m.cfg.Drift
	if m.ref.Classes != nil {
		counts := make([]float64, len(m.ref.Classes)+1)
		for _, v := range pred {
			counts[int(v)]++
		}
		r := m.ref.prediction
		if r == nil {
			r = m.predBase
		}
		if r == nil {
			return nil
		}
		fd := d.categorical(r, alignCounts(counts, r, m.ref.Classes), 0)
		return &fd
	}
	if m.valueBase == nil {
		return nil
	}
	slices.Sort(pred)
	fd := d.numeric(m.valueBase, pred, 0)
	fd.Kind = "prediction"
	return &fd
}

// baselineWindows is how many windows of predictions make the prediction
// reference of a model whose profile has no labels: several, so the
// reference is much less noisy than the windows compared with it.
const baselineWindows = 5

// gatherBaseline adds a request's predictions to the baseline and builds
// the prediction reference once it holds baselineWindows windows.
func (m *Model) gatherBaseline(o Observation) {
	target := baselineWindows * m.cfg.Window.Size
	if m.ref.Classes != nil {
		if m.baseCounts == nil {
			m.baseCounts = make([]float64, len(m.ref.Classes))
		}
		for _, c := range o.Class {
			if c >= 0 && c < len(m.baseCounts) {
				m.baseCounts[c]++
			}
		}
		if sum(m.baseCounts) >= float64(target) {
			cats := make([]data.CategoryCount, len(m.ref.Classes))
			for i, c := range m.ref.Classes {
				cats[i] = data.CategoryCount{Value: c, Count: int(m.baseCounts[i])}
			}
			m.predBase = newCategoricalRef("prediction", "prediction", cats, nil)
		}
		return
	}
	for i := 0; i < len(o.Values); i += max(o.Outputs, 1) {
		if v := float64(o.Values[i]); !math.IsNaN(v) {
			m.baseValues = append(m.baseValues, v)
		}
	}
	if len(m.baseValues) >= target {
		f := &data.Frame{Columns: []*data.Column{{Name: "prediction", Type: data.Numeric, Num: m.baseValues}}}
		p := data.NewProfile(f, 10)
		if cdf := NewRefCDF(&p.Features[0]); cdf != nil {
			m.valueBase = &numericRef{name: "prediction", fp: &p.Features[0], cdf: cdf}
		}
		m.baseValues = nil
	}
}

// alignCounts reorders class counts (in class order, plus one) to the
// reference's category order (training labels by decreasing count).
func alignCounts(counts []float64, r *categoricalRef, classes []string) []float64 {
	out := make([]float64, len(r.names)+1)
	for i, c := range classes {
		if j, ok := r.index[c]; ok {
			out[j] += counts[i]
		} else {
			out[len(r.names)] += counts[i]
		}
	}
	return out
}

// recent returns latency percentiles and the error rate over the recent
// requests.
func (m *Model) recent() (Latency, float64) {
	var l Latency
	if m.latN > 0 && m.latSeen && m.server.Load() == nil {
		// Sorted in a reused buffer; skipped when the server reports
		// latencies itself or none were ever given.
		m.latSorted = append(m.latSorted[:0], m.latencies[:m.latN]...)
		s := m.latSorted
		slices.Sort(s)
		q := func(p float64) float64 { return s[min(int(math.Ceil(p*float64(len(s))))-1, len(s)-1)] }
		l = Latency{P50: q(0.5), P90: q(0.9), P99: q(0.99)}
	}
	failed := 0
	for _, f := range m.outcomes[:m.outN] {
		if f {
			failed++
		}
	}
	rate := 0.0
	if m.outN > 0 {
		rate = float64(failed) / float64(m.outN)
	}
	return l, rate
}

// qualityValues gathers the metric values alert rules watch; s is nil
// when only quality changed.
func qualityValues(q Quality, s *Snapshot) map[string]float64 {
	v := map[string]float64{"quality_drop": q.Drop}
	for k, x := range q.Metrics {
		v[k] = x
	}
	if s == nil {
		return v
	}
	v["error_rate"] = s.ErrorRate
	if s.Requests > 0 {
		v["latency_p99_seconds"], v["latency_p50_seconds"] = s.Latency.P99, s.Latency.P50
	}
	if s.Verdict && len(s.Features) > 0 {
		v["drift_share"] = s.Dataset.Share
		v["dataset_drift"] = b2f(s.Dataset.Dataset)
		for i := range s.Features {
			v["feature_drift:"+s.Features[i].Feature] = b2f(s.Features[i].Any())
		}
	}
	if s.Verdict {
		if s.Prediction != nil {
			v["prediction_drift"] = b2f(s.Prediction.Drifted)
		}
	}
	return v
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (sc *evalScratch) reset(r *Reference) {
	grow := func(s [][]float64, n, width int) [][]float64 {
		for len(s) < n {
			s = append(s, make([]float64, 0, width))
		}
		for i := range s {
			s[i] = s[i][:0]
		}
		return s
	}
	sc.numeric = grow(sc.numeric, len(r.numeric), 0)
	sc.missing = slices.Grow(sc.missing[:0], len(r.numeric)+len(r.categorical))[:len(r.numeric)+len(r.categorical)]
	clear(sc.missing)
	sc.catCount = grow(sc.catCount, len(r.categorical), 0)
	for i, s := range r.categorical {
		sc.catCount[i] = append(sc.catCount[i][:0], make([]float64, len(s.ref.names)+1)...)
	}
	sc.chMean = grow(sc.chMean, len(r.channels), 0)
	sc.chBins = grow(sc.chBins, len(r.channels), 0)
	sc.chVar = append(sc.chVar[:0], make([]float64, len(r.channels))...)
	for i, ch := range r.channels {
		sc.chBins[i] = append(sc.chBins[i][:0], make([]float64, ch.bins)...)
	}
	sc.pred = sc.pred[:0]
}

// String names the model version for logs.
func (m *Model) String() string { return fmt.Sprintf("%s/%s", m.Name, m.Version) }
