package nn

import (
	"math"
	"testing"

	"github.com/shenml/shen/tensor"
)

func (c *attnFxCase) encoderConfig() TransformerEncoderLayerConfig {
	cfg := DefaultTransformerEncoderLayerConfig(c.Config.DModel, c.Config.NHead)
	cfg.DimFeedforward = c.Config.DimFeedforward
	cfg.Activation = c.Config.Activation
	cfg.NormFirst = c.Config.NormFirst
	return cfg
}

// runEncoderCase loads the case into m (in eval mode), runs fwd on the
// case's input and compares output and every gradient with PyTorch's.
func runEncoderCase(t *testing.T, c attnFxCase, m Module, fwd func(x *tensor.Tensor, o AttentionOptions) *tensor.Tensor) {
	Train(m, false)
	c.load(t, m)
	x := c.input("x")
	out := fwd(x, c.options())
	attnClose(t, "output", out, c.Output)
	out.BackwardWith(goldenTensor(*c.Upstream), false)
	c.checkGrads(t, m, map[string]*tensor.Tensor{"x": x})
	out.FreeGraph()
}

func TestTransformerEncoderLayerTorch(t *testing.T) {
	for _, c := range loadAttnFixtures(t, "encoder_layer") {
		t.Run(c.Name, func(t *testing.T) {
			l := NewTransformerEncoderLayer(c.encoderConfig())
			runEncoderCase(t, c, l, l.Forward)
		})
	}
}

func TestTransformerEncoderTorch(t *testing.T) {
	for _, c := range loadAttnFixtures(t, "encoder") {
		t.Run(c.Name, func(t *testing.T) {
			e := NewTransformerEncoder(c.encoderConfig(), c.Config.NumLayers, c.Config.FinalNorm)
			runEncoderCase(t, c, e, e.Forward)
		})
	}
}

func TestTransformerEncoderNames(t *testing.T) {
	cfg := DefaultTransformerEncoderLayerConfig(8, 2)
	cfg.DimFeedforward = 16
	e := NewTransformerEncoder(cfg, 2, true)
	sd := StateDict(e)
	want := []string{
		"layers.0.self_attn.in_proj_weight", "layers.0.self_attn.in_proj_bias",
		"layers.0.self_attn.out_proj.weight", "layers.0.self_attn.out_proj.bias",
		"layers.0.linear1.weight", "layers.0.linear1.bias", "layers.0.linear2.weight", "layers.0.linear2.bias",
		"layers.0.norm1.weight", "layers.0.norm1.bias", "layers.0.norm2.weight", "layers.0.norm2.bias",
	}
	if len(sd) != 2*len(want)+2 {
		t.Fatalf("state dict has %d entries, want %d", len(sd), 2*len(want)+2)
	}
	for i, w := range want {
		if sd[i].Name != w {
			t.Errorf("entry %d is %q, want %q", i, sd[i].Name, w)
		}
	}
	if sd[len(sd)-2].Name != "norm.weight" || sd[len(sd)-1].Name != "norm.bias" {
		t.Errorf("final norm entries %q, %q", sd[len(sd)-2].Name, sd[len(sd)-1].Name)
	}
	// Layers start equal, as torch's deep copies do, but do not share storage.
	a, b := e.Layers[0].Linear1.Weight, e.Layers[1].Linear1.Weight
	if a.Data()[0] != b.Data()[0] || &a.Data()[0] == &b.Data()[0] {
		t.Errorf("layers should start as equal copies")
	}
}

// TestTransformerTrainStep runs a training-mode step with dropout on and
// checks that every parameter gets a finite gradient.
func TestTransformerTrainStep(t *testing.T) {
	SetSeed(11)
	cfg := DefaultTransformerEncoderLayerConfig(16, 4)
	cfg.DimFeedforward = 32
	e := NewTransformerEncoder(cfg, 2, false)
	x := tensor.RandN(tensor.NewRNG(1), 3, 9, 16).SetRequiresGrad(true)
	loss := tensor.Sum(e.Forward(x, AttentionOptions{Causal: true}), false)
	loss.Backward()
	for _, p := range NamedParameters(e) {
		g := p.Value.Grad()
		if g == nil {
			t.Errorf("%s: no gradient", p.Name)
			continue
		}
		for _, v := range g.Data() {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("%s: non-finite gradient", p.Name)
			}
		}
	}
	loss.FreeGraph()
}
