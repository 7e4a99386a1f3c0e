package nn

import (
	"math"
	"testing"

	"github.com/shenml/shen/internal/golden"
	"github.com/shenml/shen/tensor"
)

// PyTorch fixtures for attention and transformer modules, made by
// testdata/torch/gen_attention.py. Unlike the per-op fixtures of the tensor
// package, a case here holds a whole module: its state dict by torch's
// names, named inputs, masks, and gradients keyed by parameter name.

type attnFxCase struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Config struct {
		EmbedDim       int    `json:"embed_dim"`
		NumHeads       int    `json:"num_heads"`
		Bias           bool   `json:"bias"`
		Mode           string `json:"mode"`
		NeedWeights    bool   `json:"need_weights"`
		PerHead        bool   `json:"per_head"`
		SeqFirst       bool   `json:"seq_first"`
		DModel         int    `json:"d_model"`
		NHead          int    `json:"nhead"`
		DimFeedforward int    `json:"dim_feedforward"`
		Activation     string `json:"activation"`
		NormFirst      bool   `json:"norm_first"`
		NumLayers      int    `json:"num_layers"`
		FinalNorm      bool   `json:"final_norm"`
	} `json:"config"`
	State  map[string]*golden.Tensor `json:"state"`
	Inputs map[string]*golden.Tensor `json:"inputs"`
	Masks  struct {
		KeyPaddingMask *golden.Tensor `json:"key_padding_mask"`
		AttnMask       *golden.Tensor `json:"attn_mask"`
		AttnMaskBool   *golden.Tensor `json:"attn_mask_bool"`
		Causal         bool           `json:"causal"`
	} `json:"masks"`
	Output   *golden.Tensor            `json:"output"`
	Weights  *golden.Tensor            `json:"weights"`
	Upstream *golden.Tensor            `json:"upstream"`
	Grads    map[string]*golden.Tensor `json:"grads"`
}

func loadAttnFixtures(t *testing.T, kind string) []attnFxCase {
	t.Helper()
	var f struct {
		Cases []attnFxCase `json:"cases"`
	}
	if err := golden.LoadInto("attention", &f); err != nil {
		t.Fatal(err)
	}
	var out []attnFxCase
	for _, c := range f.Cases {
		if c.Kind == kind {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		t.Fatalf("attention.json: no %s cases", kind)
	}
	return out
}

func (c *attnFxCase) options() AttentionOptions {
	o := AttentionOptions{
		KeyPaddingMask: c.Masks.KeyPaddingMask.Bools(),
		AttnMaskBool:   c.Masks.AttnMaskBool.Bools(),
		Causal:         c.Masks.Causal,
		NeedWeights:    c.Config.NeedWeights,
		PerHeadWeights: c.Config.PerHead,
	}
	if c.Masks.AttnMask != nil {
		o.AttnMask = goldenTensor(*c.Masks.AttnMask)
	}
	return o
}

// load copies the case's state dict into m through LoadStateDict, which
// also proves that m's names and shapes are torch's.
func (c *attnFxCase) load(t *testing.T, m Module) {
	t.Helper()
	sd := map[string]*tensor.Tensor{}
	for k, v := range c.State {
		sd[k] = goldenTensor(*v)
	}
	if err := LoadStateDict(m, sd); err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
}

// input returns the named input as a leaf that requires grad.
func (c *attnFxCase) input(name string) *tensor.Tensor {
	return goldenTensor(*c.Inputs[name]).SetRequiresGrad(true)
}

// attnClose compares got with the fixture at 1e-4 relative to the larger
// of the element and the tensor's largest magnitude (golden.CompareScaled).
func attnClose(t *testing.T, what string, got *tensor.Tensor, want *golden.Tensor) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got nil", what)
		return
	}
	if !tensor.SameShape(got.Shape(), want.Shape) {
		t.Errorf("%s: shape %v, want %v", what, got.Shape(), want.Shape)
		return
	}
	if msg := golden.CompareScaled(got.Data(), want.Data, 1e-4); msg != "" {
		t.Errorf("%s: %s", what, msg)
	}
}

// checkGrads compares every recorded gradient: inputs under "input.<name>",
// parameters under their state dict names.
func (c *attnFxCase) checkGrads(t *testing.T, m Module, inputs map[string]*tensor.Tensor) {
	t.Helper()
	params := map[string]*tensor.Tensor{}
	for _, p := range NamedParameters(m) {
		params[p.Name] = p.Value
	}
	for name, want := range c.Grads {
		var x *tensor.Tensor
		if len(name) > 6 && name[:6] == "input." {
			x = inputs[name[6:]]
		} else {
			x = params[name]
		}
		if x == nil {
			t.Errorf("%s: no tensor for gradient %q", c.Name, name)
			continue
		}
		attnClose(t, c.Name+" grad "+name, x.Grad(), want)
	}
	if len(c.Grads) != len(params)+len(inputs) {
		t.Errorf("%s: fixture has %d gradients, model has %d parameters and %d inputs", c.Name, len(c.Grads), len(params), len(inputs))
	}
}

func TestMultiHeadAttentionTorch(t *testing.T) {
	for _, c := range loadAttnFixtures(t, "mha") {
		t.Run(c.Name, func(t *testing.T) {
			m := NewMultiHeadAttention(c.Config.EmbedDim, c.Config.NumHeads, 0.1, c.Config.Bias)
			m.BatchFirst = !c.Config.SeqFirst
			Train(m, false)
			c.load(t, m)
			in := map[string]*tensor.Tensor{}
			q := c.input("q")
			in["q"] = q
			k, v := q, q
			switch c.Config.Mode {
			case "kv":
				k = c.input("k")
				in["k"] = k
				v = k
			case "qkv":
				k, v = c.input("k"), c.input("v")
				in["k"], in["v"] = k, v
			}
			out, w := m.Forward(q, k, v, c.options())
			attnClose(t, "output", out, c.Output)
			if c.Weights != nil {
				attnClose(t, "weights", w, c.Weights)
			} else if w != nil {
				t.Errorf("weights returned without NeedWeights")
			}
			out.BackwardWith(goldenTensor(*c.Upstream), false)
			c.checkGrads(t, m, in)
			out.FreeGraph()
		})
	}
}

// TestAttentionFiniteDifference checks the fused attention op's backward
// against central differences of L = Σ out·U in float32 over a small
// problem with every mask kind and dropout on (the same keep mask each
// evaluation, from a reseeded generator).
//
// Tolerance: with step h the central difference has truncation error
// h²·|f⁽³⁾|/6 and rounding error about ε·|L|/h, with ε ≈ 6e-8 the float32
// unit roundoff and |L| ≈ 10 here (accumulated in float64, so only the
// float32 forward values contribute). h = 1e-2 balances the two at about
// 1e-4; allowing 2e-3 absolute plus 1e-2 relative keeps a margin of ten
// while still catching any wrong term (those are O(|grad|)).
func TestAttentionFiniteDifference(t *testing.T) {
	const B, H, L, S, D = 2, 2, 3, 4, 3
	E := H * D
	g := tensor.NewRNG(7)
	q := tensor.RandN(g, B, L, E).SetRequiresGrad(true)
	kv := tensor.RandN(g, B, S, 2*E).SetRequiresGrad(true)
	u := tensor.RandN(g, B, L, E)
	opt := &AttentionOptions{
		KeyPaddingMask: []bool{false, false, false, false, false, false, false, true},
		AttnMask:       tensor.RandN(g, L, S),
		AttnMaskBool:   []bool{false, false, false, true, false, false, false, false, false, false, false, false},
		Causal:         false,
	}
	eval := func() (*tensor.Tensor, float64) {
		a := attnCore{B: B, H: H, L: L, S: S, D: D, opt: opt, dropP: 0.25, rng: tensor.NewRNG(3)}
		out, _ := a.run([3]*tensor.Tensor{q, kv, kv}, [3]int{0, 0, E})
		var loss float64
		for i, v := range out.Data() {
			loss += float64(v) * float64(u.Data()[i])
		}
		return out, loss
	}
	out, _ := eval()
	out.BackwardWith(u, false)
	const h = 1e-2
	for _, x := range []*tensor.Tensor{q, kv} {
		xd, gd := x.Data(), x.Grad().Data()
		for i := range xd {
			old := xd[i]
			xd[i] = old + h
			var lp, lm float64
			tensor.NoGrad([]*tensor.Tensor{q, kv}, func() { _, lp = eval() })
			xd[i] = old - h
			tensor.NoGrad([]*tensor.Tensor{q, kv}, func() { _, lm = eval() })
			xd[i] = old
			num := (lp - lm) / (2 * h)
			if d := math.Abs(num - float64(gd[i])); d > 2e-3+1e-2*math.Abs(num) {
				t.Errorf("grad %v[%d]: analytic %g, numeric %g", x.Shape(), i, gd[i], num)
			}
		}
	}
}

// TestAttentionCausalMatchesBoolMask checks that Causal builds the same mask
// as an explicit AttnMaskBool, with L != S.
func TestAttentionCausalMatchesBoolMask(t *testing.T) {
	SetSeed(1)
	m := NewMultiHeadAttention(8, 2, 0, true)
	g := tensor.NewRNG(2)
	q, k := tensor.RandN(g, 2, 5, 8), tensor.RandN(g, 2, 6, 8)
	mask := make([]bool, 5*6)
	for i := 0; i < 5; i++ {
		for j := i + 1; j < 6; j++ {
			mask[i*6+j] = true
		}
	}
	a, wa := m.Forward(q, k, k, AttentionOptions{Causal: true, NeedWeights: true})
	b, wb := m.Forward(q, k, k, AttentionOptions{AttnMaskBool: mask, NeedWeights: true})
	for i, v := range a.Data() {
		if v != b.Data()[i] {
			t.Fatalf("output differs at %d: %g vs %g", i, v, b.Data()[i])
		}
	}
	for i, v := range wa.Data() {
		if v != wb.Data()[i] {
			t.Fatalf("weights differ at %d", i)
		}
	}
	// Row 0 may attend only to key 0.
	if w := wa.At(1, 0, 0); math.Abs(float64(w)-1) > 1e-6 {
		t.Errorf("causal weight[1,0,0] = %g, want 1", w)
	}
}

func TestMultiHeadAttentionInit(t *testing.T) {
	SetSeed(3)
	m := NewMultiHeadAttention(32, 4, 0, true)
	var names []string
	for _, e := range StateDict(m) {
		names = append(names, e.Name)
	}
	want := []string{"in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"}
	if len(names) != len(want) {
		t.Fatalf("state dict %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("state dict %v, want %v", names, want)
		}
	}
	bound := float32(math.Sqrt(6.0 / (32 + 96)))
	for _, v := range m.InProjWeight.Data() {
		if v < -bound || v > bound {
			t.Fatalf("in_proj_weight value %g outside the Xavier bound %g", v, bound)
		}
	}
	for _, v := range append(m.InProjBias.Data(), m.OutProj.Bias.Data()...) {
		if v != 0 {
			t.Fatalf("bias not zero-initialised")
		}
	}
	nb := NewMultiHeadAttention(32, 4, 0, false)
	if len(StateDict(nb)) != 2 {
		t.Errorf("without bias the state dict should hold the two weights, got %d entries", len(StateDict(nb)))
	}
}

// TestAttentionUnbatched checks the [L, E] form against the batched one.
func TestAttentionUnbatched(t *testing.T) {
	SetSeed(4)
	m := NewMultiHeadAttention(8, 2, 0, true)
	x := tensor.RandN(tensor.NewRNG(5), 5, 8)
	a, _ := m.Forward(x, x, x, AttentionOptions{})
	xb := x.Unsqueeze(0)
	b, _ := m.Forward(xb, xb, xb, AttentionOptions{})
	if len(a.Shape()) != 2 {
		t.Fatalf("unbatched output shape %v", a.Shape())
	}
	for i, v := range a.Data() {
		if v != b.Data()[i] {
			t.Fatalf("unbatched differs at %d", i)
		}
	}
}

// TestAttentionDropout checks that training-mode dropout zeroes about P of
// the weights, rescales the rest, and is off in evaluation mode.
func TestAttentionDropout(t *testing.T) {
	SetSeed(6)
	m := NewMultiHeadAttention(8, 2, 0.5, true)
	x := tensor.RandN(tensor.NewRNG(5), 4, 16, 8)
	_, w := m.Forward(x, x, x, AttentionOptions{NeedWeights: true, PerHeadWeights: true})
	zeros := 0
	for _, v := range w.Data() {
		if v == 0 {
			zeros++
		}
	}
	if frac := float64(zeros) / float64(w.Numel()); frac < 0.45 || frac > 0.55 {
		t.Errorf("dropout zeroed %.3f of the weights, want about 0.5", frac)
	}
	Train(m, false)
	_, w = m.Forward(x, x, x, AttentionOptions{NeedWeights: true})
	for b := 0; b < 4; b++ {
		for i := 0; i < 16; i++ {
			var s float64
			for j := 0; j < 16; j++ {
				s += float64(w.At(b, i, j))
			}
			if math.Abs(s-1) > 1e-5 {
				t.Fatalf("eval weights row sums to %g", s)
			}
		}
	}
}

// TestAttnSoftmaxRow checks the softmax against float64, with masked
// (-Inf) entries and a fully masked row.
func TestAttnSoftmaxRow(t *testing.T) {
	g := tensor.NewRNG(9)
	for n := 1; n < 70; n += 3 {
		row := make([]float32, n)
		for j := range row {
			row[j] = 20 * (g.Float32() - 0.5)
			if j%5 == 1 {
				row[j] = float32(math.Inf(-1))
			}
		}
		want := make([]float64, n)
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, float64(v))
		}
		var s float64
		for j, v := range row {
			want[j] = math.Exp(float64(v) - m)
			s += want[j]
		}
		attnSoftmaxRow(row)
		for j := range row {
			if d := math.Abs(float64(row[j]) - want[j]/s); d > 1e-6*want[j]/s+1e-9 {
				t.Fatalf("n=%d: softmax[%d] = %g, want %g", n, j, row[j], want[j]/s)
			}
		}
	}
	masked := []float32{float32(math.Inf(-1)), float32(math.Inf(-1))}
	attnSoftmaxRow(masked)
	if !math.IsNaN(float64(masked[0])) || !math.IsNaN(float64(masked[1])) {
		t.Fatalf("fully masked row gave %v, want NaN as PyTorch", masked)
	}
}

// TestAttentionMask3D checks that a [B·H, L, S] additive mask, here a
// transposed (non-contiguous) one, applies per batch element and head.
func TestAttentionMask3D(t *testing.T) {
	SetSeed(8)
	const B, H, L, S, E = 2, 2, 3, 5, 8
	m := NewMultiHeadAttention(E, H, 0, true)
	g := tensor.NewRNG(3)
	q, k := tensor.RandN(g, B, L, E), tensor.RandN(g, B, S, E)
	base := tensor.RandN(g, L, S)
	same := tensor.Stack([]*tensor.Tensor{base, base, base, base}, 0).Transpose(1, 2).Contiguous().Transpose(1, 2)
	a, _ := m.Forward(q, k, k, AttentionOptions{AttnMask: base})
	b, _ := m.Forward(q, k, k, AttentionOptions{AttnMask: same})
	for i, v := range a.Data() {
		if v != b.Data()[i] {
			t.Fatalf("3-d mask differs at %d: %g vs %g", i, v, b.Data()[i])
		}
	}
	// Masking every key but one for head 1 of batch 0 only changes that
	// batch element's output.
	per := tensor.Zeros(B*H, L, S)
	for i := 0; i < L; i++ {
		for j := 1; j < S; j++ {
			per.Set(float32(math.Inf(-1)), 1, i, j)
		}
	}
	c, w := m.Forward(q, k, k, AttentionOptions{AttnMask: per, NeedWeights: true, PerHeadWeights: true})
	d, _ := m.Forward(q, k, k, AttentionOptions{})
	if w.At(0, 1, 2, 0) != 1 || w.At(0, 0, 2, 0) == 1 {
		t.Errorf("per-head mask not applied to (batch 0, head 1) alone")
	}
	for i := L * E; i < B*L*E; i++ {
		if c.Data()[i] != d.Data()[i] {
			t.Fatalf("batch 1 changed by batch 0's mask")
		}
	}
}

// TestAttentionRetainGraph checks that the saved probabilities survive a
// retained backward (a second pass doubles every gradient) and that
// inference under NoGrad records nothing.
func TestAttentionRetainGraph(t *testing.T) {
	SetSeed(12)
	m := NewMultiHeadAttention(8, 2, 0, true)
	x := tensor.RandN(tensor.NewRNG(4), 2, 5, 8).SetRequiresGrad(true)
	out, _ := m.Forward(x, x, x, AttentionOptions{Causal: true})
	u := tensor.RandN(tensor.NewRNG(5), 2, 5, 8)
	out.BackwardWith(u, true)
	first := append([]float32(nil), x.Grad().Data()...)
	w1 := append([]float32(nil), m.InProjWeight.Grad().Data()...)
	out.BackwardWith(u, false)
	for i, v := range x.Grad().Data() {
		if d := math.Abs(float64(v - 2*first[i])); d > 1e-5*(1+math.Abs(float64(v))) {
			t.Fatalf("input grad %d after two passes %g, want %g", i, v, 2*first[i])
		}
	}
	for i, v := range m.InProjWeight.Grad().Data() {
		if d := math.Abs(float64(v - 2*w1[i])); d > 1e-5*(1+math.Abs(float64(v))) {
			t.Fatalf("weight grad %d after two passes %g, want %g", i, v, 2*w1[i])
		}
	}
	out.FreeGraph()
	tensor.NoGrad(append(Parameters(m), x), func() {
		y, _ := m.Forward(x, x, x, AttentionOptions{})
		if y.RequiresGrad() || !y.IsLeaf() {
			t.Errorf("output under NoGrad records history")
		}
	})
}

func TestAttnDropoutInto(t *testing.T) {
	for _, p := range []float32{0.1, 0.5, 0.9} {
		const n = 30001 // not a multiple of 3: the tail path runs too
		src, dst := make([]float32, n), make([]float32, n)
		for i := range src {
			src[i] = float32(i%17) + 1
		}
		dropoutInto(dst, src, p, 42)
		zeros := 0
		for i, v := range dst {
			if v == 0 {
				zeros++
			} else if math.Abs(float64(v-src[i]/(1-p))) > 1e-5*float64(v) {
				t.Fatalf("p=%g: kept value %g, want %g", p, v, src[i]/(1-p))
			}
		}
		// Binomial standard deviation is at most 0.003 here; allow 5 of them.
		if frac := float64(zeros) / n; math.Abs(frac-float64(p)) > 0.015 {
			t.Errorf("p=%g: dropped %.4f", p, frac)
		}
	}
}
