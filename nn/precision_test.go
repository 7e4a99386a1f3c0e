package nn

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/shenml/shen/tensor"
)

// precisionRun is one forward and backward pass of a module: the output
// and every gradient (the input's first, then the parameters').
type precisionRun struct {
	names []string
	vals  [][]float32
}

// runPrecision runs fwd on a fresh leaf copy of x with m at precision p,
// back-propagates the fixed upstream gradient u, and collects the output,
// the input's gradient and every parameter's gradient.
func runPrecision(m Module, p tensor.Precision, x, u *tensor.Tensor, fwd func(x *tensor.Tensor) *tensor.Tensor) precisionRun {
	SetPrecision(m, p)
	ZeroGrad(m)
	xl := tensor.FromSlice(slices.Clone(x.Data()), x.Shape()...).SetRequiresGrad(true)
	y := fwd(xl)
	r := precisionRun{names: []string{"output"}, vals: [][]float32{slices.Clone(y.Data())}}
	y.BackwardWith(u, false)
	r.names = append(r.names, "input grad")
	r.vals = append(r.vals, slices.Clone(xl.Grad().Data()))
	for _, np := range NamedParameters(m) {
		r.names = append(r.names, np.Name+" grad")
		r.vals = append(r.vals, slices.Clone(np.Value.Grad().Data()))
	}
	return r
}

// checkModuleBF16 compares m in bf16 with m in fp32, forward and every
// gradient: max|bf16 - fp32| must stay within tol·max|fp32| for each
// tensor, and be nonzero (the products were rounded). Setting FP32 again
// must give the first float32 results bit for bit (the setting leaves no
// trace). It returns the largest relative difference seen.
func checkModuleBF16(t *testing.T, name string, m Module, x *tensor.Tensor, outShape []int, tol float64, fwd func(x *tensor.Tensor) *tensor.Tensor) float64 {
	t.Helper()
	u := tensor.RandN(tensor.NewRNG(5), outShape...)
	f32 := runPrecision(m, tensor.FP32, x, u, fwd)
	b16 := runPrecision(m, tensor.BF16, x, u, fwd)
	again := runPrecision(m, tensor.FP32, x, u, fwd)
	worst := 0.0
	for i, name2 := range f32.names {
		a, b := b16.vals[i], f32.vals[i]
		scale, diff := 0.0, 0.0
		for j := range b {
			scale = max(scale, math.Abs(float64(b[j])))
			diff = max(diff, math.Abs(float64(a[j])-float64(b[j])))
			if math.Float32bits(again.vals[i][j]) != math.Float32bits(b[j]) {
				t.Fatalf("%s %s[%d]: fp32 after bf16 gives %v, before %v", name, name2, j, again.vals[i][j], b[j])
			}
		}
		if diff > tol*scale {
			t.Errorf("%s %s: max|bf16 - fp32| = %.3g > %.3g·max|fp32| = %.3g", name, name2, diff, tol, tol*scale)
		}
		// A bias whose gradient is the upstream gradient's sum (no product
		// in between) may be equal.
		if diff == 0 && !strings.HasSuffix(name2, "bias grad") {
			t.Errorf("%s %s: bf16 equals fp32 exactly: the products were not rounded", name, name2)
		}
		if scale > 0 {
			worst = max(worst, diff/scale)
		}
	}
	return worst
}

// bf16Unit is the relative error of one bf16 product against float32 in
// the worst case (twice the rounding unit 2^-8 of each operand).
const bf16Unit = 1.0 / 128

// Tolerances per layer, relative to the largest float32 value of each
// tensor (output or gradient). One product errs by at most bf16Unit of
// Σ|a·b|, which is at most the largest value when the terms do not cancel
// (the per-element analytic bound is checked op by op in package tensor);
// composite layers chain several products (attention four, LSTM two per
// step and through time). Measured worst ratios (AMD EPYC Zen 3, bf16
// emulated): Linear 0.0025, Conv2D 0.0036, attention 0.0064, LSTM 0.0037;
// the tolerances leave 2-4x headroom.
const (
	tolLinear    = bf16Unit
	tolConv      = bf16Unit
	tolAttention = 2 * bf16Unit
	tolLSTM      = 2 * bf16Unit
)

func TestBF16LinearModule(t *testing.T) {
	SetSeed(11)
	m := NewLinear(64, 32)
	x := tensor.RandN(tensor.NewRNG(1), 16, 64)
	w := checkModuleBF16(t, "Linear", m, x, []int{16, 32}, tolLinear, m.Forward)
	t.Logf("Linear 64→32: worst max|bf16 - fp32| / max|fp32| = %.3g (tolerance %.3g)", w, tolLinear)
}

func TestBF16Conv2DModule(t *testing.T) {
	SetSeed(12)
	m := NewConv2D(3, 8, 3, Padding(1))
	x := tensor.RandN(tensor.NewRNG(2), 4, 3, 10, 10)
	w := checkModuleBF16(t, "Conv2D", m, x, []int{4, 8, 10, 10}, tolConv, m.Forward)
	t.Logf("Conv2D 3→8 3x3: worst relative difference %.3g (tolerance %.3g)", w, tolConv)
}

func TestBF16Attention(t *testing.T) {
	SetSeed(13)
	m := NewMultiHeadAttention(32, 4, 0, true)
	x := tensor.RandN(tensor.NewRNG(3), 3, 10, 32)
	fwd := func(x *tensor.Tensor) *tensor.Tensor {
		out, _ := m.Forward(x, x, x, AttentionOptions{Causal: true})
		return out
	}
	w := checkModuleBF16(t, "MultiHeadAttention", m, x, []int{3, 10, 32}, tolAttention, fwd)
	t.Logf("MultiHeadAttention E=32 H=4: worst relative difference %.3g (tolerance %.3g)", w, tolAttention)
}

func TestBF16LSTM(t *testing.T) {
	SetSeed(14)
	m := NewLSTM(12, 24, RNNConfig{BatchFirst: true})
	x := tensor.RandN(tensor.NewRNG(4), 5, 15, 12)
	fwd := func(x *tensor.Tensor) *tensor.Tensor {
		out, _ := m.Forward(x, nil, nil)
		return out
	}
	w := checkModuleBF16(t, "LSTM", m, x, []int{5, 15, 24}, tolLSTM, fwd)
	t.Logf("LSTM 12→24 over 15 steps: worst relative difference %.3g (tolerance %.3g)", w, tolLSTM)
}

func TestBF16GRU(t *testing.T) {
	SetSeed(15)
	m := NewGRU(12, 16, RNNConfig{NumLayers: 2, Bidirectional: true})
	x := tensor.RandN(tensor.NewRNG(6), 9, 3, 12)
	fwd := func(x *tensor.Tensor) *tensor.Tensor {
		out, _ := m.Forward(x, nil, nil)
		return out
	}
	w := checkModuleBF16(t, "GRU", m, x, []int{9, 3, 32}, tolLSTM, fwd)
	t.Logf("GRU 12→16, 2 layers, bidirectional: worst relative difference %.3g (tolerance %.3g)", w, tolLSTM)
}

// TestBF16AttentionCore checks that the fused attention core itself (the
// score and weighted-sum products, not only the projections) follows the
// precision: on the same projected inputs its output and gradients move
// under BF16, within the chained-product tolerance.
func TestBF16AttentionCore(t *testing.T) {
	const B, H, L, S, D = 2, 2, 5, 6, 8
	E := H * D
	g := tensor.NewRNG(8)
	q0, kv0 := tensor.RandN(g, B, L, E), tensor.RandN(g, B, S, 2*E)
	u := tensor.RandN(g, B, L, E)
	run := func(p tensor.Precision) [][]float32 {
		q := tensor.FromSlice(slices.Clone(q0.Data()), q0.Shape()...).SetRequiresGrad(true)
		kv := tensor.FromSlice(slices.Clone(kv0.Data()), kv0.Shape()...).SetRequiresGrad(true)
		a := attnCore{B: B, H: H, L: L, S: S, D: D, opt: &AttentionOptions{Causal: true}, prec: p}
		out, _ := a.run([3]*tensor.Tensor{q, kv, kv}, [3]int{0, 0, E})
		res := [][]float32{slices.Clone(out.Data())}
		out.BackwardWith(u, false)
		return append(res, q.Grad().Data(), kv.Grad().Data())
	}
	f32, b16 := run(tensor.FP32), run(tensor.BF16)
	for i, name := range []string{"output", "grad q", "grad kv"} {
		scale, diff := 0.0, 0.0
		for j := range f32[i] {
			scale = max(scale, math.Abs(float64(f32[i][j])))
			diff = max(diff, math.Abs(float64(b16[i][j]-f32[i][j])))
		}
		if diff == 0 || diff > tolAttention*scale {
			t.Errorf("attention core %s: max|bf16 - fp32| = %.3g, want in (0, %.3g]", name, diff, tolAttention*scale)
		}
	}
}
