package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/monitor"
	"github.com/shenml/shen/monitor/monitorpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// TestBinaryMonitoring runs `shen serve --monitor` on an iris repository whose
// config.yaml has a monitoring: section, and checks the whole loop from
// outside: calm traffic raises nothing, shifted traffic flags the shifted
// features and fires DataDrift once (webhook received), calm traffic
// clears it, feedback moves the online accuracy on /metrics, the
// dashboard and the alerts endpoint answer, failing requests fire
// ErrorRate, and after SIGTERM the prediction log holds every answered
// request.
func TestBinaryMonitoringLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: trains iris and runs the binary")
	}
	var mu sync.Mutex
	var hooks []monitor.WebhookMessage
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m monitor.WebhookMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Errorf("webhook: %v", err)
		}
		mu.Lock()
		hooks = append(hooks, m)
		mu.Unlock()
	}))
	defer hook.Close()
	events := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, m := range hooks {
			for _, a := range m.Alerts {
				if a.Labels["alertname"] == "DataDrift" {
					out = append(out, a.Status)
				}
			}
		}
		return out
	}

	root := t.TempDir()
	copyArtifact(t, trainedIris(t), filepath.Join(root, "iris", "1"))
	logPath := filepath.Join(t.TempDir(), "iris.jsonl")
	writeFile(t, filepath.Join(root, "iris", "config.yaml"), fmt.Sprintf(`max_batch_size: 16
monitoring:
  window: {size: 60, min_rows: 30, evaluate_every: 60, evaluate_interval: 200ms}
  quality: {window: 50, min_rows: 20}
  webhooks: [{url: %q}]
  prediction_log: {path: %q}
`, hook.URL, logPath))
	p := startBinary(t, "--model-repository", root, "--monitor")
	base := "http://" + p.http
	waitReady(t, base)

	f, classes, err := data.ReadSklearnCSV(filepath.Join("..", "testdata", "configs", "iris.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	requests := 0
	labels := map[string][]any{}
	// send posts rows rows of iris (shifted: f0 + 3 and f2 × 3) as V1
	// records in requests of 5.
	send := func(prefix string, rows int, shifted bool) {
		for i := 0; i < rows; i += 5 {
			var inst []map[string]any
			var truth []any
			for range 5 {
				r := rng.IntN(f.NumRows())
				rec := map[string]any{}
				for j := range 4 {
					v := f.Col(fmt.Sprintf("f%d", j)).Num[r]
					if shifted && j == 0 {
						v += 3
					}
					if shifted && j == 2 {
						v *= 3
					}
					rec[fmt.Sprintf("f%d", j)] = v
				}
				inst = append(inst, rec)
				truth = append(truth, classes[int(f.Col("target").Num[r])])
			}
			body, _ := json.Marshal(map[string]any{"instances": inst})
			id := fmt.Sprintf("%s-%d", prefix, i/5)
			req, _ := http.NewRequest("POST", base+"/v1/models/iris:predict", bytes.NewReader(body))
			req.Header.Set("X-Request-Id", id)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("predict: %s %s; logs %v", resp.Status, b, p.logs)
			}
			labels[id] = truth
			requests++
		}
	}
	get := func(path string) string {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %s %s", path, resp.Status, b)
		}
		return string(b)
	}
	alert := func(name string) map[string]any {
		var a struct{ Alerts []map[string]any }
		json.Unmarshal([]byte(get("/v2/models/iris/alerts")), &a)
		for _, x := range a.Alerts {
			if x["name"] == name {
				return x
			}
		}
		return nil
	}
	wait := func(what string, cond func() bool) {
		t.Helper()
		for range 300 {
			if cond() {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("timed out waiting for %s", what)
	}

	send("calm", 180, false)
	wait("a drift verdict", func() bool { return strings.Contains(get("/metrics"), "shen_monitor_dataset_drift_share{") })
	if a := alert("DataDrift"); a == nil || a["state"] == "firing" {
		t.Fatalf("DataDrift on calm traffic: %v", a)
	}
	send("shifted", 120, true)
	wait("DataDrift to fire", func() bool { a := alert("DataDrift"); return a != nil && a["state"] == "firing" })
	metrics := get("/metrics")
	for _, want := range []string{`shen_monitor_feature_drifted{feature="f0",model="iris",version="1"} 1`, `shen_monitor_feature_drifted{feature="f2",model="iris",version="1"} 1`,
		`shen_monitor_alert_firing{alert="DataDrift",model="iris",severity="warning",version="1"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	send("calm-again", 180, false)
	wait("DataDrift to clear", func() bool { return alert("DataDrift")["state"] == "inactive" })
	wait("the webhooks", func() bool { return len(events()) >= 2 })
	if got := events(); strings.Join(got, ",") != "firing,resolved" {
		t.Errorf("webhook got DataDrift %v, want firing then resolved", got)
	}

	// Feedback: true labels for the calm requests, half over HTTP, half
	// over the gRPC twin (shen.monitor.v1.ModelMonitorService).
	conn, err := grpc.NewClient(p.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fb := monitorpb.NewModelMonitorServiceClient(conn)
	n := 0
	for id, l := range labels {
		if !strings.HasPrefix(id, "calm-again") {
			continue
		}
		if n%2 == 1 {
			item := &monitorpb.FeedbackItem{RequestId: id}
			for _, v := range l {
				item.Labels = append(item.Labels, fmt.Sprint(v))
			}
			if r, err := fb.ModelFeedback(context.Background(), &monitorpb.ModelFeedbackRequest{ModelName: "iris", Feedback: []*monitorpb.FeedbackItem{item}}); err != nil || r.Joined != int64(len(l)) {
				t.Fatalf("gRPC feedback %s: %v, %v", id, r, err)
			}
			n++
			continue
		}
		body, _ := json.Marshal(map[string]any{"request_id": id, "labels": l})
		resp, err := http.Post(base+"/v2/models/iris/feedback", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("feedback %s: %s %s", id, resp.Status, b)
		}
		n++
	}
	wait("online accuracy on /metrics", func() bool {
		return strings.Contains(get("/metrics"), `shen_monitor_quality{metric="accuracy",model="iris",version="1"}`)
	})
	if !strings.Contains(get("/"), "Shen monitoring") || !strings.Contains(get("/monitor/api/models"), `"model":"iris"`) {
		t.Error("dashboard or its feed missing")
	}

	// Failing requests: the error-rate alert reads the server's own
	// failure counter (the monitor never sees failed requests).
	for i := range 30 {
		req, _ := http.NewRequest("POST", base+"/v1/models/iris:predict", strings.NewReader(`{"instances":[7]}`))
		req.Header.Set("X-Request-Id", fmt.Sprint("bad-", i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Fatalf("a bad instance: %s", resp.Status)
		}
	}
	wait("ErrorRate to fire", func() bool { a := alert("ErrorRate"); return a != nil && a["state"] == "firing" })

	// SIGTERM: the server drains, the monitor flushes the prediction log.
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	lf, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	lines := 0
	sc := bufio.NewScanner(lf)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l monitor.LogLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.Model != "iris" || l.Rows != 5 || len(l.Class) != 5 {
			t.Fatalf("log line %s: %v", sc.Text(), err)
		}
		lines++
	}
	if lines != requests {
		t.Errorf("prediction log holds %d lines for %d requests", lines, requests)
	}
	t.Logf("%d requests, %d feedback, webhooks %v", requests, n, events())
}
