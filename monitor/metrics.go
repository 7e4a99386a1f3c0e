package monitor

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Hub holds the monitored models of one server and exposes them to one
// Prometheus registry as a single collector, so models come and go
// (version swaps) without registering anything again.
type Hub struct {
	mu     sync.RWMutex
	models map[string]map[string]*Model // name -> version -> model
}

// NewHub returns a hub whose metrics reg gathers; reg may be nil (no
// metrics).
func NewHub(reg prometheus.Registerer) (*Hub, error) {
	h := &Hub{models: map[string]map[string]*Model{}}
	if reg != nil {
		if err := reg.Register(h); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Add registers a model version; a previous one of the same name and
// version is closed.
func (h *Hub) Add(m *Model) {
	h.mu.Lock()
	vs := h.models[m.Name]
	if vs == nil {
		vs = map[string]*Model{}
		h.models[m.Name] = vs
	}
	old := vs[m.Version]
	vs[m.Version] = m
	h.mu.Unlock()
	if old != nil && old != m {
		old.Close()
	}
}

// Remove closes and forgets a model version.
func (h *Hub) Remove(name, version string) {
	h.mu.Lock()
	m := h.models[name][version]
	delete(h.models[name], version)
	if len(h.models[name]) == 0 {
		delete(h.models, name)
	}
	h.mu.Unlock()
	if m != nil {
		m.Close()
	}
}

// Get returns the named model version; with version "" the highest
// version (numerically when versions are numbers).
func (h *Hub) Get(name, version string) *Model {
	h.mu.RLock()
	defer h.mu.RUnlock()
	vs := h.models[name]
	if version != "" {
		return vs[version]
	}
	var best *Model
	for v, m := range vs {
		if best == nil || versionLess(best.Version, v) {
			best = m
		}
	}
	return best
}

// Models returns every model version, by name then version.
func (h *Hub) Models() []*Model {
	h.mu.RLock()
	var out []*Model
	for _, vs := range h.models {
		for _, m := range vs {
			out = append(out, m)
		}
	}
	h.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return versionLess(out[i].Version, out[j].Version)
	})
	return out
}

// Close closes every model.
func (h *Hub) Close() {
	for _, m := range h.Models() {
		h.Remove(m.Name, m.Version)
	}
}

func versionLess(a, b string) bool {
	x, e1 := strconv.ParseInt(a, 10, 64)
	y, e2 := strconv.ParseInt(b, 10, 64)
	if e1 == nil && e2 == nil {
		return x < y
	}
	return a < b
}

var (
	mv        = []string{"model", "version"}
	mvFeature = []string{"model", "version", "feature"}
	desc      = func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("shen_monitor_"+name, help, labels, nil)
	}
	dObserved    = desc("observations_total", "Requests accepted for monitoring.", mv...)
	dDropped     = desc("observations_dropped_total", "Requests not monitored because the monitor's queue was full.", mv...)
	dRequests    = desc("requests_total", "Requests the monitor processed, failed ones included.", mv...)
	dErrors      = desc("request_errors_total", "Failed requests by reason.", "model", "version", "reason")
	dRows        = desc("rows_total", "Rows answered.", mv...)
	dLatency     = desc("request_duration_seconds", "Request latency; quantiles over the last 1024 requests.", mv...)
	dErrorRatio  = desc("error_ratio", "Failed share of the last 1024 requests.", mv...)
	dWindowRows  = desc("window_rows", "Rows in the drift window at the last evaluation.", mv...)
	dStatistic   = desc("feature_drift_statistic", "Drift statistic of a feature at the last evaluation: KS D, chi-squared, Wasserstein over the reference std, Jensen-Shannon distance or PSI, as method says.", "model", "version", "feature", "method")
	dPValue      = desc("feature_drift_p_value", "P-value of a feature's drift test (KS, chi-squared); absent for distances.", mvFeature...)
	dPSI         = desc("feature_psi", "Population stability index of a feature against the training profile.", mvFeature...)
	dDrifted     = desc("feature_drifted", "1 when a feature drifted (values, missing rate or unseen categories).", mvFeature...)
	dMissing     = desc("feature_missing_ratio", "Missing share of a feature in the window.", mvFeature...)
	dUnseen      = desc("feature_unseen_ratio", "Share of a categorical feature's values never seen in training.", mvFeature...)
	dDataset     = desc("dataset_drift", "1 when the drifted share of features reached the dataset threshold.", mv...)
	dShare       = desc("dataset_drift_share", "Share of features drifted at the last evaluation.", mv...)
	dPredDrift   = desc("prediction_drifted", "1 when the distribution of predictions drifted.", mv...)
	dPredStat    = desc("prediction_drift_statistic", "Drift statistic of the predictions.", "model", "version", "method")
	dPredictions = desc("predictions_total", "Predicted rows by class.", "model", "version", "class")
	dValues      = desc("prediction_value", "Regression values predicted.", mv...)
	dQuality     = desc("quality", "Online quality over the last labelled rows (accuracy, f1, mae, rmse).", "model", "version", "metric")
	dQualityRef  = desc("quality_reference", "The validation value of the same metric, from the artifact.", "model", "version", "metric")
	dLabelled    = desc("feedback_rows_total", "Rows joined to ground truth by feedback.", mv...)
	dUnknown     = desc("feedback_unknown_total", "Feedback for requests not remembered.", mv...)
	dFiring      = desc("alert_firing", "1 while an alert fires.", "model", "version", "alert", "severity")
	dFired       = desc("alerts_fired_total", "Times an alert fired.", "model", "version", "alert")
	allDescs     = []*prometheus.Desc{dObserved, dDropped, dRequests, dErrors, dRows, dLatency, dErrorRatio, dWindowRows,
		dStatistic, dPValue, dPSI, dDrifted, dMissing, dUnseen, dDataset, dShare, dPredDrift, dPredStat,
		dPredictions, dValues, dQuality, dQualityRef, dLabelled, dUnknown, dFiring, dFired}
)

// Describe sends every metric's description.
func (h *Hub) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect sends every model's counters and its latest evaluation.
func (h *Hub) Collect(ch chan<- prometheus.Metric) {
	for _, m := range h.Models() {
		m.collect(ch)
	}
}

func (m *Model) collect(ch chan<- prometheus.Metric) {
	l := []string{m.Name, m.Version}
	c := func(d *prometheus.Desc, v float64, extra ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, append(slices.Clip(l), extra...)...)
	}
	g := func(d *prometheus.Desc, v float64, extra ...string) {
		if math.IsNaN(v) {
			return
		}
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append(slices.Clip(l), extra...)...)
	}
	c(dObserved, float64(m.observed.Load()))
	c(dDropped, float64(m.dropped.Load()))
	s := m.snap.Load()
	m.cmu.Lock()
	c(dRequests, float64(m.requests))
	c(dRows, float64(m.rows))
	for reason, n := range m.errors {
		c(dErrors, float64(n), reason)
	}
	for i, n := range m.classCounts {
		c(dPredictions, float64(n), m.ref.Classes[i])
	}
	if m.ref.Classes == nil {
		ch <- m.valueHist.metric(dValues, l)
	}
	latCount, latSum := m.requests, m.latencySum
	m.cmu.Unlock()
	ch <- prometheus.MustNewConstSummary(dLatency, latCount, latSum,
		map[float64]float64{0.5: s.Latency.P50, 0.9: s.Latency.P90, 0.99: s.Latency.P99}, l...)
	g(dErrorRatio, s.ErrorRate)
	g(dWindowRows, float64(s.WindowRows))
	for i := range s.Features {
		f := &s.Features[i]
		if f.Method != "" {
			g(dStatistic, f.Statistic, f.Feature, f.Method)
		}
		if f.Method == "ks" || f.Method == "chisquare" {
			g(dPValue, f.PValue, f.Feature)
		}
		g(dPSI, f.PSI, f.Feature)
		g(dDrifted, b2f(f.Any()), f.Feature)
		g(dMissing, f.MissingRate, f.Feature)
		if f.Kind == "categorical" {
			g(dUnseen, f.UnseenRate, f.Feature)
		}
	}
	if s.Verdict && len(s.Features) > 0 {
		g(dDataset, b2f(s.Dataset.Dataset))
		g(dShare, s.Dataset.Share)
	}
	if p := s.Prediction; p != nil {
		g(dPredDrift, b2f(p.Drifted))
		g(dPredStat, p.Statistic, p.Method)
	}
	for k, v := range s.Quality.Metrics {
		g(dQuality, v, k)
	}
	for k, v := range s.Quality.Reference {
		g(dQualityRef, v, k)
	}
	c(dLabelled, float64(s.Quality.Labelled))
	c(dUnknown, float64(s.Quality.Unknown))
	for _, a := range s.Alerts {
		g(dFiring, b2f(a.State == "firing"), a.Name, a.Severity)
		c(dFired, float64(a.Fired), a.Name)
	}
}

// valueHistogram counts regression values in fixed buckets: 0 and ± each
// power of ten from 1e-3 to 1e6, wide enough for targets of any unit
// without knowing them in advance.
type valueHistogram struct {
	bounds []float64
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
	n      uint64
}

func newValueHistogram() valueHistogram {
	var b []float64
	for e := 6; e >= -3; e-- {
		b = append(b, -math.Pow(10, float64(e)))
	}
	b = append(b, 0)
	for e := -3; e <= 6; e++ {
		b = append(b, math.Pow(10, float64(e)))
	}
	return valueHistogram{bounds: b, counts: make([]uint64, len(b)+1)}
}

func (h *valueHistogram) observe(v float64) {
	if math.IsNaN(v) {
		return
	}
	i := sort.SearchFloat64s(h.bounds, v) // first bound >= v: le semantics
	h.counts[i]++
	h.sum += v
	h.n++
}

func (h *valueHistogram) metric(d *prometheus.Desc, labels []string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.bounds))
	var cum uint64
	for i, b := range h.bounds {
		cum += h.counts[i]
		buckets[b] = cum
	}
	return prometheus.MustNewConstHistogram(d, h.n, h.sum, buckets, labels...)
}
