package tensor

import (
	"math"
	"testing"
)

// TestPoolingMatchesTorch replays testdata/torch/pooling.json: max and
// average pooling in 1-d and 2-d with padding, ceil_mode, stride ≠ kernel,
// count_include_pad and ties, and adaptive average pooling, forward and
// backward.
func TestPoolingMatchesTorch(t *testing.T) {
	for _, c := range loadFixtures(t, "pooling") {
		t.Run(c.Name, func(t *testing.T) {
			checkCase(t, c, 1e-5, func(in []*Tensor) *Tensor {
				switch c.Op {
				case "maxpool2d", "avgpool2d":
					var a struct {
						Kernel, Stride, Padding, Dilation []int
						Ceil, Include                     bool
					}
					c.args(t, &a)
					o := PoolOptions{Kernel: [2]int(a.Kernel), Stride: [2]int(a.Stride), Padding: [2]int(a.Padding),
						CeilMode: a.Ceil, ExcludePad: !a.Include}
					if a.Dilation != nil {
						o.Dilation = [2]int(a.Dilation)
					}
					if c.Op == "maxpool2d" {
						return MaxPool2D(in[0], o)
					}
					return AvgPool2D(in[0], o)
				case "maxpool1d", "avgpool1d":
					var a struct {
						Kernel, Stride, Padding, Dilation int
						Ceil, Include                     bool
					}
					c.args(t, &a)
					o := Pool1DOptions{Kernel: a.Kernel, Stride: a.Stride, Padding: a.Padding, Dilation: a.Dilation, CeilMode: a.Ceil, ExcludePad: !a.Include}
					if c.Op == "maxpool1d" {
						return MaxPool1D(in[0], o)
					}
					return AvgPool1D(in[0], o)
				case "adaptive":
					var a struct{ Out []int }
					c.args(t, &a)
					return AdaptiveAvgPool2D(in[0], a.Out[0], a.Out[1])
				}
				t.Fatalf("no Go op for fixture op %q", c.Op)
				return nil
			})
		})
	}
}

func TestPoolingRejectsBadOptions(t *testing.T) {
	x := Zeros(1, 1, 4, 4)
	for name, f := range map[string]func(){
		"zero kernel":  func() { MaxPool2D(x, PoolOptions{}) },
		"pad > k/2":    func() { MaxPool2D(x, PoolOptions{Kernel: [2]int{2, 2}, Padding: [2]int{2, 0}}) },
		"too big":      func() { AvgPool2D(x, PoolOptions{Kernel: [2]int{5, 5}}) },
		"rank":         func() { MaxPool2D(Zeros(4, 4), PoolOptions{Kernel: [2]int{2, 2}}) },
		"adaptive 0x1": func() { AdaptiveAvgPool2D(x, 0, 1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: want a panic", name)
				}
			}()
			f()
		}()
	}
}

// TestMaxPool2x2FastPathMatchesScan checks the branch-free 2×2 stride-2
// path against argmaxIn's scan on inputs full of ties and signed zeros,
// with and without NaNs, on sizes that leave a row and a column outside
// every block, and on rows long enough for the vector kernel (8 blocks
// and more, with a partial last group).
func TestMaxPool2x2FastPathMatchesScan(t *testing.T) {
	rng := NewRNG(3)
	nan := float32(math.NaN())
	for _, sz := range []struct {
		h, w    int
		withNaN bool
	}{{7, 9, true}, {5, 27, true}, {5, 35, false}, {6, 16, false}, {4, 42, false}} {
		const n, c = 2, 3
		h, w := sz.h, sz.w
		data := make([]float32, n*c*h*w)
		vals := []float32{0, float32(math.Copysign(0, -1)), 1, 1, -2, 3}
		if sz.withNaN {
			vals[5] = nan
		}
		for i := range data {
			data[i] = vals[rng.IntN(len(vals))]
		}
		x := FromSlice(data, n, c, h, w).SetRequiresGrad(true)
		opt := PoolOptions{Kernel: [2]int{2, 2}}
		y := MaxPool2D(x, opt)
		up := RandN(rng, y.Shape()...)
		y.BackwardWith(up, false)
		g := newPoolGeom("test", x, opt)
		if !g.fast2x2() {
			t.Fatal("want the fast path")
		}
		want := make([]float32, len(data))
		hw, ohw := h*w, g.oh*g.ow
		for p := 0; p < g.planes; p++ {
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					i, v := g.argmaxIn(data[p*hw:(p+1)*hw], oy, ox)
					got := y.Data()[p*ohw+oy*g.ow+ox]
					if got != v && !(got != got && v != v) {
						t.Fatalf("%dx%d: plane %d (%d,%d): max %v, want %v", h, w, p, oy, ox, got, v)
					}
					want[p*hw+i] += up.Data()[p*ohw+oy*g.ow+ox]
				}
			}
		}
		for i, v := range x.Grad().Data() {
			if v != want[i] {
				t.Fatalf("%dx%d: grad[%d] = %v, want %v", h, w, i, v, want[i])
			}
		}
	}
}
