package quant

import (
	"fmt"
	"math"
	"sync"
	"unsafe"

	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
)

// weights holds a float weight [out, k...] as int8 codes per output
// channel, ready for kernel.Int8Gemm.
type weights struct {
	q     *kernel.Int8Weights
	scale []float32 // per output channel: w ≈ code·scale
}

// quantizeWeights codes each of the out rows of w (k values each) with
// its own symmetric scale max|w|/127 (1 for an all-zero row).
func quantizeWeights(w []float32, out, k int) weights {
	codes := make([]int8, out*k)
	scale := make([]float32, out)
	for o := 0; o < out; o++ {
		row := w[o*k : (o+1)*k]
		var m float32
		for _, v := range row {
			m = max(m, float32(math.Abs(float64(v))))
		}
		s := m / 127
		if s == 0 {
			s = 1
		}
		scale[o] = s
		kernel.QuantizeInt8(codes[o*k:(o+1)*k], row, s)
	}
	return weights{q: kernel.NewInt8Weights(out, k, codes), scale: scale}
}

// scratch recycles the int8 and int32 buffers of forward passes, so
// steady-state inference allocates only its output tensors.
type scratch struct {
	codes []int8
	sums  []int32
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func (s *scratch) grow(codes, sums int) {
	if cap(s.codes) < codes {
		s.codes = make([]int8, codes)
	}
	if cap(s.sums) < sums {
		s.sums = make([]int32, sums)
	}
	s.codes, s.sums = s.codes[:codes], s.sums[:sums]
}

// Linear is the int8 version of nn.Linear: y = x·Wᵀ + b with x and W coded
// in int8 and the products summed in int32.
type Linear struct {
	// Float is the layer it was made from; its parameters stay the
	// layer's state dict, so a quantised network saves like the original.
	Float   *nn.Linear
	InScale float32
	w       weights
}

// NewLinear quantises l's weights for inputs coded with step inScale.
func NewLinear(l *nn.Linear, inScale float32) *Linear {
	sh := l.Weight.Shape()
	return &Linear{Float: l, InScale: inScale, w: quantizeWeights(l.Weight.Contiguous().Data(), sh[0], sh[1])}
}

// Members reports the float layer's parameters.
func (l *Linear) Members() nn.Members { return l.Float.Members() }

// Forward computes the layer on x [..., in]; it records no gradient.
func (l *Linear) Forward(x *tensor.Tensor) *tensor.Tensor {
	shape := x.Shape()
	in, out := l.w.q.K, l.w.q.N
	if len(shape) == 0 || shape[len(shape)-1] != in {
		panic(fmt.Sprintf("quant.Linear: input shape %v, want [..., %d]", shape, in))
	}
	m := x.Numel() / in
	xd := x.Contiguous().Data()
	kp := l.w.q.KPad
	s := scratchPool.Get().(*scratch)
	s.grow(m*kp, m*out)
	for i := 0; i < m; i++ {
		row := s.codes[i*kp : (i+1)*kp]
		kernel.QuantizeInt8(row, xd[i*in:(i+1)*in], l.InScale)
		clear(row[in:])
	}
	kernel.Int8Gemm(m, s.codes, l.w.q, s.sums, out)
	y := tensor.Empty(append(shape[:len(shape)-1:len(shape)-1], out)...)
	var bias []float32
	if l.Float.Bias != nil {
		bias = l.Float.Bias.Data()
	}
	dequantize(y.Data(), s.sums, m, out, l.InScale, l.w.scale, bias)
	scratchPool.Put(s)
	return y
}

// dequantize turns m rows of out int32 sums into floats: sum·inScale·
// wScale[o] + bias[o].
func dequantize(y []float32, sums []int32, m, out int, inScale float32, wScale, bias []float32) {
	for i := 0; i < m; i++ {
		yr, sr := y[i*out:(i+1)*out], sums[i*out:(i+1)*out]
		for o, v := range sr {
			f := float32(v) * (inScale * wScale[o])
			if bias != nil {
				f += bias[o]
			}
			yr[o] = f
		}
	}
}

// Conv2D is the int8 version of nn.Conv2D (groups 1): the input is coded
// in int8 once, unfolded into rows of C·KH·KW codes per output position
// (im2col on bytes), and multiplied by the coded weights in one int32
// product for the whole batch.
type Conv2D struct {
	Float   *nn.Conv2D
	InScale float32
	w       weights
}

// NewConv2D quantises c's weights for inputs coded with step inScale. It
// fails for grouped convolutions.
func NewConv2D(c *nn.Conv2D, inScale float32) (*Conv2D, error) {
	if g := c.Options.Groups; g > 1 {
		return nil, fmt.Errorf("quant: grouped convolution (groups %d) is not supported", g)
	}
	sh := c.Weight.Shape()
	k := sh[1] * sh[2] * sh[3]
	return &Conv2D{Float: c, InScale: inScale, w: quantizeWeights(c.Weight.Contiguous().Data(), sh[0], k)}, nil
}

// Members reports the float layer's parameters.
func (c *Conv2D) Members() nn.Members { return c.Float.Members() }

// convShape is the geometry of one quantised convolution.
type convShape struct {
	n, c, h, w, kh, kw, oh, ow int
	sh, sw, ph, pw, dh, dw     int
}

func (c *Conv2D) shape(x *tensor.Tensor) convShape {
	xs, ws := x.Shape(), c.Float.Weight.Shape()
	if len(xs) != 4 || xs[1] != ws[1] {
		panic(fmt.Sprintf("quant.Conv2D: input shape %v, want [N, %d, H, W]", xs, ws[1]))
	}
	o := c.Float.Options
	g := convShape{n: xs[0], c: xs[1], h: xs[2], w: xs[3], kh: ws[2], kw: ws[3],
		sh: max(o.Stride[0], 1), sw: max(o.Stride[1], 1), ph: o.Padding[0], pw: o.Padding[1],
		dh: max(o.Dilation[0], 1), dw: max(o.Dilation[1], 1)}
	g.oh = (g.h+2*g.ph-g.dh*(g.kh-1)-1)/g.sh + 1
	g.ow = (g.w+2*g.pw-g.dw*(g.kw-1)-1)/g.sw + 1
	if g.oh < 1 || g.ow < 1 {
		panic(fmt.Sprintf("quant.Conv2D: input %v is smaller than the kernel %dx%d", xs, g.kh, g.kw))
	}
	return g
}

// Forward convolves x [N, C, H, W]; it records no gradient.
func (c *Conv2D) Forward(x *tensor.Tensor) *tensor.Tensor {
	if p := c.Float.ExtraPad; p != [2]int{} {
		x = tensor.Pad(x, 0, p[1], 0, p[0])
	}
	g := c.shape(x)
	out, kp, k := c.w.q.N, c.w.q.KPad, c.w.q.K
	rows := g.n * g.oh * g.ow
	xd := x.Contiguous().Data()
	s := scratchPool.Get().(*scratch)
	// The coded input goes after the unfolded rows in one buffer.
	s.grow(rows*kp+len(xd), rows*out)
	cols, xq := s.codes[:rows*kp], s.codes[rows*kp:]
	kernel.QuantizeInt8(xq, xd, c.InScale)
	kernel.Parallel(g.n, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			im2col(cols[i*g.oh*g.ow*kp:(i+1)*g.oh*g.ow*kp], xq[i*g.c*g.h*g.w:(i+1)*g.c*g.h*g.w], g, k, kp)
		}
	})
	kernel.Int8Gemm(rows, cols, c.w.q, s.sums, out)
	y := tensor.Empty(g.n, out, g.oh, g.ow)
	var bias []float32
	if c.Float.Bias != nil {
		bias = c.Float.Bias.Data()
	}
	scatterNCHW(y.Data(), s.sums, g, out, c.InScale, c.w.scale, bias)
	scratchPool.Put(s)
	return y
}

// im2col writes, for each output position of one sample, its receptive
// field (C·KH·KW codes in weight order, zeros outside the input) as a row
// of kp codes, zero past k.
//
// It is most of an int8 convolution's time when channels are few (LeNet's
// first layer reads 25 codes per output), so a run of up to 8 codes inside
// the input moves as one unaligned 8-byte load and store. The store's
// tail lands on codes written next (the rest of the row, then the padding
// past k, cleared last); a run whose 8 bytes would reach past either
// buffer takes the byte loop.
func im2col(dst, x []int8, g convShape, k, kp int) {
	wide := g.dw == 1 && g.kw <= 8
	for oy := 0; oy < g.oh; oy++ {
		for ox := 0; ox < g.ow; ox++ {
			r0 := (oy*g.ow + ox) * kp
			row := dst[r0 : r0+kp]
			ix0 := ox*g.sw - g.pw
			inside := ix0 >= 0 && ix0+(g.kw-1)*g.dw < g.w
			p := 0
			for ci := 0; ci < g.c; ci++ {
				for ky := 0; ky < g.kh; ky++ {
					seg := row[p : p+g.kw]
					iy := oy*g.sh - g.ph + ky*g.dh
					if iy < 0 || iy >= g.h {
						clear(seg)
						p += g.kw
						continue
					}
					src := (ci*g.h+iy)*g.w + ix0
					if inside && wide && src+8 <= len(x) && r0+p+8 <= len(dst) {
						*(*uint64)(unsafe.Pointer(&dst[r0+p])) = *(*uint64)(unsafe.Pointer(&x[src]))
						p += g.kw
						continue
					}
					line := x[(ci*g.h+iy)*g.w : (ci*g.h+iy+1)*g.w]
					for kx := range seg {
						ix := ix0 + kx*g.dw
						var v int8
						if ix >= 0 && ix < g.w {
							v = line[ix]
						}
						seg[kx] = v
					}
					p += g.kw
				}
			}
			clear(row[k:])
		}
	}
}

// scatterNCHW dequantizes the [N·OH·OW, out] sums into y [N, out, OH, OW].
func scatterNCHW(y []float32, sums []int32, g convShape, out int, inScale float32, wScale, bias []float32) {
	hw := g.oh * g.ow
	for i := 0; i < g.n; i++ {
		for o := 0; o < out; o++ {
			sc := inScale * wScale[o]
			var b float32
			if bias != nil {
				b = bias[o]
			}
			dst := y[(i*out+o)*hw : (i*out+o+1)*hw]
			src := sums[i*hw*out:]
			for p := range dst {
				dst[p] = float32(src[p*out+o])*sc + b
			}
		}
	}
}
