package tensor

import (
	"fmt"
	"math"

	"github.com/shenml/shen/internal/kernel"
)

// PoolOptions configures MaxPool2D and AvgPool2D. Index 0 is height, 1
// width. A zero Stride means Stride = Kernel, as in PyTorch. CeilMode rounds
// the output size up, so a last partial window is kept when it starts
// inside the input or the left padding. AvgPool2D divides by the whole
// window, padding included, as PyTorch's default count_include_pad=True;
// ExcludePad (count_include_pad=False) divides by the input elements of
// the window only. The zero value is PyTorch's defaults. MaxPool2D
// ignores ExcludePad.
type PoolOptions struct {
	Kernel, Stride, Padding [2]int
	// Dilation spaces MaxPool2D's window taps (torch's dilation; zero
	// means 1). AvgPool2D has none, as in torch, and refuses it.
	Dilation   [2]int
	CeilMode   bool
	ExcludePad bool
}

// Pool1DOptions configures MaxPool1D and AvgPool1D with the meaning of the
// PoolOptions fields of the same names; the zero value is PyTorch's
// defaults (stride = kernel, count_include_pad=True).
type Pool1DOptions struct {
	Kernel, Stride, Padding, Dilation int
	CeilMode                          bool
	ExcludePad                        bool
}

func (o Pool1DOptions) to2D() PoolOptions {
	return PoolOptions{
		Kernel:     [2]int{1, o.Kernel},
		Stride:     [2]int{1, o.Stride},
		Padding:    [2]int{0, o.Padding},
		Dilation:   [2]int{1, o.Dilation},
		CeilMode:   o.CeilMode,
		ExcludePad: o.ExcludePad,
	}
}

// poolGeom is the geometry of one pooling: planes are the N·C independent
// H×W images.
type poolGeom struct {
	planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw int
	dh, dw                                       int // dilation
	includePad                                   bool
}

// poolOut is PyTorch's pooling_output_shape: floor or ceil of the window
// count, dropping a last window that would start in the right padding. k
// is the effective (dilated) kernel, d·(k−1)+1.
func poolOut(in, k, s, p int, ceil bool) int {
	num := in + 2*p - k
	if ceil {
		num += s - 1
	}
	out := num/s + 1
	if num < 0 { // floor division for the (invalid) negative case
		out = (num-s+1)/s + 1
	}
	if ceil && (out-1)*s >= in+p {
		out--
	}
	return out
}

func newPoolGeom(op string, x *Tensor, o PoolOptions) poolGeom {
	if x.Dim() != 3 && x.Dim() != 4 {
		shapePanic(op, "want input (N, C, H, W) or (C, H, W)", x.shape)
	}
	nd := x.Dim()
	g := poolGeom{
		planes: numel(x.shape[:nd-2]), h: x.shape[nd-2], w: x.shape[nd-1],
		kh: o.Kernel[0], kw: o.Kernel[1], sh: o.Stride[0], sw: o.Stride[1],
		ph: o.Padding[0], pw: o.Padding[1], includePad: !o.ExcludePad,
		dh: max(o.Dilation[0], 1), dw: max(o.Dilation[1], 1),
	}
	if o.Dilation[0] < 0 || o.Dilation[1] < 0 {
		panic(fmt.Sprintf("tensor: %s: dilation must be positive, got %v", op, o.Dilation))
	}
	if op == "AvgPool2D" && (g.dh != 1 || g.dw != 1) {
		panic(fmt.Sprintf("tensor: AvgPool2D: dilation %v: average pooling has none (as in torch)", o.Dilation))
	}
	if g.sh == 0 {
		g.sh = g.kh
	}
	if g.sw == 0 {
		g.sw = g.kw
	}
	if g.kh <= 0 || g.kw <= 0 || g.sh <= 0 || g.sw <= 0 || g.ph < 0 || g.pw < 0 {
		panic(fmt.Sprintf("tensor: %s: kernel and stride must be positive and padding non-negative, got %+v", op, o))
	}
	if 2*g.ph > g.kh || 2*g.pw > g.kw {
		panic(fmt.Sprintf("tensor: %s: padding %v must be at most half the kernel %v", op, o.Padding, o.Kernel))
	}
	g.oh = poolOut(g.h, g.dh*(g.kh-1)+1, g.sh, g.ph, o.CeilMode)
	g.ow = poolOut(g.w, g.dw*(g.kw-1)+1, g.sw, g.pw, o.CeilMode)
	if g.oh <= 0 || g.ow <= 0 {
		shapePanic(op, fmt.Sprintf("kernel %v with padding %v gives an empty output", o.Kernel, o.Padding), x.shape)
	}
	return g
}

func (g *poolGeom) outShape(x *Tensor) []int {
	s := append([]int{}, x.shape[:x.Dim()-2]...)
	return append(s, g.oh, g.ow)
}

// window returns the input rows [y0, y1) and columns [x0, x1) of output
// (oy, ox), clipped to the image.
func (g *poolGeom) window(oy, ox int) (y0, y1, x0, x1 int) {
	y0, x0 = oy*g.sh-g.ph, ox*g.sw-g.pw
	return max(y0, 0), min(y0+g.kh, g.h), max(x0, 0), min(x0+g.kw, g.w)
}

// avgDivisor is PyTorch's avg_pool2d divide factor for output (oy, ox):
// the window clipped to the padded image, or to the image itself when
// padding is not counted.
func (g *poolGeom) avgDivisor(oy, ox int) float32 {
	y0, x0 := oy*g.sh-g.ph, ox*g.sw-g.pw
	y1, x1 := min(y0+g.kh, g.h+g.ph), min(x0+g.kw, g.w+g.pw)
	if g.includePad {
		return float32((y1 - y0) * (x1 - x0))
	}
	return float32((min(y1, g.h) - max(y0, 0)) * (min(x1, g.w) - max(x0, 0)))
}

// eachPlane runs fn over the planes [lo, hi) on the worker pool, with
// chunks big enough to repay the wake-up cost.
func eachPlane(planes, work int, fn func(lo, hi int)) {
	kernel.Parallel(planes, (1<<16+work-1)/max(work, 1), fn)
}

// argmaxIn returns the plane offset of the first largest element of the
// window (a NaN wins, as in PyTorch), and that value.
func (g *poolGeom) argmaxIn(src []float32, oy, ox int) (int, float32) {
	if g.dh != 1 || g.dw != 1 {
		return g.argmaxDilated(src, oy, ox)
	}
	y0, y1, x0, x1 := g.window(oy, ox)
	best, bi := float32(math.Inf(-1)), y0*g.w+x0
	for y := y0; y < y1; y++ {
		row := src[y*g.w : (y+1)*g.w]
		for x := x0; x < x1; x++ {
			if v := row[x]; v > best || v != v {
				best, bi = v, y*g.w+x
			}
		}
	}
	return bi, best
}

// argmaxDilated is argmaxIn over the taps y0 + i·dh, x0 + j·dw that fall
// inside the image (padding counts as -Inf).
func (g *poolGeom) argmaxDilated(src []float32, oy, ox int) (int, float32) {
	y0, x0 := oy*g.sh-g.ph, ox*g.sw-g.pw
	best, bi := float32(math.Inf(-1)), -1
	for i := 0; i < g.kh; i++ {
		y := y0 + i*g.dh
		if y < 0 || y >= g.h {
			continue
		}
		for j := 0; j < g.kw; j++ {
			x := x0 + j*g.dw
			if x < 0 || x >= g.w {
				continue
			}
			if v := src[y*g.w+x]; bi < 0 || v > best || v != v {
				best, bi = v, y*g.w+x
			}
		}
	}
	return bi, best
}

// fast2x2 reports whether every window is a full 2×2 block at stride 2
// (LeNet's and most CNNs' pooling), which kernel.MaxPool2x2Row and
// MaxPool2x2RowBackward serve a row at a time without any clipping
// arithmetic, with the same choice of maximum as argmaxIn.
func (g *poolGeom) fast2x2() bool {
	return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 && g.dh == 1 && g.dw == 1 &&
		2*g.oh <= g.h && 2*g.ow <= g.w
}

// MaxPool2D returns the largest element of each Kernel window of x
// (N, C, H, W) or (C, H, W), torch.nn.functional.max_pool2d (with
// Dilation spacing the taps).
// Padding counts as -Inf. The gradient goes to the first maximum of each
// window, as in PyTorch. Cost: one pass over each window forward; backward
// finds the argmaxes again from x instead of keeping an index tensor, so a
// training step allocates nothing for them.
func MaxPool2D(x *Tensor, opt PoolOptions) *Tensor {
	g := newPoolGeom("MaxPool2D", x, opt)
	xc := x.Contiguous()
	out := newTensor(g.outShape(xc), false)
	xd, od := xc.Data(), out.st.data
	hw, ohw := g.h*g.w, g.oh*g.ow
	fast := g.fast2x2()
	eachPlane(g.planes, ohw*g.kh*g.kw, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			src, dst := xd[p*hw:(p+1)*hw], od[p*ohw:(p+1)*ohw]
			for oy := 0; oy < g.oh; oy++ {
				if fast {
					kernel.MaxPool2x2Row(dst[oy*g.ow:(oy+1)*g.ow], src[2*oy*g.w:], src[(2*oy+1)*g.w:])
					continue
				}
				for ox := 0; ox < g.ow; ox++ {
					_, dst[oy*g.ow+ox] = g.argmaxIn(src, oy, ox)
				}
			}
		}
	})
	return record(out, "MaxPool2D", []*Tensor{xc}, func(gr *Tensor, grads []*Tensor) {
		gc := contiguousTemp(gr)
		defer releaseTemp(gc, gr)
		dx := newTensor(xc.shape, !fast)
		gd, dd := gc.Data(), dx.st.data
		eachPlane(g.planes, ohw*g.kh*g.kw, func(lo, hi int) {
			for p := lo; p < hi; p++ {
				src, gp, dp := xd[p*hw:(p+1)*hw], gd[p*ohw:(p+1)*ohw], dd[p*hw:(p+1)*hw]
				if fast {
					// Every block is written whole; rows and columns
					// past the last block get no gradient.
					for oy := 0; oy < g.oh; oy++ {
						r0, r1 := 2*oy*g.w, (2*oy+1)*g.w
						kernel.MaxPool2x2RowBackward(dp[r0:], src[r0:], g.w, gp[oy*g.ow:(oy+1)*g.ow])
						if 2*g.ow < g.w {
							clear(dp[r0+2*g.ow : r0+g.w])
							clear(dp[r1+2*g.ow : r1+g.w])
						}
					}
					clear(dp[2*g.oh*g.w:])
					continue
				}
				for oy := 0; oy < g.oh; oy++ {
					for ox := 0; ox < g.ow; ox++ {
						if i, _ := g.argmaxIn(src, oy, ox); i >= 0 { // -1: a dilated window wholly in the padding
							dp[i] += gp[oy*g.ow+ox]
						}
					}
				}
			}
		})
		grads[0] = dx
	})
}

// AvgPool2D returns the mean of each Kernel window of x (N, C, H, W) or
// (C, H, W), torch.nn.functional.avg_pool2d (without divisor_override):
// padding adds zeros, and the divisor counts them unless ExcludePad
// (PyTorch's count_include_pad=False). Cost: one pass over each window, forward and backward.
func AvgPool2D(x *Tensor, opt PoolOptions) *Tensor {
	g := newPoolGeom("AvgPool2D", x, opt)
	xc := x.Contiguous()
	out := newTensor(g.outShape(xc), false)
	xd, od := xc.Data(), out.st.data
	hw, ohw := g.h*g.w, g.oh*g.ow
	eachPlane(g.planes, ohw*g.kh*g.kw, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			src, dst := xd[p*hw:(p+1)*hw], od[p*ohw:(p+1)*ohw]
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					y0, y1, x0, x1 := g.window(oy, ox)
					var s float32
					for y := y0; y < y1; y++ {
						for _, v := range src[y*g.w+x0 : y*g.w+max(x1, x0)] {
							s += v
						}
					}
					if y0 >= y1 || x0 >= x1 {
						s = 0
					} else {
						s /= g.avgDivisor(oy, ox)
					}
					dst[oy*g.ow+ox] = s
				}
			}
		}
	})
	return record(out, "AvgPool2D", []*Tensor{xc}, func(gr *Tensor, grads []*Tensor) {
		gc := contiguousTemp(gr)
		defer releaseTemp(gc, gr)
		dx := newTensor(xc.shape, true)
		gd, dd := gc.Data(), dx.st.data
		eachPlane(g.planes, ohw*g.kh*g.kw, func(lo, hi int) {
			for p := lo; p < hi; p++ {
				gp, dp := gd[p*ohw:(p+1)*ohw], dd[p*hw:(p+1)*hw]
				for oy := 0; oy < g.oh; oy++ {
					for ox := 0; ox < g.ow; ox++ {
						y0, y1, x0, x1 := g.window(oy, ox)
						if y0 >= y1 || x0 >= x1 {
							continue
						}
						v := gp[oy*g.ow+ox] / g.avgDivisor(oy, ox)
						for y := y0; y < y1; y++ {
							row := dp[y*g.w+x0 : y*g.w+x1]
							for i := range row {
								row[i] += v
							}
						}
					}
				}
			}
		})
		grads[0] = dx
	})
}

// MaxPool1D is MaxPool2D over the last dim of x (N, C, L) or (C, L),
// torch.nn.functional.max_pool1d. It runs MaxPool2D on a height-1 view.
func MaxPool1D(x *Tensor, opt Pool1DOptions) *Tensor {
	if x.Dim() != 2 && x.Dim() != 3 {
		shapePanic("MaxPool1D", "want input (N, C, L) or (C, L)", x.shape)
	}
	return MaxPool2D(x.Unsqueeze(-2), opt.to2D()).Squeeze(-2)
}

// AvgPool1D is AvgPool2D over the last dim of x (N, C, L) or (C, L),
// torch.nn.functional.avg_pool1d. It runs AvgPool2D on a height-1 view.
func AvgPool1D(x *Tensor, opt Pool1DOptions) *Tensor {
	if x.Dim() != 2 && x.Dim() != 3 {
		shapePanic("AvgPool1D", "want input (N, C, L) or (C, L)", x.shape)
	}
	return AvgPool2D(x.Unsqueeze(-2), opt.to2D()).Squeeze(-2)
}

// adaptiveSpan is PyTorch's adaptive pooling window of output i of n over
// an input of length in: [floor(i·in/n), ceil((i+1)·in/n)).
func adaptiveSpan(i, n, in int) (int, int) {
	return i * in / n, ((i+1)*in + n - 1) / n
}

// AdaptiveAvgPool2D averages x (N, C, H, W) or (C, H, W) down to outH×outW
// with torch.nn.functional.adaptive_avg_pool2d's windows (which may overlap
// or differ in size when H or W is not a multiple). AdaptiveAvgPool2D(x, 1, 1)
// is global average pooling. Cost: one pass over the input, forward and backward.
func AdaptiveAvgPool2D(x *Tensor, outH, outW int) *Tensor {
	if x.Dim() != 3 && x.Dim() != 4 {
		shapePanic("AdaptiveAvgPool2D", "want input (N, C, H, W) or (C, H, W)", x.shape)
	}
	if outH <= 0 || outW <= 0 {
		panic(fmt.Sprintf("tensor: AdaptiveAvgPool2D: output size %dx%d must be positive", outH, outW))
	}
	xc := x.Contiguous()
	nd := xc.Dim()
	h, w := xc.shape[nd-2], xc.shape[nd-1]
	planes := numel(xc.shape[:nd-2])
	shape := append(append([]int{}, xc.shape[:nd-2]...), outH, outW)
	out := newTensor(shape, false)
	xd, od := xc.Data(), out.st.data
	hw, ohw := h*w, outH*outW
	work := hw + ohw
	eachPlane(planes, work, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			src, dst := xd[p*hw:(p+1)*hw], od[p*ohw:(p+1)*ohw]
			for oy := 0; oy < outH; oy++ {
				y0, y1 := adaptiveSpan(oy, outH, h)
				for ox := 0; ox < outW; ox++ {
					x0, x1 := adaptiveSpan(ox, outW, w)
					var s float32
					for y := y0; y < y1; y++ {
						s += kernel.Sum(src[y*w+x0 : y*w+x1])
					}
					dst[oy*outW+ox] = s / float32((y1-y0)*(x1-x0))
				}
			}
		}
	})
	return record(out, "AdaptiveAvgPool2D", []*Tensor{xc}, func(gr *Tensor, grads []*Tensor) {
		gc := contiguousTemp(gr)
		defer releaseTemp(gc, gr)
		dx := newTensor(xc.shape, true)
		gd, dd := gc.Data(), dx.st.data
		eachPlane(planes, work, func(lo, hi int) {
			for p := lo; p < hi; p++ {
				gp, dp := gd[p*ohw:(p+1)*ohw], dd[p*hw:(p+1)*hw]
				for oy := 0; oy < outH; oy++ {
					y0, y1 := adaptiveSpan(oy, outH, h)
					for ox := 0; ox < outW; ox++ {
						x0, x1 := adaptiveSpan(ox, outW, w)
						v := gp[oy*outW+ox] / float32((y1-y0)*(x1-x0))
						for y := y0; y < y1; y++ {
							row := dp[y*w+x0 : y*w+x1]
							for i := range row {
								row[i] += v
							}
						}
					}
				}
			}
		})
		grads[0] = dx
	})
}

// contiguousTemp returns t, or a contiguous copy of it without history
// that releaseTemp hands back to the pool.
func contiguousTemp(t *Tensor) *Tensor {
	if t.IsContiguous() {
		return t
	}
	c := newTensor(t.shape, false)
	copyInto(c, t)
	return c
}

// releaseTemp releases c if contiguousTemp made it as a copy of t.
func releaseTemp(c, t *Tensor) {
	if c != t {
		c.Release()
	}
}
