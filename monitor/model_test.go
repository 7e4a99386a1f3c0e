package monitor

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// receiver is a webhook endpoint on 127.0.0.1 that keeps what it gets.
type receiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	msgs []WebhookMessage
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var m WebhookMessage
		b, _ := io.ReadAll(req.Body)
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("webhook body %s: %v", b, err)
		}
		r.mu.Lock()
		r.msgs = append(r.msgs, m)
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// events lists "alertname status" of the messages received, in order.
func (r *receiver) events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.msgs {
		for _, a := range m.Alerts {
			out = append(out, a.Labels["alertname"]+" "+a.Status)
		}
	}
	return out
}

// waitFor polls until cond holds or 5 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func testConfig(hook string) Config {
	c := DefaultConfig()
	c.Window = WindowConfig{Size: 300, MinRows: 30, EvaluateEvery: 100}
	if hook != "" {
		c.Webhooks = []Webhook{{URL: hook}}
	}
	return c
}

// send observes rows in requests of 10 rows, ids prefix-0, prefix-1, ...,
// and returns the requests' rows by id.
func send(t *testing.T, m *Model, rng *rand.Rand, tr traffic, rows int, prefix string) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	for i := 0; i < rows; i += 10 {
		recs := tr.rows(rng, 10)
		id := fmt.Sprintf("%s-%d", prefix, i/10)
		out[id] = recs
		for !m.Observe(Observation{RequestID: id, Rows: len(recs), Records: recs, Class: toyPredict(recs), Latency: time.Millisecond}) {
			m.Flush() // the queue is full: let the monitor catch up (a server would drop)
		}
	}
	m.Flush()
	return out
}

func state(m *Model, alert string) Alert {
	for _, a := range m.Alerts() {
		if a.Name == alert {
			return a
		}
	}
	return Alert{}
}

func TestDriftAlertFiresOnceAndClears(t *testing.T) {
	spec, prof := testArtifact()
	hook := newReceiver(t)
	cfg := testConfig(hook.srv.URL)
	zero := 0.0
	cfg.Alerts = append(DefaultRules(cfg.Drift), Rule{Name: "CatDrift", Metric: "feature_drift:cat", Op: ">=", Threshold: 1, Clear: &zero, For: 2})
	m, err := NewModel("toy", "1", spec, prof, cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rng := rand.New(rand.NewPCG(5, 6))

	send(t, m, rng, traffic{}, 1500, "calm") // 5 windows: the prediction reference
	s := m.Snapshot()
	if s.Dataset.Dataset || s.Prediction == nil || s.Prediction.Drifted {
		t.Fatalf("in-distribution traffic: dataset drift %v, prediction %+v%s", s.Dataset.Dataset, s.Prediction, describe(s.Features))
	}
	for _, a := range m.Alerts() {
		if a.State == "firing" {
			t.Errorf("in-distribution traffic fired %s (value %v)", a.Name, a.Value)
		}
	}

	// Two fresh windows of 300 shifted rows in a row fire DataDrift.
	send(t, m, rng, traffic{shift: 1, scale: 1.5, missing: 0.4, newCat: 0.3}, 600, "shifted")
	s = m.Snapshot()
	if got := slices.Sorted(func(yield func(string) bool) {
		for f := range drifted(s.Features) {
			if !yield(f) {
				return
			}
		}
	}); !slices.Equal(got, []string{"cat", "x1", "x2", "x3"}) {
		t.Errorf("shifted traffic: drifted %v%s", got, describe(s.Features))
	}
	if a := state(m, "DataDrift"); a.State != "firing" || a.Fired != 1 {
		t.Errorf("DataDrift after shifted traffic: %+v", a)
	}
	if a := state(m, "PredictionDrift"); a.State != "firing" {
		t.Errorf("PredictionDrift after x1 shifted (predictions mostly yes): %+v", a)
	}
	if a := state(m, "CatDrift"); a.State != "firing" {
		t.Errorf("CatDrift (feature_drift:cat) after a new category: %+v", a)
	}

	send(t, m, rng, traffic{}, 900, "calm-again")
	if a := state(m, "DataDrift"); a.State != "inactive" || a.Fired != 1 {
		t.Errorf("DataDrift after calm traffic: %+v", a)
	}
	want := []string{"DataDrift firing", "DataDrift resolved"}
	waitFor(t, "webhooks", func() bool {
		return len(filter(hook.events(), "DataDrift")) >= 2
	})
	if got := filter(hook.events(), "DataDrift"); !slices.Equal(got, want) {
		t.Errorf("webhook got %v, want %v", got, want)
	}
	hook.mu.Lock()
	for _, msg := range hook.msgs {
		a := msg.Alerts[0]
		if msg.Version != "4" || msg.Status != a.Status || a.Labels["model"] != "toy" || a.Labels["version"] != "1" || a.StartsAt.IsZero() || a.Fingerprint == "" {
			t.Errorf("webhook message %+v", msg)
		}
		if a.Status == "resolved" && !a.EndsAt.After(a.StartsAt) {
			t.Errorf("resolved alert ends %v before it starts %v", a.EndsAt, a.StartsAt)
		}
	}
	hook.mu.Unlock()
}

func filter(events []string, alert string) []string {
	var out []string
	for _, e := range events {
		if len(e) > len(alert) && e[:len(alert)+1] == alert+" " {
			out = append(out, e)
		}
	}
	return out
}

func TestFeedbackMovesQuality(t *testing.T) {
	spec, prof := testArtifact()
	m, err := NewModel("toy", "1", spec, prof, testConfig(""), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rng := rand.New(rand.NewPCG(8, 9))
	reqs := send(t, m, rng, traffic{}, 400, "r")
	ids := slices.Sorted(func(yield func(string) bool) {
		for id := range reqs {
			if !yield(id) {
				return
			}
		}
	})
	// True labels for the first half: accuracy near the validation 0.9.
	for _, id := range ids[:20] {
		labels := make([]any, 0, 10)
		for _, r := range reqs[id] {
			labels = append(labels, truth(rng, r))
		}
		if n, err := m.Feedback(id, labels); err != nil || n != 10 {
			t.Fatalf("feedback %s: %d rows, %v", id, n, err)
		}
	}
	q := m.Snapshot().Quality
	if acc := q.Metrics["accuracy"]; acc < 0.8 || q.Rows != 200 || q.Reference["accuracy"] != 0.9 {
		t.Fatalf("quality after true labels: %+v", q)
	}
	if a := state(m, "QualityDrop"); a.State != "inactive" {
		t.Errorf("QualityDrop with good feedback: %+v", a)
	}
	// Wrong labels for the rest: the window of 200 is then all wrong.
	for _, id := range ids[20:] {
		labels := make([]any, 0, 10)
		for _, c := range toyPredict(reqs[id]) {
			labels = append(labels, spec.Labels[1-c])
		}
		if _, err := m.Feedback(id, labels); err != nil {
			t.Fatal(err)
		}
	}
	q = m.Snapshot().Quality
	if q.Metrics["accuracy"] != 0 {
		t.Errorf("accuracy after wrong labels: %v", q.Metrics)
	}
	if a := state(m, "QualityDrop"); a.State != "firing" || a.Fired != 1 {
		t.Errorf("QualityDrop after bad feedback: %+v", a)
	}
	if _, err := m.Feedback("r-0", []any{"yes"}); err == nil {
		t.Error("second feedback for one request: no error")
	}
	if _, err := m.Feedback("nope", []any{"yes"}); err == nil {
		t.Error("unknown request: no error")
	}
	if _, err := m.Feedback(ids[0], []any{"maybe"}); err == nil {
		t.Error("unknown class: no error")
	}
}

func TestErrorRateAndLatencyAlerts(t *testing.T) {
	spec, prof := testArtifact()
	m, err := NewModel("toy", "1", spec, prof, testConfig(""), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range 300 {
		recs := traffic{}.rows(rng, 1)
		o := Observation{RequestID: fmt.Sprint(i), Rows: 1, Records: recs, Class: toyPredict(recs), Latency: 2 * time.Second}
		if i%5 == 0 {
			o = Observation{RequestID: fmt.Sprint(i), Err: "timeout", Latency: 2 * time.Second}
		}
		m.Observe(o)
	}
	m.Flush()
	s := m.Snapshot()
	if s.ErrorRate != 0.2 || s.Errors != 60 || s.Latency.P99 != 2 {
		t.Errorf("error rate %v errors %d p99 %v", s.ErrorRate, s.Errors, s.Latency.P99)
	}
	for _, name := range []string{"ErrorRate", "LatencyHigh"} {
		if a := state(m, name); a.State != "firing" {
			t.Errorf("%s: %+v", name, a)
		}
	}
}

// TestCalmStreamRaisesNoDriftAlert runs 30000 in-distribution rows (100
// fresh windows of 300): DataDrift needs two disjoint windows with half
// the features drifted (about (6·0.05²)² per pair) and must stay silent;
// PredictionDrift (one test, about 0.05² per pair, so a 22% chance of one
// firing over 100 windows) may fire at most once.
func TestCalmStreamRaisesNoDriftAlert(t *testing.T) {
	spec, prof := testArtifact()
	m, err := NewModel("toy", "1", spec, prof, testConfig(""), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rng := rand.New(rand.NewPCG(21, 22))
	send(t, m, rng, traffic{}, 30000, "calm")
	if a := state(m, "DataDrift"); a.Fired != 0 {
		t.Errorf("DataDrift fired on calm traffic: %+v", a)
	}
	if a := state(m, "PredictionDrift"); a.Fired > 1 {
		t.Errorf("PredictionDrift fired %d times on calm traffic", a.Fired)
	}
}

// TestTimeWindowKeepsOnlyRecentRows: with a period, rows older than it
// leave the window even when it has room.
func TestTimeWindowKeepsOnlyRecentRows(t *testing.T) {
	spec, prof := testArtifact()
	c := testConfig("")
	c.Window = WindowConfig{Size: 1000, Period: time.Minute, MinRows: 30, EvaluateEvery: 100}
	m, err := NewModel("toy", "1", spec, prof, c, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rng := rand.New(rand.NewPCG(2, 3))
	old := time.Now().Add(-time.Hour)
	shifted := traffic{shift: 2}.rows(rng, 300)
	m.Observe(Observation{Time: old, Rows: 300, Records: shifted, Class: toyPredict(shifted)})
	calm := traffic{}.rows(rng, 200)
	m.Observe(Observation{Rows: 200, Records: calm, Class: toyPredict(calm)})
	m.Flush()
	s := m.Snapshot()
	if s.WindowRows != 200 || drifted(s.Features)["x1"] {
		t.Errorf("window of the last minute: %d rows, drifted %v", s.WindowRows, drifted(s.Features))
	}
}

func TestHubPicksHighestVersion(t *testing.T) {
	hub, _ := NewHub(nil)
	spec, prof := testArtifact()
	for _, v := range []string{"2", "10", "9"} {
		m, err := NewModel("toy", v, spec, prof, testConfig(""), Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		hub.Add(m)
	}
	defer hub.Close()
	if m := hub.Get("toy", ""); m == nil || m.Version != "10" {
		t.Errorf("latest: %v", m)
	}
	hub.Remove("toy", "10")
	if m := hub.Get("toy", ""); m == nil || m.Version != "9" || len(hub.Models()) != 2 {
		t.Errorf("after removing 10: %v, %d models", m, len(hub.Models()))
	}
	if hub.Get("other", "") != nil {
		t.Error("unknown model found")
	}
}

// TestPreparedTableRowsCountOnlyTheirAnswers: a table model's V2 rows
// arrive preprocessed, not as the raw columns the profile describes; they
// must not read as missing values (no false drift), while their
// predictions still count.
func TestPreparedTableRowsCountOnlyTheirAnswers(t *testing.T) {
	spec, prof := testArtifact()
	m, err := NewModel("toy", "1", spec, prof, testConfig(""), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for i := range 400 {
		m.Observe(Observation{RequestID: fmt.Sprint(i), Rows: 1, Inputs: []float32{0.1, -0.3, 1, 0, 0, 1}, Class: []int{i % 2}})
	}
	m.Flush()
	s := m.Snapshot()
	if len(s.Features) != 0 || s.Dataset.Dataset || s.Rows != 400 || s.Classes[1].Count != 200 {
		t.Errorf("features %v, dataset %+v, rows %d, classes %v", describe(s.Features), s.Dataset, s.Rows, s.Classes)
	}
	if a := state(m, "DataDrift"); a.State != "inactive" {
		t.Errorf("DataDrift: %+v", a)
	}
}
