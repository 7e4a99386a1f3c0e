package tensor

import (
	"fmt"
	"testing"

	"github.com/shenml/shen/internal/kernel"
)

// TestConvMatchesTorch replays testdata/torch/conv.json: conv2d and conv1d
// with stride, padding, dilation, groups (depthwise included), 1×1 filters
// and a strided input, forward and every gradient.
func TestConvMatchesTorch(t *testing.T) {
	for _, c := range loadFixtures(t, "conv") {
		t.Run(c.Name, func(t *testing.T) {
			checkCase(t, c, 1e-4, func(in []*Tensor) *Tensor {
				var b *Tensor
				if len(in) > 2 {
					b = in[2]
				}
				switch c.Op {
				case "conv2d":
					var a struct {
						Stride, Padding, Dilation []int
						Groups                    int
						Transpose                 bool
					}
					c.args(t, &a)
					x := in[0]
					if a.Transpose {
						x = x.Transpose(-1, -2)
					}
					return Conv2D(x, in[1], b, Conv2DOptions{
						Stride:   [2]int(a.Stride),
						Padding:  [2]int(a.Padding),
						Dilation: [2]int(a.Dilation),
						Groups:   a.Groups,
					})
				case "conv1d":
					var a Conv1DOptions
					c.args(t, &a)
					return Conv1D(in[0], in[1], b, a)
				}
				t.Fatalf("no Go op for fixture op %q", c.Op)
				return nil
			})
		})
	}
}

// TestConv2DDefaults checks that the zero Conv2DOptions means stride 1,
// padding 0, dilation 1, groups 1, and that bad shapes panic.
func TestConv2DDefaults(t *testing.T) {
	x := RandN(NewRNG(4), 1, 2, 5, 5)
	w := RandN(NewRNG(5), 3, 2, 3, 3)
	a := Conv2D(x, w, nil, Conv2DOptions{})
	b := Conv2D(x, w, nil, Conv2DOptions{Stride: [2]int{1, 1}, Dilation: [2]int{1, 1}, Groups: 1})
	if !SameShape(a.Shape(), []int{1, 3, 3, 3}) {
		t.Fatalf("shape %v", a.Shape())
	}
	if i, ok := closeTo(a.Data(), toF64(b.Data()), 0); !ok {
		t.Fatalf("element %d differs", i)
	}
	for _, bad := range []func(){
		func() { Conv2D(x, RandN(NewRNG(1), 3, 1, 3, 3), nil, Conv2DOptions{}) },          // channels
		func() { Conv2D(x, RandN(NewRNG(1), 3, 2, 7, 7), nil, Conv2DOptions{}) },          // kernel too big
		func() { Conv2D(x, RandN(NewRNG(1), 3, 1, 3, 3), nil, Conv2DOptions{Groups: 2}) }, // O % groups
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("want a panic")
				}
			}()
			bad()
		}()
	}
}

func toF64(d []float32) []float64 {
	out := make([]float64, len(d))
	for i, v := range d {
		out[i] = float64(v)
	}
	return out
}

// TestConv2DParallelMatchesSerial runs a batch big enough to be split over
// the worker pool (per-chunk column buffers and dW partials) and compares
// it with the same samples convolved one at a time.
func TestConv2DParallelMatchesSerial(t *testing.T) {
	defer kernel.SetThreads(kernel.SetThreads(4))
	rng := NewRNG(6)
	const n = 40
	x := RandN(rng, n, 3, 40, 40).SetRequiresGrad(true) // 9 samples per GEMM: chunks end in a partial group
	w := RandN(rng, 8, 3, 5, 5).SetRequiresGrad(true)
	b := RandN(rng, 8).SetRequiresGrad(true)
	up := RandN(rng, n, 8, 19, 19)
	opt := Conv2DOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}
	Sum(Mul(Conv2D(x, w, b, opt), up), false).Backward()

	w1 := w.Detach().SetRequiresGrad(true)
	b1 := b.Detach().SetRequiresGrad(true)
	for i := 0; i < n; i++ {
		xi := x.Detach().Narrow(0, i, 1).SetRequiresGrad(true)
		yi := Conv2D(xi, w1, b1, opt)
		if j, ok := closeTo(yi.Data(), toF64(Conv2D(x.Detach(), w, b, opt).Narrow(0, i, 1).Data()), 1e-5); !ok {
			t.Fatalf("sample %d output element %d differs", i, j)
		}
		Sum(Mul(yi, up.Narrow(0, i, 1)), false).Backward()
		if j, ok := closeTo(xi.Grad().Data(), toF64(x.Grad().Narrow(0, i, 1).Data()), 1e-5); !ok {
			t.Fatalf("sample %d dx element %d differs", i, j)
		}
	}
	if j, ok := closeTo(w.Grad().Data(), toF64(w1.Grad().Data()), 1e-4); !ok {
		t.Fatalf("dw element %d differs: %v vs %v", j, w.Grad().Data()[j], w1.Grad().Data()[j])
	}
	if j, ok := closeTo(b.Grad().Data(), toF64(b1.Grad().Data()), 1e-4); !ok {
		t.Fatalf("db element %d differs", j)
	}
}

// TestConvShiftMatchesIm2col compares the direct (column-free) path with
// im2col + GEMM on random small shapes: padding 0..2, odd sizes, batch
// 1..5 (and one batch over several weight-gradient blocks), channels 1..8,
// filters 1..5, forward, dX and dW. It runs the direct path even where
// Conv2D would not choose it (no assembly), so the pure-Go fallback is
// covered under -tags noasm.
func TestConvShiftMatchesIm2col(t *testing.T) {
	rng := NewRNG(11)
	for it := 0; it < 300; it++ {
		n := 1 + rng.IntN(5)
		if it%25 == 0 {
			n = 2*shiftBlock + 3
		}
		c, o := 1+rng.IntN(8), 1+rng.IntN(8)
		if it%7 == 0 {
			o = 9 + rng.IntN(24)
		}
		kh, kw := 1+rng.IntN(5), 1+rng.IntN(5)
		ph, pw := rng.IntN(min(3, kh)), rng.IntN(min(3, kw))
		h := max(1, kh-2*ph) + rng.IntN(17)
		wd := max(1, kw-2*pw) + rng.IntN(17)
		x := RandN(rng, n, c, h, wd)
		w := RandN(rng, o, c, kh, kw)
		b := RandN(rng, o)
		g := newConvGeom("test", x, w, b, Conv2DOptions{Padding: [2]int{ph, pw}})
		if !g.shiftable() {
			if g.direct() {
				continue
			}
			t.Fatalf("%+v not shiftable", g)
		}
		name := func() string {
			return fmt.Sprintf("n=%d c=%d o=%d %dx%d k=%dx%d pad=%d,%d", n, c, o, h, wd, kh, kw, ph, pw)
		}
		want := make([]float32, g.n*g.o*g.spatial())
		got := make([]float32, len(want))
		im2colForward(&g, x.Data(), w.Data(), b.Data(), want)
		shiftForward(&g, x.Data(), w.Data(), b.Data(), got)
		if i, ok := closeTo(got, toF64(want), 1e-4); !ok {
			t.Fatalf("%s: out[%d] = %v, im2col %v", name(), i, got[i], want[i])
		}
		gr := RandN(rng, g.n, g.o, g.oh, g.ow).Data()
		dx0, dw0 := newTensor(x.Shape(), true), newTensor(w.Shape(), true)
		im2colBackward(&g, x.Data(), w.Data(), gr, dx0, dw0)
		var dw1 *Tensor
		for _, cols := range []bool{false, true} { // both ways to dX
			mode := dxGather
			if cols {
				mode = dxByCols
			}
			dx1 := newTensor(x.Shape(), true)
			dw1 = newTensor(w.Shape(), true)
			shiftBackwardMode(&g, mode, x.Data(), w.Data(), gr, dx1, dw1)
			if i, ok := closeTo(dx1.Data(), toF64(dx0.Data()), 1e-4); !ok {
				t.Fatalf("%s cols=%v: dx[%d] = %v, im2col %v", name(), cols, i, dx1.Data()[i], dx0.Data()[i])
			}
			if i, ok := closeTo(dw1.Data(), toF64(dw0.Data()), 1e-4); !ok {
				t.Fatalf("%s cols=%v: dw[%d] = %v, im2col %v", name(), cols, i, dw1.Data()[i], dw0.Data()[i])
			}
		}
		// Only dW (a first layer): dx nil.
		dw2 := newTensor(w.Shape(), true)
		shiftBackward(&g, x.Data(), w.Data(), gr, nil, dw2)
		if i, ok := closeTo(dw2.Data(), toF64(dw1.Data()), 0); !ok {
			t.Fatalf("%s: dw without dx differs at %d", name(), i)
		}
	}
}

// TestConvShiftDeterministic checks that the direct path's weight gradient
// is bit-identical at 1 and 2 threads.
func TestConvShiftDeterministic(t *testing.T) {
	rng := NewRNG(12)
	x := RandN(rng, 64, 6, 14, 14)
	w := RandN(rng, 16, 6, 5, 5)
	g := newConvGeom("test", x, w, nil, Conv2DOptions{})
	gr := RandN(rng, 64, 16, 10, 10).Data()
	var dws [2]*Tensor
	for i, th := range []int{1, 2} {
		prev := kernel.SetThreads(th)
		dws[i] = newTensor(w.Shape(), true)
		shiftBackward(&g, x.Data(), w.Data(), gr, nil, dws[i])
		kernel.SetThreads(prev)
	}
	if i, ok := closeTo(dws[1].Data(), toF64(dws[0].Data()), 0); !ok {
		t.Fatalf("dw[%d] differs between 1 and 2 threads", i)
	}
}
