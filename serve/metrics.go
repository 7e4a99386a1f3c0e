package serve

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are one server's Prometheus series, on the server's own registry
// (never the process default), so a process may run many servers.
//
//	shen_inference_requests_total{model,version,protocol}
//	shen_inference_failures_total{model,version,protocol,reason}
//	shen_inference_request_duration_seconds{model,version,protocol}  whole request
//	shen_inference_queue_duration_seconds{model,version}             waiting for a batch
//	shen_inference_compute_duration_seconds{model,version}           the batch's Forward
//	shen_inference_batch_size{model,version}                         rows per Forward, per request
//	shen_inference_in_flight_requests{protocol}
//	shen_inference_queue_depth{model,version}
//	shen_model_ready{model,version}                                  1 served, 0 not
//	shen_model_load_failures_total{model}
//	shen_observer_dropped_total                                      observations dropped (observer behind)
//
// protocol is "v2_http", "v2_grpc" or "v1_http"; reason is one of
// "bad_request", "not_found", "queue_full", "cancelled", "deadline",
// "unavailable", "internal".
type metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	failures     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	queue        *prometheus.HistogramVec
	compute      *prometheus.HistogramVec
	batch        *prometheus.HistogramVec
	inFlight     *prometheus.GaugeVec
	queueDepth   *prometheus.GaugeVec
	ready        *prometheus.GaugeVec
	loadFailures *prometheus.CounterVec
	dropped      prometheus.Counter
}

// latencyBuckets reach from 25 µs (a small MLP's in-process forward) to 10 s.
var latencyBuckets = prometheus.ExponentialBucketsRange(25e-6, 10, 20)

func newMetrics(reg *prometheus.Registry) *metrics {
	mv := []string{"model", "version"}
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shen_inference_requests_total", Help: "Inference requests received, by model, version and protocol.",
		}, []string{"model", "version", "protocol"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shen_inference_failures_total", Help: "Inference requests that failed, by model, version, protocol and reason.",
		}, []string{"model", "version", "protocol", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "shen_inference_request_duration_seconds", Help: "Time from a request's arrival to its answer being encoded.", Buckets: latencyBuckets,
		}, []string{"model", "version", "protocol"}),
		queue: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "shen_inference_queue_duration_seconds", Help: "Time a request waited in its model's queue for a batch.", Buckets: latencyBuckets,
		}, mv),
		compute: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "shen_inference_compute_duration_seconds", Help: "Forward time of the batch a request ran in.", Buckets: latencyBuckets,
		}, mv),
		batch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "shen_inference_batch_size", Help: "Rows in the batch a request ran in.", Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}, mv),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shen_inference_in_flight_requests", Help: "Inference requests being served now.",
		}, []string{"protocol"}),
		queueDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shen_inference_queue_depth", Help: "Requests waiting in a model version's queue.",
		}, mv),
		ready: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shen_model_ready", Help: "1 while a model version is loaded and served, 0 once it is not.",
		}, mv),
		loadFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shen_model_load_failures_total", Help: "Model version loads that failed (the working version, if any, kept serving).",
		}, []string{"model"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shen_observer_dropped_total", Help: "Observations dropped because the observer fell behind.",
		}),
	}
	reg.MustRegister(m.requests, m.failures, m.latency, m.queue, m.compute, m.batch,
		m.inFlight, m.queueDepth, m.ready, m.loadFailures, m.dropped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// versionMetrics are one model version's series, resolved once so the
// request path does no label lookups.
type versionMetrics struct {
	queue, compute, batch prometheus.Observer
	latency               [protocols]prometheus.Observer
	counts                [protocols]prometheus.Counter
	depth                 prometheus.Gauge
}

// protocol indexes the per-protocol series.
type protocol int

const (
	protoV2HTTP protocol = iota
	protoV2GRPC
	protoV1HTTP
	protocols
)

var protocolNames = [protocols]string{"v2_http", "v2_grpc", "v1_http"}

func (p protocol) String() string { return protocolNames[p] }

func (m *metrics) forVersion(model, version string) *versionMetrics {
	vm := &versionMetrics{
		queue:   m.queue.WithLabelValues(model, version),
		compute: m.compute.WithLabelValues(model, version),
		batch:   m.batch.WithLabelValues(model, version),
		depth:   m.queueDepth.WithLabelValues(model, version),
	}
	for p := range protocols {
		vm.counts[p] = m.requests.WithLabelValues(model, version, p.String())
		vm.latency[p] = m.latency.WithLabelValues(model, version, p.String())
	}
	return vm
}

// observe records one served request.
func (vm *versionMetrics) observe(p protocol, j *job, total time.Duration) {
	vm.counts[p].Inc()
	vm.latency[p].Observe(total.Seconds())
	vm.queue.Observe(j.queued.Seconds())
	vm.compute.Observe(j.compute.Seconds())
	vm.batch.Observe(float64(j.batch))
}

// fail records a failed request; model and version may be empty when the
// request named no model that exists.
func (m *metrics) fail(p protocol, model, version, reason string) {
	m.requests.WithLabelValues(model, version, p.String()).Inc()
	m.failures.WithLabelValues(model, version, p.String(), reason).Inc()
}
