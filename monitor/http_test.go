package monitor

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// testServer is a hub with the toy model behind /metrics and Routes.
func testServer(t *testing.T, cfg Config) (*httptest.Server, *Model, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	hub, err := NewHub(reg)
	if err != nil {
		t.Fatal(err)
	}
	spec, prof := testArtifact()
	m, err := NewModel("toy", "1", spec, prof, cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	hub.Add(m)
	mux := http.NewServeMux()
	hub.Routes(mux)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); hub.Close() })
	return srv, m, reg
}

func TestMetricsFollowPrometheusConventions(t *testing.T) {
	_, m, reg := testServer(t, testConfig(""))
	rng := rand.New(rand.NewPCG(1, 2))
	send(t, m, rng, traffic{newCat: 0.2}, 1600, "r")
	m.Observe(Observation{Err: "bad_request", Latency: time.Millisecond})
	m.Flush()
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	want := `
# HELP shen_monitor_request_errors_total Failed requests by reason.
# TYPE shen_monitor_request_errors_total counter
shen_monitor_request_errors_total{model="toy",reason="bad_request",version="1"} 1
# HELP shen_monitor_rows_total Rows answered.
# TYPE shen_monitor_rows_total counter
shen_monitor_rows_total{model="toy",version="1"} 1600
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "shen_monitor_rows_total", "shen_monitor_request_errors_total"); err != nil {
		t.Error(err)
	}
	n, err := testutil.GatherAndCount(reg, "shen_monitor_feature_drifted", "shen_monitor_predictions_total", "shen_monitor_alert_firing", "shen_monitor_feature_unseen_ratio")
	if err != nil || n != 4+2+5+1 {
		t.Errorf("feature, class, alert and unseen series: %d (%v), want 12", n, err)
	}
	s := m.Snapshot()
	for _, f := range s.Features {
		if f.Feature == "cat" && (!f.UnseenDrifted || f.UnseenRate < 0.1) {
			t.Errorf("cat with 20%% new category: %+v", f)
		}
	}
}

func TestRegressorValueHistogram(t *testing.T) {
	spec, prof := testArtifact()
	spec.Task, spec.Labels = "regression", nil
	spec.Training.Metrics = map[string]float64{"val_rmse": 1, "val_mae": 0.8}
	reg := prometheus.NewRegistry()
	hub, _ := NewHub(reg)
	m, err := NewModel("reg", "3", spec, prof, testConfig(""), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	hub.Add(m)
	defer hub.Close()
	rng := rand.New(rand.NewPCG(4, 4))
	for i := range 1600 {
		recs := traffic{}.rows(rng, 1)
		v := float32(recs[0]["x1"].(float64) * 100)
		m.Observe(Observation{RequestID: string(rune('a'+i%26)) + string(rune('0'+i/26%10)) + string(rune(i)), Rows: 1, Records: recs, Values: []float32{v}, Outputs: 1})
	}
	m.Flush()
	if p := m.Snapshot().Prediction; p == nil || p.Method != "ks" || p.Drifted {
		t.Errorf("regression prediction drift against its learnt baseline: %+v", p)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
	if n, _ := testutil.GatherAndCount(reg, "shen_monitor_prediction_value"); n != 1 {
		t.Errorf("value histogram series: %d", n)
	}
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestFeedbackAndAlertsEndpoints(t *testing.T) {
	srv, m, _ := testServer(t, testConfig(""))
	recs := traffic{}.rows(rand.New(rand.NewPCG(1, 1)), 3)
	m.Observe(Observation{RequestID: "req-1", Rows: 3, Records: recs, Class: []int{0, 1, 1}})
	m.Observe(Observation{RequestID: "req-2", Rows: 3, Records: recs, Class: []int{0, 1, 1}})
	m.Flush()
	cases := []struct {
		url, body string
		status    int
		want      string
	}{
		{"/v2/models/toy/feedback", `{"request_id": "req-1", "labels": ["no", "yes", 0]}`, 200, `"joined":3`},
		{"/v2/models/toy/versions/1/feedback", `{"feedback": [{"request_id": "req-2", "labels": ["no", "no", "no"]}, {"request_id": "gone", "labels": ["no"]}]}`, 200, `"unknown":["gone"]`},
		{"/v2/models/toy/feedback", `{"request_id": "gone", "labels": ["no"]}`, 404, `"unknown":["gone"]`},
		{"/v2/models/toy/feedback", `{"request_id": "req-1", "label": "no"}`, 400, `unknown field \"label\"`},
		{"/v2/models/toy/feedback", `{}`, 400, `want {`},
		{"/v2/models/toy/feedback", `[1,2]`, 400, `feedback body`},
		{"/v2/models/other/feedback", `{"request_id": "x", "labels": [1]}`, 404, `model \"other\" is not monitored`},
		{"/v2/models/toy/versions/9/feedback", `{"request_id": "x", "labels": [1]}`, 404, `version \"9\"`},
	}
	for _, c := range cases {
		status, body := post(t, srv.URL+c.url, c.body)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("POST %s %s: %d %s, want %d with %s", c.url, c.body, status, body, c.status, c.want)
		}
	}
	resp, err := http.Get(srv.URL + "/v2/models/toy/alerts")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Model  string
		Alerts []map[string]any
	}
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if got.Model != "toy" || len(got.Alerts) != 5 || got.Alerts[0]["name"] != "DataDrift" || got.Alerts[0]["state"] != "inactive" {
		t.Errorf("alerts: %+v", got)
	}
	for _, path := range []string{"/v2/models/toy/monitor", "/monitor/api/models", "/", "/monitor/static/dashboard.js"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(b) == 0 {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
		}
	}
}

// FuzzFeedbackBody feeds the feedback endpoint arbitrary bodies: it must
// answer 200, 400 or 404 with a JSON body, never fail otherwise.
func FuzzFeedbackBody(f *testing.F) {
	for _, s := range []string{`{"request_id": "req-1", "labels": ["no"]}`, `{"feedback": [{"request_id": "req-1", "labels": [1.5, null, true]}]}`,
		`{"request_id": "", "labels": []}`, `{"labels": [{"a": 1}]}`, `nul`, `{"feedback": null}`} {
		f.Add(s)
	}
	spec, prof := testArtifact()
	hub, _ := NewHub(nil)
	m, err := NewModel("toy", "1", spec, prof, testConfig(""), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	hub.Add(m)
	defer hub.Close()
	mux := http.NewServeMux()
	hub.Routes(mux)
	f.Fuzz(func(t *testing.T, body string) {
		m.Observe(Observation{RequestID: "req-1", Rows: 1, Class: []int{1}})
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("POST", "/v2/models/toy/feedback", bytes.NewBufferString(body)))
		if rec.Code != 200 && rec.Code != 400 && rec.Code != 404 {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("answer %q is not JSON", rec.Body.String())
		}
	})
}
