package serve

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/shenml/shen/model"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/predict"
	"github.com/shenml/shen/serve/inference"
)

// mnistMLP saves the MNIST MLP of examples/mlp (784-512-256-10, ReLU) with
// seeded weights: serving speed depends on the shapes, not the values.
func mnistMLP(b testing.TB) string {
	dir := filepath.Join(b.TempDir(), "mlp")
	nn.SetSeed(1)
	m, err := model.New(model.Spec{Name: "mlp", Task: "classification",
		Architecture: model.Architecture{Kind: "mlp", Input: []int{784}, Outputs: 10, Hidden: []int{512, 256}},
		Labels:       strings.Split("0 1 2 3 4 5 6 7 8 9", " ")})
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Save(dir); err != nil {
		b.Fatal(err)
	}
	return dir
}

// discard is a ResponseWriter that keeps nothing, so the benchmarks count
// the server's allocations, not a recorder's.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkForwardMLP is the in-process compute of one MNIST row: the
// floor under every server benchmark below.
func BenchmarkForwardMLP(b *testing.B) {
	p, err := predict.Load(mnistMLP(b))
	if err != nil {
		b.Fatal(err)
	}
	x, out := make([]float32, 784), make([]float32, 10)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Forward(x, 1, out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInferHandler is one MNIST-row V2 request through the HTTP
// handler (decode, batcher, Forward, answer, encode) without the network:
// ns/op minus BenchmarkForwardMLP's is the server's own cost.
func BenchmarkInferHandler(b *testing.B) {
	s, err := New(Options{Model: mnistMLP(b)})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.repo.Scan(); err != nil {
		b.Fatal(err)
	}
	defer s.repo.close()
	h := s.Handler()
	row := make([]float32, 784)
	for i := range row {
		row[i] = float32(i%255) / 255
	}
	var js strings.Builder
	js.WriteString(`{"inputs":[{"name":"input","shape":[1,784],"datatype":"FP32","data":[`)
	for i, v := range row {
		if i > 0 {
			js.WriteByte(',')
		}
		js.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
	}
	js.WriteString(`]}],"outputs":[{"name":"probabilities"}]}`)
	header := `{"inputs":[{"name":"input","shape":[1,784],"datatype":"FP32","parameters":{"binary_data_size":3136}}],"outputs":[{"name":"probabilities","parameters":{"binary_data":true}}]}`
	bin := make([]byte, 0, 3136)
	for _, v := range row {
		bin = binary.LittleEndian.AppendUint32(bin, math.Float32bits(v))
	}
	cases := []struct {
		name string
		body []byte
		hdr  string
	}{
		{"json", []byte(js.String()), ""},
		{"binary", append([]byte(header), bin...), strconv.Itoa(len(header))},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			req, _ := http.NewRequest("POST", "/v2/models/mlp/infer", nil)
			if c.hdr != "" {
				req.Header.Set(headerLength, c.hdr)
			}
			req.Header.Set("X-Request-Id", "bench")
			w := &discard{h: http.Header{}}
			rd := bytes.NewReader(c.body)
			b.ReportAllocs()
			b.SetBytes(int64(len(c.body)))
			for b.Loop() {
				rd.Reset(c.body)
				req.Body = http.NoBody
				req.Body = readCloser{rd}
				req.ContentLength = int64(len(c.body))
				clear(w.h)
				h.ServeHTTP(w, req)
			}
		})
	}
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// BenchmarkGRPCModelInfer is one MNIST-row ModelInfer with raw contents
// through the service (no network, no protobuf encoding).
func BenchmarkGRPCModelInfer(b *testing.B) {
	s, err := New(Options{Model: mnistMLP(b)})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.repo.Scan(); err != nil {
		b.Fatal(err)
	}
	defer s.repo.close()
	g := &grpcService{s: s}
	req := &inference.ModelInferRequest{ModelName: "mlp",
		Inputs:           []*inference.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP32", Shape: []int64{1, 784}}},
		Outputs:          []*inference.ModelInferRequest_InferRequestedOutputTensor{{Name: "probabilities"}},
		RawInputContents: [][]byte{make([]byte, 3136)}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.ModelInfer(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
