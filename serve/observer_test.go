package serve

import (
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// chanObserver hands observations to the test.
type chanObserver chan *Observation

func (c chanObserver) Observe(o *Observation) { c <- o }

func nextObservation(t *testing.T, c chanObserver) *Observation {
	t.Helper()
	select {
	case o := <-c:
		return o
	case <-time.After(5 * time.Second):
		t.Fatal("no observation within 5 s")
	}
	return nil
}

// TestObserverRegistryRoutes checks the monitoring hook: every successful
// inference reaches the observer with its inputs and answer, the caller's
// registry holds the server's metrics, and extra routes are mounted
// behind the same authentication.
func TestObserverRegistryRoutes(t *testing.T) {
	obs := make(chanObserver, 16)
	reg := prometheus.NewRegistry()
	extra := prometheus.NewCounter(prometheus.CounterOpts{Name: "monitor_feedback_total", Help: "Feedback received."})
	reg.MustRegister(extra)
	ts := startServer(t, Options{Model: trainedIris(t), Observer: obs, Registry: reg, AuthToken: "s3cret",
		Routes: func(mux *http.ServeMux) {
			mux.HandleFunc("POST /v2/models/{model}/feedback", func(w http.ResponseWriter, r *http.Request) {
				extra.Inc()
				w.Write([]byte(`{"model":"` + r.PathValue("model") + `","request_id":"` + RequestID(r.Context()) + `"}`))
			})
		}})
	auth := map[string]string{"Authorization": "Bearer s3cret"}
	status, resp, _ := call(t, "POST", ts.url+"/v2/models/iris/infer",
		`{"id":"obs-1","inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[0.1,0.2,0.3,0.4,1,1,1,1]}],"outputs":[{"name":"label"}]}`, auth)
	if status != 200 {
		t.Fatalf("%d %v", status, resp)
	}
	o := nextObservation(t, obs)
	if o.Model != "iris" || o.Version != "1" || o.RequestID != "obs-1" || o.Protocol != "v2_http" || o.Rows() != 2 ||
		o.Row(1)[3] != 1 || o.Latency <= 0 || o.Result == nil || o.Result.N != 2 || len(o.Result.Probs) != 6 {
		t.Fatalf("V2 observation %+v", o)
	}
	if label := resp["outputs"].([]any)[0].(map[string]any)["data"].([]any)[1]; label != o.Result.Label(1) {
		t.Errorf("the observer saw %s, the client %v", o.Result.Label(1), label)
	}
	status, _, _ = call(t, "POST", ts.url+"/v1/models/iris:predict", `{"instances":[{"f0":5.1,"f1":3.5,"f2":1.4,"f3":0.2}]}`,
		map[string]string{"Authorization": "Bearer s3cret", "X-Request-Id": "v1-req"})
	if status != 200 {
		t.Fatal(status)
	}
	o = nextObservation(t, obs)
	if o.Protocol != "v1_http" || o.RequestID != "v1-req" || len(o.Records) != 1 || o.Records[0]["f0"] != 5.1 || o.Result.N != 1 {
		t.Fatalf("V1 observation %+v", o)
	}
	// A failed request is not observed.
	call(t, "POST", ts.url+"/v2/models/iris/infer", `{"inputs":[]}`, auth)
	select {
	case o := <-obs:
		t.Fatalf("a failed request was observed: %+v", o)
	case <-time.After(50 * time.Millisecond):
	}
	// Extra route, behind auth.
	if status, _, _ := call(t, "POST", ts.url+"/v2/models/iris/feedback", `{}`, nil); status != 401 {
		t.Errorf("extra route without a token: %d", status)
	}
	if status, body, _ := call(t, "POST", ts.url+"/v2/models/iris/feedback", `{}`, map[string]string{"Authorization": "Bearer s3cret", "X-Request-Id": "fb"}); status != 200 || body["request_id"] != "fb" {
		t.Errorf("extra route: %d %v", status, body)
	}
	if testutil.ToFloat64(extra) != 1 {
		t.Errorf("the extra route's counter is %v", testutil.ToFloat64(extra))
	}
	// The caller's registry serves /metrics, with the server's series.
	req, _ := http.NewRequest("GET", ts.url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	for _, want := range []string{"monitor_feedback_total 1", `shen_inference_requests_total{model="iris",protocol="v2_http",version="1"} 2`,
		`shen_inference_failures_total{model="iris",protocol="v2_http",reason="bad_request",version="1"} 1`, `shen_model_ready{model="iris",version="1"} 1`,
		"shen_inference_batch_size_bucket", "shen_inference_queue_duration_seconds_bucket"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestMetricsLint runs Prometheus' linter over the server's metrics after
// traffic on every protocol and a failure.
func TestMetricsLint(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := startServer(t, Options{Model: trainedIris(t), Registry: reg})
	call(t, "POST", ts.url+"/v2/models/iris/infer", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}`, nil)
	call(t, "POST", ts.url+"/v1/models/iris:predict", `{"instances":[{"f0":1,"f1":2,"f2":3,"f3":4}]}`, nil)
	call(t, "POST", ts.url+"/v2/models/nope/infer", `{}`, nil)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metric %s: %s", p.Metric, p.Text)
	}
	if n := testutil.ToFloat64(ts.metrics.failures.WithLabelValues("", "", "v2_http", "not_found")); n != 1 {
		t.Errorf("not_found failures: %v", n)
	}
}

// TestPromtoolCheckMetrics runs `promtool check metrics` (Prometheus'
// own linter) over a live server's /metrics after traffic.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian package prometheus); .ci/run installs it")
	}
	ts := startServer(t, Options{Model: trainedIris(t)})
	call(t, "POST", ts.url+"/v2/models/iris/infer", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}`, nil)
	call(t, "POST", ts.url+"/v2/models/iris/infer", `{"inputs":[]}`, nil)
	resp, err := http.Get(ts.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = resp.Body
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// blockingObserver holds Observe until released, like a monitor that
// fell behind.
type blockingObserver struct {
	entered chan struct{}
	release chan struct{}
	seen    chan string
}

func (b *blockingObserver) Observe(o *Observation) {
	b.entered <- struct{}{}
	<-b.release
	b.seen <- o.RequestID
}

// TestObserverBehindDropsAndCounts: a stuck observer never delays the
// caller; what does not fit the queue is dropped and counted, what fits
// is delivered in order, and panics in Observe are contained.
func TestObserverBehindDropsAndCounts(t *testing.T) {
	dropped := prometheus.NewCounter(prometheus.CounterOpts{Name: "dropped_total", Help: "x"})
	obs := &blockingObserver{entered: make(chan struct{}, 8), release: make(chan struct{}), seen: make(chan string, 8)}
	q := newObserverQueue(obs, 2, dropped, slogDiscard())
	start := time.Now()
	q.offer(&Observation{RequestID: "0"})
	<-obs.entered
	for i := 1; i < 5; i++ {
		q.offer(&Observation{RequestID: strconv.Itoa(i)})
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("offering to a stuck observer took %v", d)
	}
	// One is inside Observe, two wait, two were dropped.
	waitFor(t, "the drops to be counted", func() bool { return testutil.ToFloat64(dropped) == 2 })
	close(obs.release)
	q.close()
	close(obs.seen)
	var got []string
	for id := range obs.seen {
		got = append(got, id)
	}
	if strings.Join(got, ",") != "0,1,2" {
		t.Errorf("delivered %v, want 0,1,2 in order", got)
	}
	p := newObserverQueue(panicObserver{}, 1, dropped, slogDiscard())
	p.offer(&Observation{})
	p.close()
}

type panicObserver struct{}

func (panicObserver) Observe(*Observation) { panic("monitor bug") }

func slogDiscard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
