package serve

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestConfigParse(t *testing.T) {
	good := `
max_batch_size: 32
version_policy: {latest: {num_versions: 2}}
dynamic_batching: {max_queue_delay_microseconds: 500, preferred_batch_size: [8, 16], max_queue_size: 100}
instance_group: [{count: 2, kind: KIND_CPU}]
`
	c, err := ParseConfig([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	p := c.batching()
	if !p.merge || p.maxRows != 32 || p.delay != 500*time.Microsecond || p.queue != 100 || p.instances != 2 || fmt.Sprint(p.preferred) != "[8 16]" {
		t.Errorf("policy %+v", p)
	}
	if got := c.Versions([]int64{1, 2, 3}); fmt.Sprint(got) != "[2 3]" {
		t.Errorf("latest 2 of [1 2 3] = %v", got)
	}
	if c, _ := ParseConfig([]byte(`{"version_policy": {"specific": {"versions": [1, 3]}}, "max_batch_size": 0}`)); fmt.Sprint(c.Versions([]int64{1, 2, 3})) != "[1 3]" || c.batching().merge {
		t.Errorf("JSON config with specific versions: %+v", c)
	}
	if c, _ := ParseConfig([]byte(`version_policy: {all: {}}`)); fmt.Sprint(c.Versions([]int64{1, 2, 3})) != "[1 2 3]" {
		t.Errorf("all: %v", c.Versions([]int64{1, 2, 3}))
	}
	bad := map[string]string{
		"max_batch_size: -1":                                                "max_batch_size",
		"max_batch_sise: 4":                                                 "max_batch_sise",
		"version_policy: {latest: {num_versions: 0}}":                       "num_versions",
		"version_policy: {all: {}, latest: {num_versions: 1}}":              "one of",
		"max_batch_size: 8\ndynamic_batching: {preferred_batch_size: [16]}": "preferred_batch_size",
		"instance_group: [{count: 0}]":                                      "instance_group[0].count",
		"instance_group: [{count: 1, kind: KIND_GPU}]":                      "KIND_CPU",
	}
	for in, says := range bad {
		if _, err := ParseConfig([]byte(in)); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%q: %v, want an error naming %s", in, err, says)
		}
	}
}

// infer sends one row and returns the outputs and the version that answered.
func infer(client *http.Client, url string, row []float32) ([]float32, string, int, error) {
	body := fmt.Sprintf(`{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[%v,%v,%v,%v]}],"outputs":[{"name":"output"}]}`, row[0], row[1], row[2], row[3])
	resp, err := client.Post(url+"/v2/models/iris/infer", "application/json", strings.NewReader(body))
	if err != nil {
		return nil, "", 0, err
	}
	defer resp.Body.Close()
	var out struct {
		Version string `json:"model_version"`
		Error   string `json:"error"`
		Outputs []struct {
			Data []float32 `json:"data"`
		} `json:"outputs"`
	}
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if err := jsonUnmarshal(buf.Bytes(), &out); err != nil {
		return nil, "", resp.StatusCode, err
	}
	if resp.StatusCode != 200 {
		return nil, "", resp.StatusCode, fmt.Errorf("%d: %s", resp.StatusCode, out.Error)
	}
	return out.Outputs[0].Data, out.Version, resp.StatusCode, nil
}

// TestVersionSwapUnderLoad publishes version 2 and then a broken version 3
// while clients keep sending: no request fails, every answer is exactly
// one of the versions' own outputs, version 2 takes over, and the broken
// version never replaces it.
func TestVersionSwapUnderLoad(t *testing.T) {
	root, models := repoWith(t, "iris", "dynamic_batching: {max_queue_delay_microseconds: 200}\nmax_batch_size: 16\n", 1)
	ts := startServer(t, Options{ModelRepository: root, PollInterval: 20 * time.Millisecond})
	row := irisRows[:4]
	want := map[string][]float32{"1": forward(models[1], row, 1)}
	var mu sync.Mutex
	seen := map[string]int{}
	var failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for i := 0; i < 5000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				got, ver, _, err := infer(client, ts.url, row)
				mu.Lock()
				w, known := want[ver]
				if err != nil || !known || !near(got, w) {
					failed.Add(1)
					t.Errorf("request during the swap: version %q, %v, %v", ver, got, err)
				}
				seen[ver]++
				mu.Unlock()
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	// Version 2 is written aside and renamed into place whole, after its
	// expected answer is known.
	m2 := saveMLP(t, filepath.Join(root, ".tmp2"), 2)
	mu.Lock()
	want["2"] = forward(m2, row, 1)
	mu.Unlock()
	if err := os.Rename(filepath.Join(root, ".tmp2"), filepath.Join(root, "iris", "2")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "version 2 to answer", func() bool { mu.Lock(); defer mu.Unlock(); return seen["2"] > 50 })
	// A broken version 3, weights cut short, renamed into place whole.
	tmp := filepath.Join(root, ".tmp3")
	saveMLP(t, tmp, 3)
	w := filepath.Join(tmp, "weights.safetensors")
	b, _ := os.ReadFile(w)
	os.WriteFile(w, b[:len(b)/2], 0o644)
	if err := os.Rename(tmp, filepath.Join(root, "iris", "3")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the broken version to be reported", func() bool {
		for _, e := range ts.repo.Index() {
			if e.Version == "3" && e.State == StateUnavailable && strings.Contains(e.Reason, "weights.safetensors") {
				return true
			}
		}
		return false
	})
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d requests failed during the swaps", failed.Load())
	}
	if _, ver, _, err := infer(http.DefaultClient, ts.url, row); err != nil || ver != "2" {
		t.Fatalf("after the broken version 3: version %q answers (%v); version 2 must keep serving", ver, err)
	}
	status, body, _ := call(t, "POST", ts.url+"/v2/repository/index", "", nil)
	if status != 200 || !strings.Contains(fmt.Sprint(body), "version:2") {
		t.Errorf("index %v", body)
	}
	if seen["1"] == 0 || seen["2"] == 0 {
		t.Errorf("answers by version: %v", seen)
	}
	t.Logf("answers by version: %v", seen)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRepositoryLoadUnload(t *testing.T) {
	root, _ := repoWith(t, "iris", "", 1)
	ts := startServer(t, Options{ModelRepository: root})
	if status, body, _ := call(t, "POST", ts.url+"/v2/repository/models/iris/unload", "", nil); status != 200 || body["isUnloaded"] != true {
		t.Fatalf("unload: %d %v", status, body)
	}
	if status, _, _ := call(t, "GET", ts.url+"/v2/models/iris/ready", "", nil); status != 503 {
		t.Errorf("unloaded model's ready: %d", status)
	}
	if _, _, status, _ := infer(http.DefaultClient, ts.url, irisRows); status != 503 {
		t.Errorf("infer on an unloaded model: %d, want 503", status)
	}
	// A model added after start is loaded on request.
	saveMLP(t, filepath.Join(root, "late", "1"), 5)
	for _, m := range []string{"iris", "late"} {
		if status, body, _ := call(t, "POST", ts.url+"/v2/repository/models/"+m+"/load", "{}", nil); status != 200 || body["isLoaded"] != true {
			t.Fatalf("load %s: %d %v", m, status, body)
		}
	}
	if status, _, _ := call(t, "GET", ts.url+"/v2/models/late/ready", "", nil); status != 200 {
		t.Errorf("late model's ready: %d", status)
	}
	if status, body, _ := call(t, "POST", ts.url+"/v2/repository/models/ghost/load", "", nil); status != 404 {
		t.Errorf("loading a model with no folder: %d %v", status, body)
	}
	os.MkdirAll(filepath.Join(root, "empty", "1"), 0o755)
	if status, body, _ := call(t, "POST", ts.url+"/v2/repository/models/empty/load", "", nil); status != 400 || !strings.Contains(fmt.Sprint(body), "model.json") {
		t.Errorf("loading a model whose version holds no artifact: %d %v", status, body)
	}
	if status, _, _ := call(t, "POST", ts.url+"/v2/repository/models/ghost/unload", "", nil); status != 404 {
		t.Errorf("unloading an unknown model: %d", status)
	}
}

// TestReadinessWaitsForEveryModel: a repository with a model that cannot
// load is live but not ready (the working model serves meanwhile, the
// index says why); unloading the broken model, or fixing it, makes the
// server ready.
func TestReadinessWaitsForEveryModel(t *testing.T) {
	root, _ := repoWith(t, "iris", "", 1)
	writeFile(t, filepath.Join(root, "broken", "1", "model.json"), `{"format": "shen-model", "format_version": 1, "architecture": {"kind": "nope"}}`)
	s, err := New(Options{ModelRepository: root, HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	h, _ := s.Addrs()
	url := "http://" + h
	waitFor(t, "the iris model", func() bool {
		st, _, _ := call(t, "GET", url+"/v2/models/iris/ready", "", nil)
		return st == 200
	})
	if st, body, _ := call(t, "GET", url+"/v2/health/live", "", nil); st != 200 || body["live"] != true {
		t.Errorf("live: %d %v", st, body)
	}
	if st, body, _ := call(t, "GET", url+"/v2/health/ready", "", nil); st != 503 || body["ready"] != false {
		t.Errorf("ready with a broken model: %d %v", st, body)
	}
	st, body, _ := call(t, "POST", url+"/v2/repository/index", "{}", nil)
	if st != 200 || !strings.Contains(fmt.Sprint(body), "broken") || !strings.Contains(fmt.Sprint(body), "broken/1/model.json") {
		t.Errorf("index does not say why broken fails: %v", body)
	}
	if st, _, _ := call(t, "POST", url+"/v2/repository/models/broken/unload", "", nil); st != 200 {
		t.Fatalf("unload: %d", st)
	}
	if st, _, _ := call(t, "GET", url+"/v2/health/ready", "", nil); st != 200 {
		t.Errorf("ready after unloading the broken model: %d", st)
	}
	// Fixed on disk and loaded again: ready, and serving.
	saveMLP(t, filepath.Join(root, "broken", "1"), 3)
	if st, body, _ := call(t, "POST", url+"/v2/repository/models/broken/load", "", nil); st != 200 {
		t.Fatalf("load after the fix: %d %v", st, body)
	}
	if st, _, _ := call(t, "GET", url+"/v2/health/ready", "", nil); st != 200 {
		t.Errorf("ready after the fix: %d", st)
	}
}
