package tensor

import (
	"math"
	"slices"
	"testing"

	"github.com/shenml/shen/internal/kernel"
)

// bf16Rel is the bound on |product_bf16 - product_fp32| relative to
// Σ|a·b| for sums of k products: rounding each operand to bfloat16
// (relative error u = 2^-8) gives each product an error of at most
// 2u + u², and the two float32 sums add at most (k+1)·2^-24 each.
func bf16Rel(k int) float64 {
	return math.Ldexp(1, -7) + math.Ldexp(1, -16) + float64(2*(k+2))*math.Ldexp(1, -24)
}

// copyOf returns a leaf copy of t that requires gradients, with abs taking
// absolute values.
func copyOf(t *Tensor, abs bool) *Tensor {
	if t == nil {
		return nil
	}
	d := slices.Clone(t.Data())
	if abs {
		for i, v := range d {
			d[i] = float32(math.Abs(float64(v)))
		}
	}
	return FromSlice(d, t.Shape()...).SetRequiresGrad(true)
}

// checkBF16Bilinear runs op (linear in each of its first two inputs, with
// an optional bias third) in float32 and with inputs[mark] marked BF16,
// forward and backward with the same upstream gradient, and checks every
// output and gradient against the bound bf16Rel(k)·Σ|a·b|: the Σ|a·b| of
// each element is the same op run on absolute values (no bias) with the
// absolute upstream gradient. It returns the largest difference relative
// to that magnitude.
func checkBF16Bilinear(t *testing.T, name string, inputs []*Tensor, mark, k int, op func(in []*Tensor) *Tensor) float64 {
	t.Helper()
	run := func(abs, bf16 bool, up *Tensor) (*Tensor, []*Tensor) {
		in := make([]*Tensor, len(inputs))
		for i, x := range inputs {
			in[i] = copyOf(x, abs)
			if abs && i == 2 && x != nil {
				in[i] = ZerosLike(x).SetRequiresGrad(true) // Σ|a·b| has no bias
			}
		}
		if bf16 {
			in[mark].SetPrecision(BF16)
		}
		y := op(in)
		if up == nil {
			up = RandN(NewRNG(7), y.Shape()...)
		}
		if abs {
			up = copyOf(up, true).Detach()
		}
		y.BackwardWith(up, false)
		out := []*Tensor{y.Detach(), up}
		for _, x := range in {
			if x != nil {
				out = append(out, x.Grad())
			}
		}
		return out[0], out[1:]
	}
	y32, g32 := run(false, false, nil)
	up := g32[0]
	y16, g16 := run(false, true, up)
	ym, gm := run(true, false, up)
	rel := bf16Rel(k)
	worst := 0.0
	names := []string{"output", "", "grad 0", "grad 1", "grad 2"}
	outs := [][3]*Tensor{{y16, y32, ym}}
	for i := 1; i < len(g32); i++ {
		outs = append(outs, [3]*Tensor{g16[i], g32[i], gm[i]})
	}
	for n, o := range outs {
		label := names[0]
		if n > 0 {
			label = names[n+1]
		}
		a, b, m := o[0].Data(), o[1].Data(), o[2].Data()
		differ := false
		for i := range a {
			d := math.Abs(float64(a[i]) - float64(b[i]))
			bound := rel*float64(m[i]) + math.Ldexp(math.Abs(float64(b[i])), -22) + 1e-30
			if d > bound {
				t.Fatalf("%s %s[%d]: bf16 %v, fp32 %v: |difference| %g > bound %g (2^-7·Σ|a·b| = %g)", name, label, i, a[i], b[i], d, bound, float64(m[i])/128)
			}
			differ = differ || d > 0
			if m[i] > 0 {
				worst = max(worst, d/float64(m[i]))
			}
		}
		if !differ && n < 3 { // the bias gradient is a float32 sum either way
			t.Errorf("%s %s: bf16 equals fp32 exactly: the product was not rounded", name, label)
		}
	}
	return worst
}

func TestBF16Linear(t *testing.T) {
	g := NewRNG(1)
	x, w, b := RandN(g, 2, 5, 48), RandN(g, 24, 48), RandN(g, 24)
	worst := checkBF16Bilinear(t, "Linear", []*Tensor{x, w, b}, 1, 48, func(in []*Tensor) *Tensor { return Linear(in[0], in[1], in[2]) })
	t.Logf("Linear: largest |bf16 - fp32| / Σ|a·b| = %.3g (bound %.3g)", worst, bf16Rel(48))

	// Without bf16 units the forward pass is float32 of the pre-rounded
	// operands, bit for bit; with them, only the sum order differs.
	if kernel.HasBF16() {
		return
	}
	xr, wr := copyOf(x, false), copyOf(w, false)
	kernel.RoundBF16(xr.Data(), xr.Data(), 1)
	kernel.RoundBF16(wr.Data(), wr.Data(), 1)
	want := Linear(xr, wr, b).Data()
	got := Linear(x, w.Detach().SetPrecision(BF16), b).Data()
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("emulated bf16 Linear[%d] = %v, float32 of rounded operands %v", i, got[i], want[i])
		}
	}
}

func TestBF16Matmul(t *testing.T) {
	g := NewRNG(2)
	// A batched product, a transposed operand read in place, and a
	// broadcast right operand whose gradient sums over the batch.
	a, b := RandN(g, 3, 7, 40), RandN(g, 40, 9)
	checkBF16Bilinear(t, "Matmul broadcast", []*Tensor{a, b}, 0, 40, func(in []*Tensor) *Tensor { return Matmul(in[0], in[1]) })
	c, d := RandN(g, 2, 33, 6), RandN(g, 2, 33, 5)
	checkBF16Bilinear(t, "Matmul transposed", []*Tensor{c, d}, 1, 33, func(in []*Tensor) *Tensor { return Matmul(in[0].Transpose(1, 2), in[1]) })
}

func TestBF16Conv2D(t *testing.T) {
	g := NewRNG(3)
	// LeNet-like (which float32 runs on the direct path) and a strided,
	// padded, grouped one (im2col).
	for _, tc := range []struct {
		x, w []int
		opt  Conv2DOptions
	}{
		{[]int{3, 1, 12, 12}, []int{6, 1, 5, 5}, Conv2DOptions{Padding: [2]int{2, 2}}},
		{[]int{2, 4, 9, 9}, []int{6, 2, 3, 3}, Conv2DOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}, Groups: 2}},
	} {
		x, w, b := RandN(g, tc.x...), RandN(g, tc.w...), RandN(g, tc.w[0])
		k := tc.x[0] * 12 * 12 // the longest reduction: dW over samples and positions
		worst := checkBF16Bilinear(t, "Conv2D", []*Tensor{x, w, b}, 1, k, func(in []*Tensor) *Tensor { return Conv2D(in[0], in[1], in[2], tc.opt) })
		t.Logf("Conv2D %v: largest |bf16 - fp32| / Σ|a·b| = %.3g", tc.w, worst)
	}
}

// TestPrecisionViews checks that views inherit the setting and that new
// results do not carry it, and the parser.
func TestPrecisionViews(t *testing.T) {
	w := Zeros(4, 6).SetPrecision(BF16)
	if w.Narrow(0, 1, 2).Precision() != BF16 || w.Transpose(0, 1).Precision() != BF16 || w.Detach().Precision() != BF16 {
		t.Error("a view of a BF16 tensor lost its precision")
	}
	if Linear(Zeros(2, 6), w, nil).Precision() != FP32 {
		t.Error("an op's result carries its operand's precision")
	}
	for s, want := range map[string]Precision{"": FP32, "fp32": FP32, "bf16": BF16} {
		if p, err := ParsePrecision(s); err != nil || p != want || (s != "" && p.String() != s) {
			t.Errorf("ParsePrecision(%q) = %v, %v", s, p, err)
		}
	}
	if _, err := ParsePrecision("fp16"); err == nil {
		t.Error("ParsePrecision(fp16) accepted")
	}
}
