package onnx

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/shenml/shen/model"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/onnx/onnxpb"
	"github.com/shenml/shen/tensor"
	"google.golang.org/protobuf/proto"
)

// exportArchs are one of each architecture model.Build makes, small.
func exportArchs() map[string]model.Architecture {
	return map[string]model.Architecture{
		"mlp":       {Kind: "mlp", Input: []int{6}, Hidden: []int{8, 5}, Outputs: 3, BatchNorm: true, Activation: "gelu"},
		"mlp_silu":  {Kind: "mlp", Input: []int{2, 3}, Hidden: []int{4}, Outputs: 2, Activation: "silu", Rescale: true},
		"mlp_elu":   {Kind: "mlp", Input: []int{5}, Hidden: []int{4, 4}, Outputs: 2, Activation: "elu"},
		"mlp_lrelu": {Kind: "mlp", Input: []int{5}, Hidden: []int{4}, Outputs: 2, Activation: "leaky_relu"},
		"cnn":       {Kind: "cnn", Input: []int{1, 10, 10}, Channels: []int{4, 6}, Hidden: []int{7}, Outputs: 3, BatchNorm: true},
		"layers": {Kind: "layers", Input: []int{2, 9, 9}, Outputs: 3, Layers: []model.LayerSpec{
			{Type: "conv2d", Out: 3, Kernel: 3, Stride: 2, Padding: 1}, {Type: "tanh"}, {Type: "avgpool2d", Kernel: 2},
			{Type: "flatten"}, {Type: "linear", Out: 6}, {Type: "layernorm"}, {Type: "sigmoid"}, {Type: "linear", Out: 3}}},
		"lstm": {Kind: "lstm", Input: []int{5, 4}, HiddenSize: 6, NumLayers: 2, Bidirectional: true, Hidden: []int{5}, Outputs: 2},
		"gru":  {Kind: "gru", Input: []int{5, 4}, HiddenSize: 6, NumLayers: 2, Outputs: 2},
		"transformer": {Kind: "transformer", Input: []int{6, 4}, DModel: 8, Heads: 2, NumLayers: 2, FF: 16, Outputs: 3,
			Causal: true, Activation: "gelu"},
		"transformer_post": {Kind: "transformer", Input: []int{6, 4}, DModel: 8, Heads: 4, NumLayers: 1, FF: 12, Outputs: 2, Norm: "post"},
		"lm":               {Kind: "transformer", Input: []int{7}, DModel: 8, Heads: 2, NumLayers: 2, FF: 16, Outputs: 11, Causal: true},
	}
}

// newExportModel builds arch with non-trivial BatchNorm statistics, in
// evaluation mode.
func newExportModel(t *testing.T, name string, arch model.Architecture) *model.Model {
	t.Helper()
	m, err := model.New(model.Spec{Name: name, Task: "classification", Architecture: arch})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, uint64(len(name))))
	for _, e := range nn.StateDict(m.Net) {
		d := e.Value.Data()
		switch {
		case strings.HasSuffix(e.Name, "running_var"):
			for i := range d {
				d[i] = 0.5 + r.Float32()
			}
		case strings.HasSuffix(e.Name, "running_mean"), strings.HasSuffix(e.Name, ".shift"), strings.HasSuffix(e.Name, ".scale"):
			for i := range d {
				d[i] = r.Float32() - 0.5
			}
		}
	}
	nn.Train(m.Net, false)
	return m
}

func sampleInput(arch model.Architecture, batch int, r *rand.Rand) *tensor.Tensor {
	shape := append([]int{batch}, arch.Input...)
	x := make([]float32, numel(shape))
	for i := range x {
		if len(arch.Input) == 1 && arch.Kind == "transformer" { // token ids
			x[i] = float32(r.IntN(arch.Outputs))
		} else {
			x[i] = float32(r.NormFloat64())
		}
	}
	return tensor.FromSlice(x, shape...)
}

// Every architecture exports at opsets 14 and 17, re-imports, and
// predicts what the Shen model predicts within 1e-5, for a batch size
// other than the one it was traced with (the batch is dynamic).
func TestExportRoundTrip(t *testing.T) {
	for name, arch := range exportArchs() {
		for _, opset := range []int{14, 17} {
			t.Run(name+"_opset"+string(rune('0'+opset/10))+string(rune('0'+opset%10)), func(t *testing.T) {
				m := newExportModel(t, name, arch)
				mp, err := Export(m, ExportOptions{Opset: opset})
				if err != nil {
					t.Fatal(err)
				}
				raw, err := proto.Marshal(mp)
				if err != nil {
					t.Fatal(err)
				}
				back, err := Read(bytes.NewReader(raw), Limits{})
				if err != nil {
					t.Fatal(err)
				}
				cm, err := Compile(back, Limits{})
				if err != nil {
					t.Fatal(err)
				}
				layer, err := NewLayer(cm)
				if err != nil {
					t.Fatal(err)
				}
				r := rand.New(rand.NewPCG(1, uint64(opset)))
				for _, batch := range []int{1, 5} {
					x := sampleInput(arch, batch, r)
					want := m.Predict(x)
					got := layer.Forward(x)
					d := maxAbsDiff(got, want)
					t.Logf("batch %d: max abs difference %.3g", batch, d)
					if d > 1e-5 || !slicesEqual(got.Shape(), want.Shape()) {
						t.Fatalf("batch %d: shapes %v / %v, max abs difference %.3g", batch, got.Shape(), want.Shape(), d)
					}
				}
				checkWeightsExact(t, m, back)
			})
		}
	}
}

func maxAbsDiff(a, b *tensor.Tensor) float64 {
	ad, bd := a.Data(), b.Data()
	if len(ad) != len(bd) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range ad {
		d = max(d, math.Abs(float64(ad[i])-float64(bd[i])))
	}
	return d
}

func slicesEqual(a, b []int) bool { return sameShape(a, b) }

// checkWeightsExact requires every state-dict tensor stored under its own
// name in the ONNX file to be bit-identical to the model's.
func checkWeightsExact(t *testing.T, m *model.Model, mp *onnxpb.ModelProto) {
	t.Helper()
	stored := map[string]*onnxpb.TensorProto{}
	for _, tp := range mp.Graph.Initializer {
		stored[tp.GetName()] = tp
	}
	matched := 0
	for _, e := range nn.StateDict(m.Net) {
		tp := stored[e.Name]
		if tp == nil {
			continue
		}
		v, err := TensorFromProto(tp, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		want := e.Value.Data()
		for i := range want {
			if math.Float32bits(v.F[i]) != math.Float32bits(want[i]) {
				t.Fatalf("weight %s[%d]: %v in the ONNX file, %v in the model", e.Name, i, v.F[i], want[i])
			}
		}
		matched++
	}
	if matched == 0 {
		t.Fatal("no state-dict tensor found by name in the ONNX initializers")
	}
}
