package monitor

import (
	"context"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shenml/shen/predict"
)

func TestWatchServerMetricsFeedsErrorAndLatencyAlerts(t *testing.T) {
	reg := prometheus.NewRegistry()
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "srv_requests_total", Help: "r"}, []string{"model", "version", "protocol"})
	fails := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "srv_failures_total", Help: "f"}, []string{"model", "version", "protocol", "reason"})
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "srv_seconds", Help: "l", Buckets: []float64{0.01, 0.1, 1, 10}}, []string{"model", "version", "protocol"})
	reg.MustRegister(reqs, fails, lat)
	hub, _ := NewHub(reg)
	spec, prof := testArtifact()
	m, err := NewModel("toy", "1", spec, prof, testConfig(""), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	hub.Add(m)
	defer hub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go hub.WatchServerMetrics(ctx, reg, ServerMetricNames{Requests: "srv_requests_total", Failures: "srv_failures_total", Latency: "srv_seconds"}, 20*time.Millisecond)
	for i := range 100 {
		p := []string{"v2_http", "v2_grpc"}[i%2]
		reqs.WithLabelValues("toy", "1", p).Inc()
		lat.WithLabelValues("toy", "1", p).Observe(5) // in (1, 10]
		if i%4 == 0 {
			fails.WithLabelValues("toy", "1", p, "timeout").Inc()
		}
	}
	waitFor(t, "server stats", func() bool { return m.server.Load() != nil && m.server.Load().Requests == 100 })
	m.Observe(Observation{RequestID: "x", Rows: 1, Class: []int{0}})
	m.Flush()
	s := m.Snapshot()
	if s.ErrorRate != 0.25 || s.Server == nil || s.Server.Failures != 25 || math.Abs(s.Latency.P50-5.5) > 1e-9 || math.Abs(s.Latency.P99-9.91) > 1e-9 {
		t.Errorf("error rate %v errors %d latency %+v", s.ErrorRate, s.Errors, s.Latency)
	}
	for _, name := range []string{"ErrorRate", "LatencyHigh"} {
		if a := state(m, name); a.State == "inactive" {
			t.Errorf("%s: %+v", name, a)
		}
	}
}

func TestObservationOf(t *testing.T) {
	r := &predict.Result{N: 2, Classes: []string{"a", "b"}, Class: []int{1, 0}, Outputs: 2}
	o := ObservationOf("id", time.Time{}, nil, []float32{1, 2}, r)
	if o.Rows != 2 || o.Class[0] != 1 || o.RequestID != "id" {
		t.Errorf("%+v", o)
	}
	r = &predict.Result{N: 1, Values: []float32{3.5}, Outputs: 1}
	if o := ObservationOf("id", time.Time{}, nil, nil, r); o.Class != nil || o.Values[0] != 3.5 {
		t.Errorf("%+v", o)
	}
}
