package onnx

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	osexec "os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shenml/shen/internal/kernel"
)

// benchModels returns the models BenchmarkInference runs: the MNIST zoo
// model (batch 1 only: its input is fixed) and every .onnx file in
// SHEN_ONNX_BENCH_DIR (bench/onnx.sh writes PyTorch exports there).
func benchModels(b *testing.B) map[string]string {
	models := map[string]string{"mnist-zoo": filepath.Join(sharedONNX, "mnist-7-cntk", "model.onnx")}
	if dir := os.Getenv("SHEN_ONNX_BENCH_DIR"); dir != "" {
		files, _ := filepath.Glob(filepath.Join(dir, "*.onnx"))
		for _, f := range files {
			models["torch-"+strings.TrimSuffix(filepath.Base(f), ".onnx")] = f
		}
	} else {
		models["torch-cnn-small"] = filepath.Join("..", "testdata", "onnx", "torch", "cnn_bn", "model.onnx")
	}
	for name, f := range models {
		if _, err := os.Stat(f); err != nil {
			delete(models, name)
		}
	}
	if len(models) == 0 {
		b.Skip("no models to benchmark")
	}
	return models
}

// BenchmarkInference times Session.Run on each model at batch 1 and 64
// with 1 and 2 kernel threads (ms/op: the fastest of 5 rounds). Where ONNX Runtime is available
// (SHEN_ORT_NODE_PATH) it times the same file, input and thread count in
// ONNX Runtime and reports ort-ms/op and shen/ort (below 1: Shen faster).
func BenchmarkInference(b *testing.B) {
	models := benchModels(b)
	names := make([]string, 0, len(models))
	for n := range models {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		mp, err := ReadFile(models[name], Limits{})
		if err != nil {
			b.Fatal(err)
		}
		m, err := Compile(mp, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		for _, batch := range []int{1, 64} {
			in, ok := benchInput(m, batch)
			if !ok {
				continue
			}
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/batch%d/threads%d", name, batch, threads), func(b *testing.B) {
					prev := kernel.SetThreads(threads)
					defer kernel.SetThreads(prev)
					s := m.NewSession()
					if _, err := s.Run(in...); err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					b.ResetTimer()
					// ms/op is the fastest of 5 rounds (b.N >= 5): on a shared
					// machine the minimum is what the code costs; ns/op is the mean.
					shen := math.Inf(1)
					rounds := min(5, b.N)
					for r := range rounds {
						n := b.N / rounds
						if r == 0 {
							n += b.N % rounds
						}
						start := time.Now()
						for range n {
							if _, err := s.Run(in...); err != nil {
								b.Fatal(err)
							}
						}
						shen = min(shen, time.Since(start).Seconds()*1e3/float64(n))
					}
					b.ReportMetric(shen, "ms/op")
					b.StopTimer() // ONNX Runtime's own timing is not Shen's
					if ort, ok := ortBench(b, models[name], m, in, threads, shen); ok {
						b.ReportMetric(ort, "ort-ms/op")
						b.ReportMetric(shen/ort, "shen/ort")
					}
				})
			}
		}
	}
}

// benchInput makes random inputs of the model's declared shapes with the
// dynamic (batch) axis set to batch; ok is false when a fixed batch
// differs.
func benchInput(m *Model, batch int) ([]*Tensor, bool) {
	r := rand.New(rand.NewPCG(1, 2))
	var ins []*Tensor
	for _, vi := range m.Inputs {
		shape := append([]int(nil), vi.Dims...)
		for i, d := range shape {
			if d < 0 {
				shape[i] = batch
			}
		}
		if len(shape) > 0 && vi.Dims[0] >= 0 && vi.Dims[0] != batch {
			return nil, false
		}
		ins = append(ins, randTensor(r, shape...))
	}
	return ins, true
}

var ortCache = map[string]float64{}

// ortBench returns ONNX Runtime's milliseconds per run, measured once per
// configuration by testdata/onnx/ort_run.js for about a second.
func ortBench(b *testing.B, file string, m *Model, in []*Tensor, threads int, shenMs float64) (float64, bool) {
	nodePath := os.Getenv("SHEN_ORT_NODE_PATH")
	if nodePath == "" {
		return 0, false
	}
	key := fmt.Sprint(file, in[0].Shape, threads)
	if v, ok := ortCache[key]; ok {
		return v, true
	}
	dir := b.TempDir()
	names := make([]string, len(m.Inputs))
	for i, vi := range m.Inputs {
		names[i] = vi.Name
	}
	req := writeOrtRequest(b, dir, names, in, threads)
	iters := int(max(10, min(2000, 1000/max(shenMs, 1e-3))))
	cmd := osexec.Command("node", ortScript, "bench", file, req, strconv.Itoa(iters))
	cmd.Env = append(os.Environ(), "NODE_PATH="+nodePath)
	out, err := cmd.Output()
	if err != nil {
		b.Logf("onnxruntime bench of %s: %v", file, err)
		return 0, false
	}
	var res struct {
		MsPerRun float64 `json:"ms_per_run"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		b.Logf("onnxruntime bench output %q: %v", out, err)
		return 0, false
	}
	ortCache[key] = res.MsPerRun
	return res.MsPerRun, true
}
