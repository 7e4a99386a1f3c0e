package monitor

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// readLog returns the request ids in the log and its rotated files.
func readLog(t *testing.T, path string, files int) map[string]int {
	t.Helper()
	ids := map[string]int{}
	for i := files; i >= 0; i-- {
		p := path
		if i > 0 {
			p = fmt.Sprintf("%s.%d", path, i)
		}
		f, err := os.Open(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var l LogLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("%s: line %q: %v", p, sc.Text(), err)
			}
			if l.Model != "toy" || l.Version != "1" || l.Rows != len(l.Records) || len(l.Class) != l.Rows {
				t.Fatalf("%s: line %+v", p, l)
			}
			ids[l.RequestID]++
		}
		f.Close()
	}
	return ids
}

// TestPredictionLogKeepsEveryAcceptedLine observes from many goroutines
// with a small queue, closes, and finds exactly the accepted requests in
// the log and its rotated files.
func TestPredictionLogKeepsEveryAcceptedLine(t *testing.T) {
	spec, prof := testArtifact()
	path := filepath.Join(t.TempDir(), "pred.jsonl")
	cfg := testConfig("")
	cfg.Queue = 64
	cfg.PredictionLog = LogConfig{Path: path, MaxBytes: 8 << 10, MaxFiles: 1000, SampleRate: 1}
	m, err := NewModel("toy", "1", spec, prof, cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	accepted := map[string]bool{}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for i := range 500 {
				recs := traffic{missing: 0.1}.rows(rng, 3)
				id := fmt.Sprintf("g%d-%d", g, i)
				if m.Observe(Observation{RequestID: id, Rows: 3, Records: recs, Class: toyPredict(recs)}) {
					mu.Lock()
					accepted[id] = true
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if m.Observe(Observation{RequestID: "late", Rows: 1}) {
		t.Error("Observe after Close accepted")
	}
	logged := readLog(t, path, 1000)
	if len(logged) != len(accepted) {
		t.Errorf("%d lines logged, %d accepted (%d dropped)", len(logged), len(accepted), m.dropped.Load())
	}
	for id := range accepted {
		if logged[id] != 1 {
			t.Errorf("request %s logged %d times", id, logged[id])
		}
	}
	rotated, _ := filepath.Glob(path + ".*")
	if len(rotated) == 0 {
		t.Error("no rotation past 8 KiB")
	}
	for _, p := range append(rotated, path) {
		if st, _ := os.Stat(p); st.Size() > 8<<10+4096 {
			t.Errorf("%s holds %d bytes, past max_bytes", p, st.Size())
		}
	}
	t.Logf("%d accepted, %d dropped, %d files", len(accepted), m.dropped.Load(), len(rotated)+1)
}

func TestPredictionLogRotationKeepsMaxFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.jsonl")
	l, err := OpenPredictionLog(LogConfig{Path: path, MaxBytes: 1024, MaxFiles: 2, SampleRate: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if err := l.Write("toy", "1", testTime, Observation{RequestID: fmt.Sprint(i), Rows: 1, Inputs: []float32{1, 2, 3}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(path + "*")
	if len(files) != 3 {
		t.Errorf("files %v, want the log and 2 rotated", files)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `"request_id":"199"`) {
		t.Errorf("the live file lacks the last line: %s", b)
	}
}

func TestParseConfig(t *testing.T) {
	good := `
max_batch_size: 8
monitoring:
  window: {size: 200, period: 5m, min_rows: 20, evaluate_every: 50, evaluate_interval: 2s}
  drift: {p_value: 0.01, numeric_method: psi}
  alerts:
    - {name: Acc, metric: accuracy, op: "<", threshold: 0.8, clear: 0.85, for: 2}
  webhooks: [{url: "http://127.0.0.1:9/hook"}]
  prediction_log: {path: /tmp/x.jsonl, sample_rate: 0.5}
`
	c, err := ParseConfig([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Window.Size != 200 || c.Window.Period.Minutes() != 5 || c.Window.EvaluateInterval.Seconds() != 2 || c.Drift.PValue != 0.01 ||
		c.Drift.Wasserstein != 0.1 || c.Drift.NumericMethod != "psi" || len(c.Alerts) != 1 || *c.Alerts[0].Clear != 0.85 || c.PredictionLog.MaxBytes != 64<<20 {
		t.Errorf("parsed %+v", c)
	}
	if c, err := ParseConfig([]byte("max_batch_size: 8\n")); err != nil || c.Window.Size != 500 {
		t.Errorf("no section: %+v %v", c, err)
	}
	for _, bad := range []struct{ yaml, want string }{
		{"monitoring:\n  window: {size: 0}\n", "window.size"},
		{"monitoring:\n  windw: {}\n", "unknown field"},
		{"monitoring:\n  drift: {p_value: 2}\n", "p_value"},
		{"monitoring:\n  drift: {numeric_method: t}\n", "numeric_method"},
		{"monitoring:\n  alerts: [{name: A, metric: nope, op: '>'}]\n", "alerts[0]: metric"},
		{"monitoring:\n  alerts: [{name: A, metric: 'feature_drift:', op: '>'}]\n", "alerts[0]: metric"},
		{"monitoring:\n  alerts: [{name: A, metric: accuracy, op: '<', threshold: 0.8, clear: 0.7}]\n", "firing side"},
		{"monitoring:\n  alerts: [{name: A, metric: accuracy, op: '<'}, {name: A, metric: f1, op: '<'}]\n", "used twice"},
		{"monitoring:\n  webhooks: [{url: ''}]\n", "webhooks[0]"},
		{"monitoring:\n  window: {period: soon}\n", "invalid duration"},
		{"monitoring: [1\n", ""},
	} {
		if _, err := ParseConfig([]byte(bad.yaml)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: error %v, want one naming %q", bad.yaml, err, bad.want)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add("monitoring:\n  window: {size: 10, min_rows: 5}\n")
	f.Add("monitoring:\n  alerts: [{name: A, metric: accuracy, op: '<', threshold: 0.5}]\n")
	f.Add("monitoring: {queue: -1}")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseConfig([]byte(s))
		if err == nil {
			if err := c.Check(); err != nil {
				t.Fatalf("accepted config fails Check: %v", err)
			}
		}
	})
}
