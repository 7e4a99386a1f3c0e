package tensor

import (
	"fmt"

	"github.com/shenml/shen/internal/kernel"
)

// Conv2DOptions configures Conv2D. Zero values take PyTorch's defaults:
// stride 1, padding 0, dilation 1, groups 1. Index 0 is height, 1 width.
type Conv2DOptions struct {
	Stride, Padding, Dilation [2]int
	Groups                    int
}

// Conv1DOptions configures Conv1D. Zero values take PyTorch's defaults:
// stride 1, padding 0, dilation 1, groups 1.
type Conv1DOptions struct {
	Stride, Padding, Dilation, Groups int
}

// convGeom is the geometry of one 2-d convolution; every buffer size below
// follows from it.
type convGeom struct {
	n, c, h, w     int // input
	o, kh, kw      int // filters
	oh, ow         int // output
	sh, sw         int
	ph, pw         int
	dh, dw         int
	groups, cg, og int // groups, channels in and out per group
	prec           Precision
}

func (g *convGeom) spatial() int { return g.oh * g.ow }

// kg is the rows of one group's column matrix: cg·kh·kw.
func (g *convGeom) kg() int { return g.cg * g.kh * g.kw }

// direct reports whether the input itself is the column matrix (1×1
// filter, stride 1, no padding), so im2col and col2im are skipped.
func (g *convGeom) direct() bool {
	return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0
}

func defaultOne(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

func newConvGeom(op string, x, w, b *Tensor, o Conv2DOptions) convGeom {
	if x.Dim() != 4 || w.Dim() != 4 {
		shapePanic(op, "want input (N, C, H, W) or (C, H, W) and weight (O, C/groups, kH, kW)", x.shape, w.shape)
	}
	g := convGeom{
		n: x.shape[0], c: x.shape[1], h: x.shape[2], w: x.shape[3],
		o: w.shape[0], kh: w.shape[2], kw: w.shape[3],
		sh: defaultOne(o.Stride[0]), sw: defaultOne(o.Stride[1]),
		ph: o.Padding[0], pw: o.Padding[1],
		dh: defaultOne(o.Dilation[0]), dw: defaultOne(o.Dilation[1]),
		groups: defaultOne(o.Groups),
		prec:   productPrecision(x, w),
	}
	if g.sh < 0 || g.sw < 0 || g.ph < 0 || g.pw < 0 || g.dh < 0 || g.dw < 0 || g.groups < 0 {
		panic(fmt.Sprintf("tensor: %s: negative stride, padding, dilation or groups in %+v", op, o))
	}
	if g.c%g.groups != 0 || g.o%g.groups != 0 || w.shape[1]*g.groups != g.c {
		shapePanic(op, fmt.Sprintf("with %d groups the weight must be (O, C/%d, kH, kW) with O divisible by %d", g.groups, g.groups, g.groups), x.shape, w.shape)
	}
	g.cg, g.og = g.c/g.groups, g.o/g.groups
	g.oh = (g.h+2*g.ph-g.dh*(g.kh-1)-1)/g.sh + 1
	g.ow = (g.w+2*g.pw-g.dw*(g.kw-1)-1)/g.sw + 1
	if g.h+2*g.ph < g.dh*(g.kh-1)+1 || g.w+2*g.pw < g.dw*(g.kw-1)+1 {
		shapePanic(op, "the (dilated) kernel is larger than the padded input", x.shape, w.shape)
	}
	if b != nil && (b.Dim() != 1 || b.shape[0] != g.o) {
		shapePanic(op, fmt.Sprintf("bias must be (%d)", g.o), b.shape, w.shape)
	}
	return g
}

// im2col writes the column matrix of one sample x (c×h×w) into cols
// (c·kh·kw rows × oh·ow columns, row stride ld): row (ci, ki, kj) holds,
// for every output position, the input element that filter tap multiplies
// (0 in padding). ld > oh·ow lets several samples sit side by side.
func im2col(cols []float32, ld int, x []float32, g *convGeom) {
	s := g.spatial()
	for c := 0; c < g.c; c++ {
		xc := x[c*g.h*g.w : (c+1)*g.h*g.w]
		for ki := 0; ki < g.kh; ki++ {
			for kj := 0; kj < g.kw; kj++ {
				row := cols[((c*g.kh+ki)*g.kw+kj)*ld:][:s]
				ix0 := kj*g.dw - g.pw
				// Output columns whose input column lies inside the image.
				lo, hi := spanInside(ix0, g.sw, g.w, g.ow)
				for oy := 0; oy < g.oh; oy++ {
					dst := row[oy*g.ow : (oy+1)*g.ow]
					iy := oy*g.sh - g.ph + ki*g.dh
					if iy < 0 || iy >= g.h {
						clear(dst)
						continue
					}
					src := xc[iy*g.w : (iy+1)*g.w]
					clear(dst[:lo])
					if lo == hi {
						// The whole row lies in the padding.
					} else if g.sw == 1 {
						copy(dst[lo:hi], src[lo+ix0:hi+ix0])
					} else {
						for ox := lo; ox < hi; ox++ {
							dst[ox] = src[ox*g.sw+ix0]
						}
					}
					clear(dst[hi:])
				}
			}
		}
	}
}

// col2im is im2col's adjoint: it adds every column-matrix entry (row
// stride ld) back onto the input element it was read from. dx must be
// zeroed by the caller.
func col2im(dx, cols []float32, ld int, g *convGeom) {
	s := g.spatial()
	for c := 0; c < g.c; c++ {
		xc := dx[c*g.h*g.w : (c+1)*g.h*g.w]
		for ki := 0; ki < g.kh; ki++ {
			for kj := 0; kj < g.kw; kj++ {
				row := cols[((c*g.kh+ki)*g.kw+kj)*ld:][:s]
				ix0 := kj*g.dw - g.pw
				lo, hi := spanInside(ix0, g.sw, g.w, g.ow)
				if lo >= hi {
					continue
				}
				for oy := 0; oy < g.oh; oy++ {
					iy := oy*g.sh - g.ph + ki*g.dh
					if iy < 0 || iy >= g.h {
						continue
					}
					src := row[oy*g.ow : (oy+1)*g.ow]
					dst := xc[iy*g.w : (iy+1)*g.w]
					if g.sw == 1 {
						kernel.Add(dst[lo+ix0:hi+ix0], dst[lo+ix0:hi+ix0], src[lo:hi])
					} else {
						for ox := lo; ox < hi; ox++ {
							dst[ox*g.sw+ix0] += src[ox]
						}
					}
				}
			}
		}
	}
}

// spanInside returns the output range [lo, hi) whose input index
// ox*stride+ix0 lies in [0, n).
func spanInside(ix0, stride, n, outN int) (int, int) {
	lo := 0
	if ix0 < 0 {
		lo = (-ix0 + stride - 1) / stride
	}
	hi := 0
	if n-ix0 > 0 {
		hi = (n - ix0 + stride - 1) / stride
	}
	lo, hi = min(lo, outN), min(hi, outN)
	return lo, max(lo, hi)
}

// convGrain returns how many samples one parallel chunk should take so its
// work repays the pool's wake-up cost.
func convGrain(g *convGeom) int {
	per := max(g.o*g.spatial()*g.kg(), 1)
	return (gemmWork + per - 1) / per
}

// Conv2D returns the 2-d convolution (cross-correlation) of x (N, C, H, W)
// with filters w (O, C/groups, kH, kW) plus the optional bias b (O), as
// torch.nn.functional.conv2d: output (N, O, OH, OW) with
// OH = (H + 2·padH − dilH·(kH−1) − 1)/strideH + 1, likewise OW. Groups split
// the channels into independent convolutions (groups == C == O is depthwise).
// An unbatched x (C, H, W) gives (O, OH, OW), as in torch.
//
// Algorithm: small stride-1 convolutions (one group, no dilation, few
// channels: LeNet's layers) take a direct path without a column matrix
// (conv_direct.go: each filter tap reads the zero-padded input at a fixed
// shift, AVX-512 kernels vectorised over output positions), which halved
// a LeNet training step against im2col. Everything else runs im2col +
// GEMM, samples spread over kernel.Parallel with each chunk's column
// buffer taken from the buffer pool. Small convolutions put several
// samples' columns side by side (up to colBudget floats) so one GEMM covers
// them and the filters are packed once per group of samples; large ones
// (ResNet's) take one sample per GEMM, with the bias written into the
// output before the GEMM adds onto it. 1×1 stride-1 unpadded convolutions
// skip im2col. When x or w is marked BF16 (SetPrecision), every product
// (forward and backward) runs im2col + kernel.SgemmBF16, which rounds its
// operands to bfloat16; the direct path is float32 only.
// Cost: 2·N·O·OH·OW·(C/groups)·kH·kW flops forward; backward recomputes the
// columns (no saved buffers) and costs about twice the forward.
func Conv2D(x, w, b *Tensor, opt Conv2DOptions) *Tensor {
	if x.Dim() == 3 && w.Dim() == 4 { // unbatched (C, H, W), as torch takes it
		return dropBatch(Conv2D(x.Unsqueeze(0), w, b, opt))
	}
	g := newConvGeom("Conv2D", x, w, b, opt)
	xc, wc := x.Contiguous(), w.Contiguous()
	out := newTensor([]int{g.n, g.o, g.oh, g.ow}, false)
	var bias []float32
	if b != nil {
		bias = b.Data()
	}
	conv2dForward(&g, xc.Data(), wc.Data(), bias, out.st.data)
	return record(out, "Conv2D", []*Tensor{xc, wc, b}, func(gr *Tensor, grads []*Tensor) {
		gc := gr
		if !gr.IsContiguous() {
			gc = newTensor(gr.shape, false)
			copyInto(gc, gr)
			defer gc.Release()
		}
		var dx, dw, db *Tensor
		if xc.requiresGrad {
			dx = newTensor(xc.shape, true)
			grads[0] = dx
		}
		if wc.requiresGrad {
			dw = leafGradSum(wc)
			grads[1] = dw
		}
		if b != nil && b.requiresGrad {
			db = leafGradSum(b)
			grads[2] = db
		}
		conv2dBackward(&g, xc.Data(), wc.Data(), gc.Data(), dx, dw, db)
	})
}

// colBudget is the floats of column matrix one GEMM should cover: small
// convolutions (LeNet's) put several samples side by side so each GEMM is
// big enough to run at speed and the filters are packed once per group of
// samples, while the buffer still fits a core's L2.
const colBudget = 1 << 18

// subBatch is how many samples of a chunk of n go into one GEMM.
func (g *convGeom) subBatch(n int) int {
	if g.direct() {
		return 1 // the input is the column matrix: no copy to batch into
	}
	return max(1, min(n, colBudget/max(g.c*g.kh*g.kw*g.spatial(), 1)))
}

func conv2dForward(g *convGeom, x, w, bias, out []float32) {
	if g.prec == FP32 && g.useShift() {
		shiftForward(g, x, w, bias, out)
		return
	}
	im2colForward(g, x, w, bias, out)
}

// im2colForward is the forward pass by im2col + GEMM.
func im2colForward(g *convGeom, x, w, bias, out []float32) {
	s, kg, chw := g.spatial(), g.kg(), g.c*g.h*g.w
	kernel.Parallel(g.n, convGrain(g), func(lo, hi int) {
		nb := g.subBatch(hi - lo)
		ld := nb * s
		var cols, tmp []float32
		if !g.direct() {
			cols = pool.get(g.c*g.kh*g.kw*ld, false)
			defer pool.put(cols)
		}
		if nb > 1 {
			tmp = pool.get(g.o*ld, false)
			defer pool.put(tmp)
		}
		for n0 := lo; n0 < hi; n0 += nb {
			m := min(nb, hi-n0) // samples in this GEMM
			for i := 0; i < m; i++ {
				xn := x[(n0+i)*chw : (n0+i+1)*chw]
				if g.direct() {
					cols = xn
				} else {
					im2col(cols[i*s:], ld, xn, g)
				}
			}
			if nb == 1 {
				// One sample: write straight into the output, bias first.
				on := out[n0*g.o*s : (n0+1)*g.o*s]
				beta := float32(0)
				if bias != nil {
					for o := 0; o < g.o; o++ {
						row := on[o*s : (o+1)*s]
						for i := range row {
							row[i] = bias[o]
						}
					}
					beta = 1
				}
				for gi := 0; gi < g.groups; gi++ {
					// out_g (og×S) = W_g (og×kg) · cols_g (kg×S)
					g.prec.sgemm(false, false, g.og, s, kg, w[gi*g.og*kg:], kg, cols[gi*kg*ld:], ld, beta, on[gi*g.og*s:], s)
				}
				continue
			}
			for gi := 0; gi < g.groups; gi++ {
				// tmp_g (og × m·S) = W_g (og×kg) · [cols_g of m samples] (kg × m·S)
				g.prec.sgemm(false, false, g.og, m*s, kg, w[gi*g.og*kg:], kg, cols[gi*kg*ld:], ld, 0, tmp[gi*g.og*ld:], ld)
			}
			for i := 0; i < m; i++ {
				on := out[(n0+i)*g.o*s : (n0+i+1)*g.o*s]
				for o := 0; o < g.o; o++ {
					src, dst := tmp[o*ld+i*s:o*ld+(i+1)*s], on[o*s:(o+1)*s]
					if bias != nil {
						kernel.AddScalar(dst, bias[o], src)
					} else {
						copy(dst, src)
					}
				}
			}
		}
	})
}

// conv2dBackward writes dx, dw and db (each nil when not wanted; dx and dw
// zeroed) from the output gradient gr.
func conv2dBackward(g *convGeom, x, w, gr []float32, dx, dw, db *Tensor) {
	s := g.spatial()
	if db != nil {
		d := db.st.data
		for n := 0; n < g.n; n++ {
			for o := 0; o < g.o; o++ {
				d[o] += kernel.Sum(gr[(n*g.o+o)*s : (n*g.o+o+1)*s])
			}
		}
	}
	if g.prec == FP32 && g.useShift() {
		shiftBackward(g, x, w, gr, dx, dw)
		return
	}
	im2colBackward(g, x, w, gr, dx, dw)
}

// im2colBackward is the backward pass (less the bias) by im2col + GEMM.
func im2colBackward(g *convGeom, x, w, gr []float32, dx, dw *Tensor) {
	if dx == nil && dw == nil {
		return
	}
	// The batch is cut into parts fixed by the shapes, never by the thread
	// count: part p sums its samples' dW into its own partial (part 0
	// straight into dw), and the partials are added in part order, so dw
	// is bit-identical with any number of threads and any scheduling.
	parts := max(1, min(g.n/convGrain(g), maxConvParts))
	var partials []float32
	if dw != nil && parts > 1 {
		partials = pool.get((parts-1)*len(dw.st.data), true)
		defer pool.put(partials)
	}
	kernel.ForParts(g.n, parts, func(p, lo, hi int) {
		var dwPart []float32
		if dw != nil {
			dwPart = dw.st.data
			if p > 0 {
				dwPart = partials[(p-1)*len(dw.st.data) : p*len(dw.st.data)]
			}
		}
		im2colBackwardPart(g, x, w, gr, dx, dwPart, lo, hi)
	})
	for p := 1; p < parts; p++ {
		kernel.Add(dw.st.data, dw.st.data, partials[(p-1)*len(dw.st.data):p*len(dw.st.data)])
	}
}

// maxConvParts bounds the parts im2colBackward cuts a batch into: a few
// per thread on small machines, each costing a dW-sized partial.
const maxConvParts = 8

// im2colBackwardPart runs the backward pass of samples [lo, hi), adding
// their weight gradient into dwPart (nil when no weight gradient is wanted).
func im2colBackwardPart(g *convGeom, x, w, gr []float32, dx *Tensor, dwPart []float32, lo, hi int) {
	s, kg, chw := g.spatial(), g.kg(), g.c*g.h*g.w
	nb := g.subBatch(hi - lo)
	ld := nb * s
	var cols, dcols, gcat []float32
	if dwPart != nil {
		if !g.direct() {
			cols = pool.get(g.c*g.kh*g.kw*ld, false)
			defer pool.put(cols)
		}
	}
	if dx != nil && !g.direct() {
		dcols = pool.get(g.c*g.kh*g.kw*ld, false)
		defer pool.put(dcols)
	}
	if nb > 1 {
		gcat = pool.get(g.o*ld, false)
		defer pool.put(gcat)
	}
	for n0 := lo; n0 < hi; n0 += nb {
		m := min(nb, hi-n0)
		// dY of the m samples side by side: O rows × m·S (row stride ld).
		gn := gr[n0*g.o*s : (n0+1)*g.o*s]
		if nb > 1 {
			for i := 0; i < m; i++ {
				for o := 0; o < g.o; o++ {
					copy(gcat[o*ld+i*s:o*ld+(i+1)*s], gr[((n0+i)*g.o+o)*s:((n0+i)*g.o+o+1)*s])
				}
			}
			gn = gcat
		}
		if dwPart != nil {
			for i := 0; i < m; i++ {
				xn := x[(n0+i)*chw : (n0+i+1)*chw]
				if g.direct() {
					cols = xn
				} else {
					im2col(cols[i*s:], ld, xn, g)
				}
			}
			for gi := 0; gi < g.groups; gi++ {
				// dW_g (og×kg) += dY_g (og × m·S) · cols_gᵀ (m·S × kg)
				dwGemm(g.prec, g.og, kg, m*s, gn[gi*g.og*ld:], cols[gi*kg*ld:], ld, dwPart[gi*g.og*kg:])
			}
		}
		if dx != nil {
			dst := dcols
			if g.direct() {
				dst = dx.st.data[n0*chw : (n0+1)*chw]
			}
			for gi := 0; gi < g.groups; gi++ {
				// dcols_g (kg × m·S) = W_gᵀ (kg×og) · dY_g (og × m·S)
				g.prec.sgemm(true, false, kg, m*s, g.og, w[gi*g.og*kg:], kg, gn[gi*g.og*ld:], ld, 0, dst[gi*kg*ld:], ld)
			}
			if !g.direct() {
				for i := 0; i < m; i++ {
					col2im(dx.st.data[(n0+i)*chw:(n0+i+1)*chw], dcols[i*s:], ld, g)
				}
			}
		}
	}
}

// dwKC is the depth of one dwGemm pass: four rows of each operand
// (32 KiB) stay in L1 while the tile sweeps the other operand.
const dwKC = 1024

// dwGemm adds dY·colsᵀ to dw (og × kg, row stride kg): dY is og rows and
// cols kg rows of length k, both with row stride ld. Both operands are
// contiguous along the reduction, so where the CPU has it the 4×4
// dot-product tile (kernel.DotTile4x4) reads them in place; the packed
// Sgemm would have to transpose cols into its panels first (that transpose
// was 11% of a LeNet training step when this was written). A BF16
// product takes the Sgemm path, which rounds its operands.
func dwGemm(prec Precision, og, kg, k int, dy, cols []float32, ld int, dw []float32) {
	if prec == BF16 || !kernel.HasDotTile() {
		prec.sgemm(false, true, og, kg, k, dy, ld, cols, ld, 1, dw, kg)
		return
	}
	var a, b [4][]float32
	for p0 := 0; p0 < k; p0 += dwKC {
		kc := min(dwKC, k-p0)
		for i0 := 0; i0 < og; i0 += 4 {
			ma := min(4, og-i0)
			for i := 0; i < ma; i++ {
				a[i] = dy[(i0+i)*ld+p0:]
			}
			for j0 := 0; j0 < kg; j0 += 4 {
				nb := min(4, kg-j0)
				for j := 0; j < nb; j++ {
					b[j] = cols[(j0+j)*ld+p0:]
				}
				kernel.DotTile4x4(kc, a, b, ma, nb, dw[i0*kg+j0:], kg)
			}
		}
	}
}

// Conv1D returns the 1-d convolution of x (N, C, L) with filters
// w (O, C/groups, K) plus the optional bias b (O), as
// torch.nn.functional.conv1d: output (N, O, (L + 2·pad − dil·(K−1) − 1)/stride + 1).
// An unbatched x (C, L) gives (O, OL), as in torch. It runs Conv2D on a
// height-1 view, so it costs the same as that.
func Conv1D(x, w, b *Tensor, opt Conv1DOptions) *Tensor {
	if x.Dim() == 2 && w.Dim() == 3 { // unbatched (C, L), as torch takes it
		return dropBatch(Conv1D(x.Unsqueeze(0), w, b, opt))
	}
	if x.Dim() != 3 || w.Dim() != 3 {
		shapePanic("Conv1D", "want input (N, C, L) or (C, L) and weight (O, C/groups, K)", x.shape, w.shape)
	}
	o := Conv2DOptions{
		Stride:   [2]int{1, opt.Stride},
		Padding:  [2]int{0, opt.Padding},
		Dilation: [2]int{1, opt.Dilation},
		Groups:   opt.Groups,
	}
	return Conv2D(x.Unsqueeze(2), w.Unsqueeze(2), b, o).Squeeze(2)
}

// dropBatch removes the leading batch dimension of size 1 that an
// unbatched call added, handing the buffer's ownership to the view so
// Release and FreeGraph still return it.
func dropBatch(y *Tensor) *Tensor {
	v := y.Squeeze(0)
	v.TakeOwnership(y)
	return v
}
