package onnx

import (
	"math"
	"runtime"

	"github.com/shenml/shen/internal/kernel"
)

// Fast paths for the 1-D and 2-D windows that CNNs use. They split work
// over kernel.Parallel through a function value created once per session
// node (planeJob), so that parallel calls allocate nothing.

// planeJob is the per-session argument block of a parallel window op.
type planeJob struct {
	g        geom // a copy: a pointer would move the caller's geom to the heap
	op       string
	countPad bool
	src, dst []float32
	c        int // channels of the image (im2col)
	ld, off  int // im2col: row stride and column offset in the tap matrix
	shift    shiftArgs
	mm       batchedMatMul
	fn       func(lo, hi int)
}

// flat2D reports whether g has no depth axis (1-D or 2-D windows).
func (g *geom) flat2D() bool { return g.in[0] == 1 && g.k[0] == 1 && g.out[0] == 1 }

// im2colFast is im2col for flat geometries, parallel over rows: each
// row (channel, kh, kw) is a strided copy with zeros where the window
// leaves the image. Row r of the taps goes to col[r*ld+off:], so that
// several images can sit side by side.
func (x *exec) im2colFast(g *geom, col, img []float32, c, ld, off int) {
	j := x.job()
	j.g, j.dst, j.src, j.c, j.op, j.ld, j.off = *g, col, img, c, "im2col", ld, off
	rows := c * g.kN()
	kernel.Parallel(rows, max(1, 4096/max(g.outN(), 1)), j.fn)
}

func (j *planeJob) im2colRows(lo, hi int) {
	g := &j.g
	H, W, OH, OW := g.in[1], g.in[2], g.out[1], g.out[2]
	kk := g.k[1] * g.k[2]
	for row := lo; row < hi; row++ {
		ch, r := row/kk, row%kk
		kh, kw := r/g.k[2], r%g.k[2]
		src := j.src[ch*H*W : (ch+1)*H*W]
		dst := j.dst[row*j.ld+j.off : row*j.ld+j.off+OH*OW]
		sw, off := g.stride[2], kw*g.dil[2]-g.padB[2]
		// ow range whose iw = ow*sw + off lies in [0, W)
		owLo := 0
		if off < 0 {
			owLo = (-off + sw - 1) / sw
		}
		owHi := 0
		if W-1-off >= 0 {
			owHi = min(OW, (W-1-off)/sw+1)
		}
		for oh := 0; oh < OH; oh++ {
			d := dst[oh*OW : (oh+1)*OW]
			ih := oh*g.stride[1] - g.padB[1] + kh*g.dil[1]
			if ih < 0 || ih >= H || owLo >= owHi {
				clear(d)
				continue
			}
			clear(d[:owLo])
			clear(d[owHi:])
			s := src[ih*W:]
			if sw == 1 {
				copy(d[owLo:owHi], s[owLo+off:owHi+off])
				continue
			}
			for ow := owLo; ow < owHi; ow++ {
				d[ow] = s[ow*sw+off]
			}
		}
	}
}

// poolFast is Max or Average pooling of flat geometries with dilation 1,
// parallel over planes.
func (x *exec) poolFast(g *geom, op string, countPad bool, src, dst []float32, planes int) {
	j := x.job()
	j.g, j.op, j.countPad, j.src, j.dst, j.c = *g, op, countPad, src, dst, planes
	kernel.Parallel(planes, max(1, 16384/max(g.inN(), 1)), j.fn)
}

func (j *planeJob) poolPlanes(lo, hi int) {
	g := &j.g
	H, W, OH, OW := g.in[1], g.in[2], g.out[1], g.out[2]
	isMax := j.op == "MaxPool"
	if isMax && g.k[1] == 2 && g.k[2] == 2 && g.stride[1] == 2 && g.stride[2] == 2 && g.padB == [3]int{} &&
		2*OH <= H && 2*OW <= W {
		maxPool2x2(j.src, j.dst, lo, hi, H, W, OH, OW)
		return
	}
	for pl := lo; pl < hi; pl++ {
		src := j.src[pl*H*W : (pl+1)*H*W]
		dst := j.dst[pl*OH*OW : (pl+1)*OH*OW]
		for oh := 0; oh < OH; oh++ {
			hs := oh*g.stride[1] - g.padB[1]
			he := hs + g.k[1]
			h0, h1 := max(hs, 0), min(he, H)
			for ow := 0; ow < OW; ow++ {
				ws := ow*g.stride[2] - g.padB[2]
				we := ws + g.k[2]
				w0, w1 := max(ws, 0), min(we, W)
				if isMax {
					m := float32(math.Inf(-1))
					for ih := h0; ih < h1; ih++ {
						for _, v := range src[ih*W+w0 : ih*W+w1] {
							if v > m || v != v {
								m = v
							}
						}
					}
					dst[oh*OW+ow] = m
					continue
				}
				var sum float32
				for ih := h0; ih < h1; ih++ {
					for _, v := range src[ih*W+w0 : ih*W+w1] {
						sum += v
					}
				}
				n := (h1 - h0) * (w1 - w0)
				if j.countPad {
					n = (min(he, H+g.padE[1]) - hs) * (min(we, W+g.padE[2]) - ws)
				}
				dst[oh*OW+ow] = sum / float32(max(n, 1))
			}
		}
	}
}

// job returns the node's argument block, creating its dispatch function once.
func (x *exec) job() *planeJob {
	if x.pj == nil {
		j := &planeJob{}
		j.fn = func(lo, hi int) {
			switch j.op {
			case "im2col":
				j.im2colRows(lo, hi)
			case "shift":
				j.shift.shiftImages(lo, hi)
			case "matmul":
				j.mm.entries(lo, hi)
			default:
				j.poolPlanes(lo, hi)
			}
		}
		x.pj = j
	}
	return x.pj
}

// maxPool2x2 is the 2x2, stride-2 max pool of planes lo..hi without
// padding. The builtin max propagates NaN, as ONNX MaxPool does.
func maxPool2x2(src, dst []float32, lo, hi, H, W, OH, OW int) {
	for pl := lo; pl < hi; pl++ {
		s := src[pl*H*W : (pl+1)*H*W]
		d := dst[pl*OH*OW : (pl+1)*OH*OW]
		for oh := 0; oh < OH; oh++ {
			r0, r1 := s[2*oh*W:][:2*OW], s[(2*oh+1)*W:][:2*OW]
			row := d[oh*OW:][:OW]
			for ow := range row {
				a, b := r0[2*ow:][:2], r1[2*ow:][:2]
				row[ow] = max(a[0], a[1], b[0], b[1])
			}
		}
	}
}

// Direct convolution for small stride-1 layers (LeNet-like): each image
// is copied into a zero-padded buffer of row stride wp, and
// kernel.ShiftGemm computes every output channel over positions y*wp+x
// with tap r = (c, kh, kw) reading the buffer shifted by a fixed offset,
// so no column matrix is built (the same scheme as package tensor's
// Conv2D). Columns x >= OW are computed and dropped.

// maxShiftTaps bounds C*kH*kW for the direct path (package tensor keeps
// its offsets on the stack and stops at 256; these live in scratch).
const maxShiftTaps = 1024

// useShift reports whether conv can take the direct path.
func useShift(g *geom, c, m, group int) bool {
	return kernel.HasShiftAsm() && g.flat2D() && group == 1 && g.stride == [3]int{1, 1, 1} &&
		g.dil == [3]int{1, 1, 1} && c*g.kN() <= maxShiftTaps && c <= 64 && m <= 64 &&
		g.padB[1] < g.k[1] && g.padB[2] < g.k[2] && g.padE[1] < g.k[1] && g.padE[2] < g.k[2]
}

// shiftArgs are the per-call arguments of the direct path, shared by the
// workers that split the images.
type shiftArgs struct {
	a, out       *Tensor
	bias         []float32
	relu         bool
	wtT          []float32
	off          []int
	c, m, H, W   int
	OH, OW, wp   int
	plane, K, np int
	pad          int
	xlen         int
	padTop       int
	padLeft      int
	parts        int            // output-channel slices per image (several when images are fewer than workers)
	bufs         [][]float32    // per worker: padded image then result rows
	free         chan []float32 // idle worker buffers
}

// convShift runs the direct path over every image of a, parallel over
// images with one padded-image buffer per worker.
func convShift(x *exec, g *geom, a, wt, bias, out *Tensor, relu bool) {
	j := x.job()
	s := &j.shift
	nb, c, m := a.Shape[0], a.Shape[1], wt.Shape[0]
	kh, kw := g.k[1], g.k[2]
	*s = shiftArgs{a: a, out: out, relu: relu, c: c, m: m, H: g.in[1], W: g.in[2], OH: g.out[1], OW: g.out[2],
		bufs: s.bufs, free: s.free, wtT: s.wtT, off: s.off}
	if bias != nil {
		s.bias = bias.F
	}
	hp := s.H + g.padB[1] + g.padE[1]
	s.wp = s.W + g.padB[2] + g.padE[2]
	s.plane, s.K = hp*s.wp, c*kh*kw
	s.np = s.OH * s.wp
	s.pad = kernel.ShiftGemmPad(m, s.np)
	s.xlen = max(c*s.plane, (c-1)*s.plane+(kh-1)*s.wp+kw-1+s.pad)
	s.wtT = grow(s.wtT, s.K*m)
	for i := 0; i < m; i++ {
		for r := 0; r < s.K; r++ {
			s.wtT[r*m+i] = wt.F[i*s.K+r]
		}
	}
	if cap(s.off) < s.K {
		s.off = make([]int, s.K)
	}
	s.off = s.off[:s.K]
	for ch := 0; ch < c; ch++ {
		for y := 0; y < kh; y++ {
			for xx := 0; xx < kw; xx++ {
				s.off[(ch*kh+y)*kw+xx] = ch*s.plane + y*s.wp + xx
			}
		}
	}
	workers := max(1, min(kernel.Threads(), runtime.GOMAXPROCS(0)))
	// Fewer images than workers: each image's output channels are split.
	s.parts = max(1, min(workers/nb, m/8))
	workers = min(workers, nb*s.parts)
	if s.free == nil || cap(s.free) < workers {
		s.free = make(chan []float32, workers)
	}
	for len(s.bufs) < workers {
		s.bufs = append(s.bufs, nil)
	}
	for len(s.free) > 0 {
		<-s.free
	}
	for w := 0; w < workers; w++ {
		s.bufs[w] = grow(s.bufs[w], s.xlen+m*s.pad)
		clear(s.bufs[w][:s.xlen]) // the padding stays zero: images only write their interior
		s.free <- s.bufs[w]
	}
	s.padTop, s.padLeft = g.padB[1], g.padB[2]
	j.op = "shift"
	kernel.Parallel(nb*s.parts, 1, j.fn)
}

// shiftImages runs work units lo..hi (image u/parts, channel slice
// u%parts) on one worker buffer.
func (s *shiftArgs) shiftImages(lo, hi int) {
	buf := <-s.free
	defer func() { s.free <- buf }()
	xpad, res := buf[:s.xlen], buf[s.xlen:]
	c, H, W, m := s.c, s.H, s.W, s.m
	for u := lo; u < hi; u++ {
		n, part := u/s.parts, u%s.parts
		i0, i1 := part*m/s.parts, (part+1)*m/s.parts
		img := s.a.F[n*c*H*W:]
		for ch := 0; ch < c; ch++ {
			for y := 0; y < H; y++ {
				copy(xpad[ch*s.plane+(y+s.padTop)*s.wp+s.padLeft:][:W], img[(ch*H+y)*W:][:W])
			}
		}
		var bias []float32
		if s.bias != nil {
			bias = s.bias[i0:]
		}
		kernel.ShiftGemm(i1-i0, s.np, s.K, s.off, xpad, s.wtT[i0:], m, res[i0*s.pad:], s.pad, bias)
		for i := i0; i < i1; i++ {
			dst := s.out.F[(n*m+i)*s.OH*s.OW:][:s.OH*s.OW]
			for y := 0; y < s.OH; y++ {
				copy(dst[y*s.OW:(y+1)*s.OW], res[i*s.pad+y*s.wp:])
			}
			if s.relu {
				kernel.Relu(dst, dst)
			}
		}
	}
}

// grow returns b with n elements, reallocated only when too small.
func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}
