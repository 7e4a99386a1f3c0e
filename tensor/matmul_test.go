package tensor

import (
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/shenml/shen/internal/kernel"
)

// fxView builds the strided view named by gen_matmul.py's view().
func fxView(x *Tensor, how string) *Tensor {
	switch {
	case how == "t":
		return x.Transpose(-1, -2)
	case how == "rows2":
		return x.Slice(-2, 0, x.Size(-2), 2)
	case how == "cols2":
		return x.Slice(-1, 0, x.Size(-1), 2)
	case strings.HasPrefix(how, "expand"):
		n, _ := strconv.Atoi(how[6:])
		return x.Expand(append([]int{n}, x.Shape()[1:]...)...)
	}
	return x
}

// TestMatmulMatchesTorch replays testdata/torch/matmul.json: torch.matmul
// over 1-d to 4-d operands with broadcasting and strided views, and
// F.linear, forward and both (or all three) gradients.
func TestMatmulMatchesTorch(t *testing.T) {
	for _, c := range loadFixtures(t, "matmul") {
		t.Run(c.Name, func(t *testing.T) {
			var a struct{ Va, Vb string }
			c.args(t, &a)
			checkCase(t, c, 1e-5, func(in []*Tensor) *Tensor {
				x, y := fxView(in[0], a.Va), fxView(in[1], a.Vb)
				switch c.Op {
				case "matmul":
					return Matmul(x, y)
				case "linear":
					var b *Tensor
					if len(in) > 2 {
						b = in[2]
					}
					return Linear(x, y, b)
				}
				t.Fatalf("no Go op for fixture op %q", c.Op)
				return nil
			})
		})
	}
}

// TestMatmulReadsViewsInPlace checks that transposed and row-sliced views
// reach Sgemm through flags and strides rather than as copies.
func TestMatmulReadsViewsInPlace(t *testing.T) {
	x := RandN(NewRNG(1), 4, 6, 8)
	for _, v := range []*Tensor{x, x.Transpose(1, 2), x.Slice(1, 0, 6, 2), x.Index(0, 1).T()} {
		if _, tmp := asMat(v, v.Shape()[:v.Dim()-2]); tmp != nil {
			t.Errorf("view of shape %v strides %v was copied", v.Shape(), v.Strides())
		}
	}
	if _, tmp := asMat(x.Slice(2, 0, 8, 2), []int{4}); tmp == nil {
		t.Errorf("column-strided view should need a copy")
	}
}

func TestMatmulShapeErrors(t *testing.T) {
	for _, tc := range []struct{ a, b []int }{
		{[]int{3, 4}, []int{5, 2}},
		{[]int{2, 3, 4}, []int{3, 4, 2}},
		{[]int{4}, []int{5}},
	} {
		func() {
			defer func() {
				var se *ShapeError
				e, _ := recover().(error)
				if !errors.As(e, &se) || !strings.Contains(se.Error(), "Matmul") {
					t.Errorf("Matmul(%v, %v): want a ShapeError, got %v", tc.a, tc.b, e)
				}
			}()
			Matmul(Zeros(tc.a...), Zeros(tc.b...))
		}()
	}
}

func TestMatmulEmpty(t *testing.T) {
	a := Zeros(3, 0).SetRequiresGrad(true)
	b := Zeros(0, 4).SetRequiresGrad(true)
	out := Matmul(a, b)
	if !SameShape(out.Shape(), []int{3, 4}) {
		t.Fatalf("shape %v", out.Shape())
	}
	for _, v := range out.Data() {
		if v != 0 {
			t.Fatalf("k=0 product should be zeros, got %v", out)
		}
	}
	Sum(out, false).Backward()
	if Matmul(Zeros(2, 0, 3), Zeros(3, 5)).Numel() != 0 {
		t.Fatal("empty batch should give an empty result")
	}
}

// TestMatmulBatchParallel runs enough small products to be spread over the
// worker pool and checks each against the 2-d product of its slices.
func TestMatmulBatchParallel(t *testing.T) {
	defer kernel.SetThreads(kernel.SetThreads(4))
	rng := NewRNG(7)
	a, b := RandN(rng, 300, 24, 20), RandN(rng, 300, 24, 20).Transpose(1, 2) // 11520 MACs each: several chunks
	c := Matmul(a, b)
	for i := 0; i < 300; i += 37 {
		want := Matmul(a.Index(0, i), b.Index(0, i))
		if j, ok := closeTo(c.Index(0, i).Contiguous().Data(), toF64(want.Data()), 1e-6); !ok {
			t.Fatalf("batch %d element %d differs", i, j)
		}
	}
}

// TestLinearWritesWeightGradInPlace checks the weight gradient that
// Linear's backward writes straight into the parameter's Grad
// (leafGradInto): a weight used twice in one graph, accumulation over two
// Backward calls, and ZeroGrad between, against the same graph with the
// weight reached through an op (so its gradient takes the general path),
// to rounding. The Grad buffer must stay the same one throughout.
func TestLinearWritesWeightGradInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	rnd := func(shape ...int) *Tensor {
		d := make([]float32, numel(shape))
		for i := range d {
			d[i] = r.Float32()*2 - 1
		}
		return FromSlice(d, shape...)
	}
	x1, x2, c := rnd(5, 30), rnd(7, 30), rnd(7, 20)
	w, b := rnd(20, 30).SetRequiresGrad(true), rnd(20).SetRequiresGrad(true)
	ref := FromSlice(append([]float32(nil), w.Data()...), 20, 30).SetRequiresGrad(true)
	loss := func(w *Tensor) *Tensor {
		return Add(Sum(Linear(x1, w, nil), false), Sum(Mul(Linear(x2, w, b), c), false))
	}
	step := func() {
		loss(w).Backward()
		loss(Mul(ref, Full(1, 20, 30))).Backward()
	}
	same := func(when string) {
		t.Helper()
		g, want := w.Grad().Data(), ref.Grad().Data()
		for i := range want {
			// Adding the second use's terms into the first's (beta 1)
			// rounds differently from adding two finished gradients.
			if d := math.Abs(float64(g[i] - want[i])); d > 1e-6*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("%s: dW[%d] = %v, want %v", when, i, g[i], want[i])
			}
		}
	}
	step()
	same("first Backward")
	buf := &w.Grad().Data()[0]
	step()
	same("second Backward (accumulated)")
	w.ZeroGrad()
	ref.ZeroGrad()
	step()
	same("after ZeroGrad")
	if &w.Grad().Data()[0] != buf {
		t.Error("the weight's Grad buffer was replaced")
	}
}
