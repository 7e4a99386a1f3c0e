package tensor

import (
	"fmt"
	"math"
	"testing"
)

// A finite-difference gradient checker. For an op f and a fixed random
// upstream u, L(x) = Σ f(x)·u is a scalar whose gradient Backward computes
// (seeded with u). Each input element is moved by ±eps and the central
// difference (L(x+h) - L(x-h)) / (2h) is compared with the analytic value.
//
// Why the tolerance is what it is: the ops run in float32, so each output
// carries a relative rounding error of about 6e-8. L is accumulated in
// float64, but the rounding already in the outputs remains: for outputs of
// order 1 and a few hundred of them, L is uncertain by ~1e-6, and dividing
// by 2h = 2e-2 turns that into ~1e-4 of noise in the difference. The
// truncation error of the central difference is h²/6·f”' ≈ 2e-5·f”' for
// h = 1e-2. A smaller h would cut truncation but magnify rounding (1/h), a
// larger one the reverse; 1e-2 balances them for these smooth inputs. So we
// accept |analytic - numeric| <= 2e-3 + 1e-2·max(|analytic|, |numeric|):
// well above both errors, yet a wrong backward (a missing factor, a
// transposed index, a dropped broadcast sum) is off by O(1) and fails.
// Inputs are drawn away from kinks (0 for ReLU/Abs, clamp bounds, ties in
// Max/Maximum, the softplus threshold) where no finite difference is exact.
const (
	gcEps  = 1e-2
	gcRtol = 1e-2
	gcAtol = 2e-3
)

// gradCheck compares the analytic and numeric gradients of fn at inputs
// and describes the first mismatch (nil when all agree).
func gradCheck(inputs []*Tensor, fn func(x []*Tensor) *Tensor) error {
	for _, x := range inputs {
		x.SetRequiresGrad(true)
	}
	out := fn(inputs)
	up := RandN(NewRNG(99), out.Shape()...)
	ud := up.Data()
	out.BackwardWith(up, false)
	loss := func() float64 {
		var l float64
		NoGrad(inputs, func() {
			od := fn(inputs).Data()
			for i, v := range od {
				l += float64(v) * float64(ud[i])
			}
		})
		return l
	}
	for i, x := range inputs {
		ana := x.Grad()
		if ana == nil {
			ana = ZerosLike(x)
		}
		ad := ana.Data()
		xd := x.Data()
		for j := range xd {
			orig := xd[j]
			xd[j] = orig + gcEps
			hp := float64(xd[j]) - float64(orig) // the step float32 actually took
			lp := loss()
			xd[j] = orig - gcEps
			hm := float64(xd[j]) - float64(orig)
			lm := loss()
			xd[j] = orig
			num := (lp - lm) / (hp - hm)
			a := float64(ad[j])
			if math.Abs(a-num) > gcAtol+gcRtol*math.Max(math.Abs(a), math.Abs(num)) {
				return fmt.Errorf("input %d element %d (x=%v): analytic %.6g, numeric %.6g", i, j, orig, a, num)
			}
		}
	}
	return nil
}

// gcRand draws inputs for the gradient checks.
type gcRand struct{ g *RNG }

// u is uniform in [lo, hi).
func (r gcRand) u(lo, hi float32, shape ...int) *Tensor { return RandU(r.g, lo, hi, shape...) }

// away is uniform in [lo, hi) but at least margin from every point in pts.
func (r gcRand) away(lo, hi float32, pts []float32, shape ...int) *Tensor {
	const margin = 0.05
	t := Zeros(shape...)
	d := t.Data()
	for i := range d {
	again:
		v := lo + (hi-lo)*r.g.Float32()
		for _, p := range pts {
			if v > p-margin && v < p+margin {
				goto again
			}
		}
		d[i] = v
	}
	return t
}

// distinct holds values spaced 0.1 apart in random order, so that no
// perturbation of ±eps changes which element is the largest.
func (r gcRand) distinct(shape ...int) *Tensor {
	n := numel(shape)
	t := Zeros(shape...)
	for i, p := range r.g.Perm(n) {
		t.Data()[i] = float32(p)*0.1 - float32(n)*0.05
	}
	return t
}

func ints(v ...int64) *IntTensor { return IntFromSlice(v) }

func TestGradCheck(t *testing.T) {
	r := gcRand{NewRNG(7)}
	one := func(x *Tensor) func() []*Tensor { return func() []*Tensor { return []*Tensor{x} } }
	two := func(a, b *Tensor) func() []*Tensor { return func() []*Tensor { return []*Tensor{a, b} } }
	zero := []float32{0}
	cond := FromSlice([]float32{1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1}, 3, 4)
	w5 := FromSlice([]float32{0.5, 1.5, 1, 0.7, 1.2})
	cases := []struct {
		name string
		in   func() []*Tensor
		fn   func(x []*Tensor) *Tensor
	}{
		// Existing core ops (elementwise.go, reduce.go, view.go).
		{"Add/broadcast", two(r.u(-1, 1, 3, 4), r.u(-1, 1, 4)), func(x []*Tensor) *Tensor { return Add(x[0], x[1]) }},
		{"Sub/broadcast", two(r.u(-1, 1, 3, 1), r.u(-1, 1, 1, 5)), func(x []*Tensor) *Tensor { return Sub(x[0], x[1]) }},
		{"Mul/broadcast", two(r.u(-1, 1, 2, 3, 4), r.u(-1, 1, 3, 1)), func(x []*Tensor) *Tensor { return Mul(x[0], x[1]) }},
		{"Mul/same", two(r.u(-1, 1, 7), r.u(-1, 1, 7)), func(x []*Tensor) *Tensor { return Mul(x[0], x[1]) }},
		{"Div", two(r.u(-1, 1, 3, 4), r.u(0.5, 2, 4)), func(x []*Tensor) *Tensor { return Div(x[0], x[1]) }},
		{"Pow", two(r.u(0.5, 2, 3, 4), r.u(-2, 2, 3, 1)), func(x []*Tensor) *Tensor { return Pow(x[0], x[1]) }},
		{"PowScalar", one(r.u(0.5, 2, 6)), func(x []*Tensor) *Tensor { return PowScalar(x[0], 2.5) }},
		{"Maximum", two(r.distinct(3, 4), shifted(r.distinct(3, 4), 0.03)), func(x []*Tensor) *Tensor { return Maximum(x[0], x[1]) }},
		{"Minimum", two(r.distinct(3, 4), shifted(r.distinct(4), 0.03)), func(x []*Tensor) *Tensor { return Minimum(x[0], x[1]) }},
		{"Neg", one(r.u(-1, 1, 5)), func(x []*Tensor) *Tensor { return Neg(x[0]) }},
		{"Exp", one(r.u(-2, 2, 9)), func(x []*Tensor) *Tensor { return Exp(x[0]) }},
		{"Log", one(r.u(0.5, 3, 9)), func(x []*Tensor) *Tensor { return Log(x[0]) }},
		{"Sqrt", one(r.u(0.5, 3, 9)), func(x []*Tensor) *Tensor { return Sqrt(x[0]) }},
		{"Abs", one(r.away(-2, 2, zero, 9)), func(x []*Tensor) *Tensor { return Abs(x[0]) }},
		{"Clamp", one(r.away(-2, 2, []float32{-0.5, 0.7}, 12)), func(x []*Tensor) *Tensor { return Clamp(x[0], -0.5, 0.7) }},
		{"AddScalar", one(r.u(-1, 1, 4)), func(x []*Tensor) *Tensor { return AddScalar(x[0], 3) }},
		{"MulScalar", one(r.u(-1, 1, 4)), func(x []*Tensor) *Tensor { return MulScalar(x[0], -3) }},
		{"Where", two(r.u(-1, 1, 3, 4), r.u(-1, 1, 4)), func(x []*Tensor) *Tensor { return Where(cond, x[0], x[1]) }},
		{"Sum/all", one(r.u(-1, 1, 3, 5)), func(x []*Tensor) *Tensor { return Sum(x[0], false) }},
		{"Sum/axes", one(r.u(-1, 1, 2, 3, 5)), func(x []*Tensor) *Tensor { return Sum(x[0], false, 0, 2) }},
		{"Mean/keepdim", one(r.u(-1, 1, 3, 5)), func(x []*Tensor) *Tensor { return Mean(x[0], true, 1) }},
		{"Max/axis", one(r.distinct(3, 5)), func(x []*Tensor) *Tensor { return Max(x[0], false, 1) }},
		{"Min/all", one(r.distinct(3, 5)), func(x []*Tensor) *Tensor { return Min(x[0], true) }},
		{"Reshape", one(r.u(-1, 1, 3, 4)), func(x []*Tensor) *Tensor { return Mul(x[0].Reshape(2, -1), x[0].Reshape(2, 6)) }},
		{"Permute", one(r.u(-1, 1, 2, 3, 4)), func(x []*Tensor) *Tensor { return Exp(x[0].Permute(2, 0, 1)) }},
		{"Transpose/Contiguous", one(r.u(-1, 1, 3, 4)), func(x []*Tensor) *Tensor { return x[0].T().Contiguous().Reshape(-1) }},
		{"Slice", one(r.u(-1, 1, 4, 9)), func(x []*Tensor) *Tensor { return Exp(x[0].Slice(1, 1, 8, 3)) }},
		{"Index/Squeeze/Unsqueeze", one(r.u(-1, 1, 3, 1, 4)), func(x []*Tensor) *Tensor {
			return Mul(x[0].Squeeze(1).Index(0, 2).Unsqueeze(0), x[0].Squeeze())
		}},
		{"Concat", func() []*Tensor { return []*Tensor{r.u(-1, 1, 2, 3), r.u(-1, 1, 2, 5), r.u(-1, 1, 2, 1)} },
			func(x []*Tensor) *Tensor { return Exp(Concat(x, 1)) }},
		{"Stack/Split", two(r.u(-1, 1, 2, 3), r.u(-1, 1, 2, 3)), func(x []*Tensor) *Tensor {
			return Mul(Stack(x, 1).Split(1, 1, 1)[1], x[0].Unsqueeze(1))
		}},
		{"Expand", one(r.u(-1, 1, 3, 1)), func(x []*Tensor) *Tensor { return Mul(x[0].Expand(2, 3, 5), x[0].Expand(2, 3, 5)) }},
		{"Chain", two(r.u(-1, 1, 4, 3), r.u(-1, 1, 3)), func(x []*Tensor) *Tensor {
			h := Tanh(Add(x[0], x[1]))
			return Sum(Mul(h, h), false, 1)
		}},

		// Activations.
		{"Sigmoid", one(r.u(-4, 4, 3, 7)), func(x []*Tensor) *Tensor { return Sigmoid(x[0]) }},
		{"Tanh", one(r.u(-3, 3, 3, 7)), func(x []*Tensor) *Tensor { return Tanh(x[0]) }},
		{"ReLU", one(r.away(-2, 2, zero, 3, 7)), func(x []*Tensor) *Tensor { return ReLU(x[0]) }},
		{"ReLU/strided", one(r.away(-2, 2, zero, 3, 7)), func(x []*Tensor) *Tensor { return ReLU(x[0].T()) }},
		{"LeakyReLU", one(r.away(-2, 2, zero, 3, 7)), func(x []*Tensor) *Tensor { return LeakyReLU(x[0], 0.2) }},
		{"ELU", one(r.away(-3, 2, zero, 3, 7)), func(x []*Tensor) *Tensor { return ELU(x[0], 1.5) }},
		{"GELU", one(r.u(-3, 3, 3, 7)), func(x []*Tensor) *Tensor { return GELU(x[0]) }},
		{"GELU/strided", one(r.u(-3, 3, 3, 7)), func(x []*Tensor) *Tensor { return GELU(x[0].T()) }},
		{"GELUTanh", one(r.u(-3, 3, 3, 7)), func(x []*Tensor) *Tensor { return GELUTanh(x[0]) }},
		{"SiLU", one(r.u(-4, 4, 3, 7)), func(x []*Tensor) *Tensor { return SiLU(x[0]) }},
		{"Softplus", one(r.away(-3, 3, []float32{1}, 3, 7)), func(x []*Tensor) *Tensor { return Softplus(x[0], 2, 2) }},

		// Softmax family and statistics.
		{"Softmax/last", one(r.u(-2, 2, 3, 5)), func(x []*Tensor) *Tensor { return Softmax(x[0], -1) }},
		{"Softmax/middle", one(r.u(-2, 2, 2, 4, 3)), func(x []*Tensor) *Tensor { return Softmax(x[0], 1) }},
		{"Softmax/strided", one(r.u(-2, 2, 4, 3)), func(x []*Tensor) *Tensor { return Softmax(x[0].T(), 1) }},
		{"LogSoftmax", one(r.u(-2, 2, 3, 5)), func(x []*Tensor) *Tensor { return LogSoftmax(x[0], 1) }},
		{"LogSoftmax/axis0", one(r.u(-2, 2, 4, 3)), func(x []*Tensor) *Tensor { return LogSoftmax(x[0], 0) }},
		{"LogSumExp", one(r.u(-2, 2, 2, 3, 4)), func(x []*Tensor) *Tensor { return LogSumExp(x[0], false, 0, 2) }},
		{"LogSumExp/trailing", one(r.u(-2, 2, 2, 3, 4)), func(x []*Tensor) *Tensor { return LogSumExp(x[0], true, 1, 2) }},
		{"LogSumExp/all", one(r.u(-2, 2, 3, 5)), func(x []*Tensor) *Tensor { return LogSumExp(x[0], false) }},
		{"Var", one(r.u(-2, 2, 3, 6)), func(x []*Tensor) *Tensor { return Var(x[0], true, false, 1) }},
		{"Var/biased/all", one(r.u(-2, 2, 3, 6)), func(x []*Tensor) *Tensor { return Var(x[0], false, true) }},
		{"Std", one(r.u(-2, 2, 3, 6)), func(x []*Tensor) *Tensor { return Std(x[0], true, true, 0) }},

		// Indexing and the loss.
		{"Gather", one(r.u(-1, 1, 3, 4)), func(x []*Tensor) *Tensor {
			return Gather(x[0], 1, IntFromSlice([]int64{0, 3, 3, 1, 2, 0, 1, 1, 3}, 3, 3))
		}},
		{"IndexSelect", one(r.u(-1, 1, 3, 4)), func(x []*Tensor) *Tensor { return IndexSelect(x[0], 1, ints(2, 0, 2)) }},
		{"ScatterAdd", two(r.u(-1, 1, 3, 4), r.u(-1, 1, 2, 4)), func(x []*Tensor) *Tensor {
			return Exp(ScatterAdd(x[0], 0, IntFromSlice([]int64{0, 2, 2, 0, 2, 2, 1, 0}, 2, 4), x[1]))
		}},
		{"Embedding", one(r.u(-1, 1, 5, 3)), func(x []*Tensor) *Tensor {
			return Embedding(ints(4, 1, 4, 0), x[0], 2) /* padding row 2 is never looked up */
		}},
		{"CrossEntropy/mean", one(r.u(-2, 2, 4, 5)), func(x []*Tensor) *Tensor {
			return CrossEntropyWithLogits(x[0], ints(1, 4, 0, 2), nil, -100, 0, "mean")
		}},
		{"CrossEntropy/weighted+smoothed+ignored", one(r.u(-2, 2, 4, 5)), func(x []*Tensor) *Tensor {
			return CrossEntropyWithLogits(x[0], ints(1, 3, 0, 3), w5, 0, 0.2, "mean")
		}},
		{"CrossEntropy/none/spatial", one(r.u(-2, 2, 2, 5, 3)), func(x []*Tensor) *Tensor {
			return CrossEntropyWithLogits(x[0], IntFromSlice([]int64{1, 4, 0, 2, -1, 3}, 2, 3), w5, -1, 0.1, "none")
		}},
		{"CrossEntropy/sum/strided", one(r.u(-2, 2, 5, 4)), func(x []*Tensor) *Tensor {
			return CrossEntropyWithLogits(x[0].T(), ints(1, 4, 0, 2), nil, -100, 0.3, "sum")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := gradCheck(c.in(), c.fn); err != nil {
				t.Error(err)
			}
		})
	}
}

// shifted returns t + s as a fresh leaf.
func shifted(t *Tensor, s float32) *Tensor {
	var out *Tensor
	NoGrad([]*Tensor{t}, func() { out = AddScalar(t, s) })
	return out
}

// TestGradCheckCatchesBugs makes sure the checker is not vacuous: a
// deliberately wrong backward must fail it.
func TestGradCheckCatchesBugs(t *testing.T) {
	wrong := func(x []*Tensor) *Tensor {
		out := mapUnary(x[0], func(v float32) float32 { return v * v })
		return record(out, "Square", x, func(g *Tensor, grads []*Tensor) {
			grads[0] = binary(opMul, g, x[0]) // should be 2·x·g
		})
	}
	if err := gradCheck([]*Tensor{RandU(NewRNG(1), 0.5, 1, 4)}, wrong); err == nil {
		t.Fatal("gradCheck accepted a backward that is off by a factor of 2")
	} else {
		t.Log("as intended:", err)
	}
}
