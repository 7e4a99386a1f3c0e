package serve

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shenml/shen/model"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
	"github.com/shenml/shen/train"
)

// saveMLP writes a small classifier artifact (4 features, 3 classes) with
// seeded random weights into dir; seed changes the weights, so versions
// answer differently.
func saveMLP(t testing.TB, dir string, seed uint64) *model.Model {
	t.Helper()
	nn.SetSeed(seed)
	m, err := model.New(model.Spec{
		Name: "iris", Task: "classification",
		Architecture: model.Architecture{Kind: "mlp", Input: []int{4}, Outputs: 3, Hidden: []int{8}},
		Labels:       []string{"setosa", "versicolor", "virginica"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	return m
}

// forward is the reference answer: the model's own forward pass.
func forward(m *model.Model, x []float32, n int) []float32 {
	return m.Predict(tensor.FromSlice(append([]float32(nil), x...), n, len(x)/n)).Data()
}

// testServer is a Server listening on loopback.
type testServer struct {
	*Server
	url, grpcAddr string
	stop          func()
	done          chan error
}

func startServer(t testing.TB, opts Options) *testServer {
	t.Helper()
	if opts.HTTPAddr == "" {
		opts.HTTPAddr = "127.0.0.1:0"
	}
	if opts.GRPCAddr == "" {
		opts.GRPCAddr = "127.0.0.1:0"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		if os.Getenv("SHEN_SERVE_LOG") != "" {
			opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{Server: s, done: make(chan error, 1)}
	go func() { ts.done <- s.Serve(ctx) }()
	h, g := s.Addrs()
	ts.url, ts.grpcAddr = "http://"+h, g
	ts.stop = func() {
		cancel()
		select {
		case err := <-ts.done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("server did not stop within 20 s")
		}
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-ts.done:
		case <-time.After(20 * time.Second):
		}
	})
	waitReady(t, ts.url)
	return ts
}

// waitReady polls /v2/health/ready for up to 10 s.
func waitReady(t testing.TB, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/v2/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never became ready", url)
}

// repoWith makes a repository with the named model's versions, each an MLP
// with weights from seed = version number, and an optional config.
func repoWith(t testing.TB, name, config string, versions ...int) (root string, models map[int]*model.Model) {
	t.Helper()
	root = t.TempDir()
	models = map[int]*model.Model{}
	for _, v := range versions {
		models[v] = saveMLP(t, filepath.Join(root, name, itoa(v)), uint64(v))
	}
	if config != "" {
		writeFile(t, filepath.Join(root, name, "config.yaml"), config)
	}
	return root, models
}

func itoa(v int) string { return strconv.Itoa(v) }

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

var (
	irisOnce    sync.Once
	irisDir     string
	irisErr     error
	trainedRoot string
)

// TestMain removes the artifacts trained once for the whole run.
func TestMain(m *testing.M) {
	code := m.Run()
	if trainedRoot != "" {
		os.RemoveAll(trainedRoot)
	}
	os.Exit(code)
}

// trainedIris is an artifact trained from testdata/configs/iris.yaml (a
// table model: records of f0..f3 through fitted standardisation), trained
// once per test run (about a second).
func trainedIris(t testing.TB) string {
	t.Helper()
	irisOnce.Do(func() {
		trainedRoot, irisErr = os.MkdirTemp("", "shen-serve-test")
		if irisErr != nil {
			return
		}
		cfg, err := train.LoadConfig(filepath.Join("..", "testdata", "configs", "iris.yaml"))
		if err != nil {
			irisErr = err
			return
		}
		res, err := train.Run(context.Background(), cfg, filepath.Join(trainedRoot, "iris-run"), train.RunOptions{})
		if err != nil {
			irisErr = err
			return
		}
		irisDir = res.ModelDir
	})
	if irisErr != nil {
		t.Fatal(irisErr)
	}
	return irisDir
}

// copyArtifact copies an artifact folder into dst (a version folder).
func copyArtifact(t testing.TB, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{model.SpecFile, model.WeightsFile, model.ProfileFile} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
