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

// TestGradsWrittenInPlace checks the parameter gradients that Linear's and
// Conv2D's backward write straight into the parameters' Grad
// (leafGradInto, leafGradSum): parameters used twice in one graph,
// accumulation over two Backward calls, and ZeroGrad between, against the
// same graph with the parameters reached through an op (so their
// gradients take the general path), to rounding. The Grad buffers must
// stay the same ones throughout.
func TestGradsWrittenInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	rnd := func(shape ...int) *Tensor {
		d := make([]float32, numel(shape))
		for i := range d {
			d[i] = r.Float32()*2 - 1
		}
		return FromSlice(d, shape...)
	}
	twin := func(p *Tensor) *Tensor {
		return FromSlice(append([]float32(nil), p.Data()...), p.Shape()...).SetRequiresGrad(true)
	}
	through := func(p *Tensor) *Tensor { return Mul(p, Full(1, p.Shape()...)) }
	linear := func() (params []*Tensor, loss func(ps []*Tensor) *Tensor) {
		x1, x2, c := rnd(5, 30), rnd(7, 30), rnd(7, 20)
		params = []*Tensor{rnd(20, 30).SetRequiresGrad(true), rnd(20).SetRequiresGrad(true)}
		return params, func(ps []*Tensor) *Tensor {
			return Add(Sum(Linear(x1, ps[0], nil), false), Sum(Mul(Linear(x2, ps[0], ps[1]), c), false))
		}
	}
	conv := func() (params []*Tensor, loss func(ps []*Tensor) *Tensor) {
		x1, x2 := rnd(2, 3, 9, 9), rnd(3, 3, 8, 8)
		params = []*Tensor{rnd(4, 3, 3, 3).SetRequiresGrad(true), rnd(4).SetRequiresGrad(true)}
		return params, func(ps []*Tensor) *Tensor {
			y1 := Conv2D(x1, ps[0], ps[1], Conv2DOptions{})
			y2 := Conv2D(x2, ps[0], ps[1], Conv2DOptions{Padding: [2]int{1, 1}})
			return Add(Sum(Mul(y1, y1), false), Sum(y2, false))
		}
	}
	for name, build := range map[string]func() ([]*Tensor, func([]*Tensor) *Tensor){"Linear": linear, "Conv2D": conv} {
		params, loss := build()
		refs := make([]*Tensor, len(params))
		for i, p := range params {
			refs[i] = twin(p)
		}
		step := func() {
			loss(params).Backward()
			via := make([]*Tensor, len(refs))
			for i, p := range refs {
				via[i] = through(p)
			}
			loss(via).Backward()
		}
		same := func(when string) {
			t.Helper()
			for i, p := range params {
				g, want := p.Grad().Data(), refs[i].Grad().Data()
				for j := range want {
					// Adding the second use's terms into the first's
					// rounds differently from adding two finished
					// gradients.
					if d := math.Abs(float64(g[j] - want[j])); d > 1e-5*(1+math.Abs(float64(want[j]))) {
						t.Fatalf("%s, %s: parameter %d grad[%d] = %v, want %v", name, when, i, j, g[j], want[j])
					}
				}
			}
		}
		step()
		same("first Backward")
		bufs := make([]*float32, len(params))
		for i, p := range params {
			bufs[i] = &p.Grad().Data()[0]
		}
		step()
		same("second Backward (accumulated)")
		for i := range params {
			params[i].ZeroGrad()
			refs[i].ZeroGrad()
		}
		step()
		same("after ZeroGrad")
		for i, p := range params {
			if &p.Grad().Data()[0] != bufs[i] {
				t.Errorf("%s: parameter %d's Grad buffer was replaced", name, i)
			}
		}
	}
}
