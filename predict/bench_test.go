package predict_test

import (
	"fmt"
	"testing"

	"github.com/shenml/shen/model"
	"github.com/shenml/shen/predict"
)

// benchModels are the models of the inference benchmarks, with freshly
// initialised weights (speed does not depend on their values): the iris
// MLP, the MNIST MLP and LeNet-5 of bench/peers/torch_mnist.py, and the
// airpassengers GRU forecaster over windows of 12 months.
func benchModels(b *testing.B) map[string]*predict.Predictor {
	labels := func(n int) []string {
		l := make([]string, n)
		for i := range l {
			l[i] = fmt.Sprint(i)
		}
		return l
	}
	specs := map[string]model.Spec{
		"iris_mlp": {Task: "classification", Labels: labels(3),
			Architecture: model.Architecture{Kind: "mlp", Input: []int{4}, Hidden: []int{16}, Outputs: 3}},
		"mnist_mlp": {Task: "classification", Labels: labels(10),
			Architecture: model.Architecture{Kind: "mlp", Input: []int{784}, Hidden: []int{512, 256}, Outputs: 10}},
		"mnist_lenet": {Task: "classification", Labels: labels(10),
			Architecture: model.Architecture{Kind: "layers", Input: []int{1, 28, 28}, Outputs: 10, Layers: []model.LayerSpec{
				{Type: "conv2d", Out: 6, Kernel: 5, Padding: 2}, {Type: "relu"}, {Type: "maxpool2d", Kernel: 2},
				{Type: "conv2d", Out: 16, Kernel: 5}, {Type: "relu"}, {Type: "maxpool2d", Kernel: 2},
				{Type: "flatten"}, {Type: "linear", Out: 120}, {Type: "relu"}, {Type: "linear", Out: 84}, {Type: "relu"}, {Type: "linear", Out: 10}}}},
		"window_gru": {Task: "regression",
			Architecture: model.Architecture{Kind: "gru", Input: []int{12, 1}, HiddenSize: 32, Outputs: 1}},
	}
	out := map[string]*predict.Predictor{}
	for name, s := range specs {
		s.Name = name
		m, err := model.New(s)
		if err != nil {
			b.Fatal(err)
		}
		p, err := predict.New(m)
		if err != nil {
			b.Fatal(err)
		}
		out[name] = p
	}
	return out
}

// BenchmarkForward measures the batch entry point a server calls: one
// sample (latency) and 256 (throughput), prepared features in, raw
// outputs out.
func BenchmarkForward(b *testing.B) {
	models := benchModels(b)
	for _, name := range []string{"iris_mlp", "mnist_mlp", "mnist_lenet", "window_gru"} {
		p := models[name]
		for _, n := range []int{1, 256} {
			x := make([]float32, n*p.InputSize())
			for i := range x {
				x[i] = float32(i%7) / 7
			}
			out := make([]float32, n*p.Outputs())
			b.Run(fmt.Sprintf("%s/batch%d", name, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := p.Forward(x, n, out); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "samples/s")
				b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N), "µs/batch")
			})
		}
	}
}

// BenchmarkRecords measures the whole table path for one and 256 JSON
// records: preprocessing with per-row checks, forward, answers.
func BenchmarkRecords(b *testing.B) {
	p := load(b, trainFruit(b, "mean"))
	for _, n := range []int{1, 256} {
		rows := make([]map[string]any, n)
		for i := range rows {
			rows[i] = map[string]any{"size": float64(2 + i%10), "color": []string{"red", "green", "blue"}[i%3], "weight": 110.0}
		}
		b.Run(fmt.Sprintf("batch%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Records(rows); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

// BenchmarkAnswerInto measures turning a batch of logits into answers
// with reused memory.
func BenchmarkAnswerInto(b *testing.B) {
	p := benchModels(b)["mnist_mlp"]
	out := make([]float32, 256*10)
	var r predict.Result
	b.ReportAllocs()
	for b.Loop() {
		p.AnswerInto(&r, out, 256)
	}
}
