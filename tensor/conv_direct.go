package tensor

import "github.com/shenml/shen/internal/kernel"

// Direct (column-free) convolution for small channel counts: LeNet's and
// similar small CNNs' layers. Each sample is copied into a zero-padded
// buffer of row stride wp = W + 2·padW; at stride 1 the output, computed on
// that same row stride (the columns x ≥ OW thrown away), is
//
//	out[o][y·wp + x] = Σ_{c,ky,kx} w[o,c,ky,kx] · xpad[c·plane + ky·wp + kx + y·wp + x]
//
// so tap r = (c, ky, kx) reads the padded input shifted by a fixed offset
// and kernel.ShiftGemm sweeps output positions in vectors with no column
// matrix. The weight gradient reduces dY (widened to the same row stride,
// zeros in the thrown-away columns) against the same shifted rows
// (kernel.ShiftDots), and the input gradient is the forward kernel again:
// the correlation of dY, zero-padded by k−1−pad, with the flipped filters.

// Limits of the direct path: the tap offsets live in stack arrays.
const (
	maxShiftFwdK = 256  // C·kH·kW
	maxShiftBwdK = 1024 // O·kH·kW
	shiftBlock   = 16   // samples per weight-gradient partial
)

// useShift reports whether Conv2D takes the direct path for g: stride 1,
// dilation 1, one group, padding below the filter size, few channels, and
// assembly to run it (the pure-Go fallback loses to im2col + GEMM).
func (g *convGeom) useShift() bool {
	return kernel.HasShiftAsm() && g.shiftable()
}

// shiftable reports whether the direct path can compute g at all.
func (g *convGeom) shiftable() bool {
	return g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.groups == 1 &&
		g.ph < g.kh && g.pw < g.kw && !g.direct() &&
		g.c*g.kh*g.kw <= maxShiftFwdK && g.o*g.kh*g.kw <= maxShiftBwdK &&
		g.c <= 64 && g.o <= 64
}

// shiftGeom holds the buffer layout of the direct path.
type shiftGeom struct {
	hp, wp, plane int // padded input
	kf, npf, padf int // forward: taps, output positions per row of ShiftGemm, padded
	xlen          int // floats of one padded input sample (with read slack)
	n16           int // weight gradient: positions rounded up to 16
	lda           int // row stride of the widened dY (≥ n16, zeros past npf)
	qh, qw        int // input gradient: dY padding
	hq, wq, planq int
	kx, npx, padx int
	dylen         int // floats of one padded dY sample (with read slack)
	// Input gradient by columns (dxCols): dcols = Wᵀ·dY by ShiftGemm on
	// the widened dY, then each input position gathers its kH·kW column
	// entries (ShiftGemm with unit weights over rows shifted back by the
	// tap offsets, read from margins of mc zeros).
	dxCols     bool
	mc, ldc    int // zero margin and row stride of dcols
	padc, padg int // ShiftGemm widths of the two steps
}

func newShiftGeom(g *convGeom) shiftGeom {
	var s shiftGeom
	s.hp, s.wp = g.h+2*g.ph, g.w+2*g.pw
	s.plane = s.hp * s.wp
	s.kf = g.kg()
	s.npf = g.oh * s.wp
	s.padf = kernel.ShiftGemmPad(g.o, s.npf)
	maxOff := (g.c-1)*s.plane + (g.kh-1)*s.wp + g.kw - 1
	s.xlen = max(g.c*s.plane, maxOff+s.padf)
	s.n16 = (s.npf + 15) &^ 15
	s.qh, s.qw = g.kh-1-g.ph, g.kw-1-g.pw
	s.hq, s.wq = g.oh+2*s.qh, g.ow+2*s.qw
	s.planq = s.hq * s.wq
	s.kx = g.o * g.kh * g.kw
	s.npx = g.h * s.wq
	s.padx = kernel.ShiftGemmPad(g.c, s.npx)
	maxOff = (g.o-1)*s.planq + (g.kh-1)*s.wq + g.kw - 1
	s.dylen = max(g.o*s.planq, maxOff+s.padx)
	khw := g.kh * g.kw
	s.padc = kernel.ShiftGemmPad(s.kf, s.npf)
	s.padg = kernel.ShiftGemmPad(1, s.plane)
	s.lda = max(s.n16, s.padc)
	s.mc = (g.kh-1)*s.wp + g.kw - 1
	s.ldc = s.mc + max(s.padc, s.padg)
	// Multiply-adds of the two ways to the input gradient.
	gather := g.c * s.padx * s.kx
	cols := s.kf*s.padc*g.o + g.c*s.padg*khw
	s.dxCols = cols < gather
	return s
}

// fwdOffsets fills off[r] for taps r = (c, ky, kx) of the padded input.
func (s *shiftGeom) fwdOffsets(g *convGeom, off []int) []int {
	off = off[:s.kf]
	for c := 0; c < g.c; c++ {
		for ky := 0; ky < g.kh; ky++ {
			for kx := 0; kx < g.kw; kx++ {
				off[(c*g.kh+ky)*g.kw+kx] = c*s.plane + ky*s.wp + kx
			}
		}
	}
	return off
}

// bwdOffsets fills off[r] for taps r = (o, ty, tx) of the padded dY.
func (s *shiftGeom) bwdOffsets(g *convGeom, off []int) []int {
	off = off[:s.kx]
	for o := 0; o < g.o; o++ {
		for ty := 0; ty < g.kh; ty++ {
			for tx := 0; tx < g.kw; tx++ {
				off[(o*g.kh+ty)*g.kw+tx] = o*s.planq + ty*s.wq + tx
			}
		}
	}
	return off
}

// padInput copies sample x (c×h×w) into the interior of xb; the border and
// slack of xb are zero and stay so.
func (s *shiftGeom) padInput(g *convGeom, xb, x []float32) {
	for c := 0; c < g.c; c++ {
		for y := 0; y < g.h; y++ {
			copy(xb[c*s.plane+(y+g.ph)*s.wp+g.pw:][:g.w], x[(c*g.h+y)*g.w:][:g.w])
		}
	}
}

func shiftForward(g *convGeom, x, w, bias, out []float32) {
	sp, chw, kg := g.spatial(), g.c*g.h*g.w, g.kg()
	// wt[r][o] = w[o][r]: ShiftGemm broadcasts the O weights of a tap.
	wt := pool.get(kg*g.o, false)
	defer pool.put(wt)
	for o := 0; o < g.o; o++ {
		for r := 0; r < kg; r++ {
			wt[r*g.o+o] = w[o*kg+r]
		}
	}
	kernel.Parallel(g.n, convGrain(g), func(lo, hi int) {
		sg := newShiftGeom(g) // per chunk: a captured one would go to the heap
		var offA [maxShiftFwdK]int
		off := sg.fwdOffsets(g, offA[:])
		xb := pool.get(sg.xlen, true)
		ob := pool.get(g.o*sg.padf, false)
		for n := lo; n < hi; n++ {
			sg.padInput(g, xb, x[n*chw:(n+1)*chw])
			kernel.ShiftGemm(g.o, sg.npf, sg.kf, off, xb, wt, g.o, ob, sg.padf, bias)
			for o := 0; o < g.o; o++ {
				dst := out[(n*g.o+o)*sp : (n*g.o+o+1)*sp]
				for y := 0; y < g.oh; y++ {
					copy(dst[y*g.ow:(y+1)*g.ow], ob[o*sg.padf+y*sg.wp:])
				}
			}
		}
		pool.put(xb)
		pool.put(ob)
	})
}

// shiftBackward writes dx and adds into dw (each nil when not wanted;
// both zeroed by the caller) from the output gradient gr. The weight
// gradient is summed per block of shiftBlock samples and the blocks' partials
// are added in block order, so it does not depend on the thread count.
func shiftBackward(g *convGeom, x, w, gr []float32, dx, dw *Tensor) {
	shiftBackwardMode(g, dxAuto, x, w, gr, dx, dw)
}

// Ways to the input gradient: as newShiftGeom chooses, or forced (tests).
const (
	dxAuto = iota
	dxGather
	dxByCols
)

func (g *convGeom) shiftGeomMode(mode int) shiftGeom {
	sg := newShiftGeom(g)
	if mode != dxAuto {
		sg.dxCols = mode == dxByCols
	}
	return sg
}

func shiftBackwardMode(g *convGeom, mode int, x, w, gr []float32, dx, dw *Tensor) {
	if dx == nil && dw == nil {
		return
	}
	sg := g.shiftGeomMode(mode)
	sp, chw, kg := g.spatial(), g.c*g.h*g.w, g.kg()
	nblk := (g.n + shiftBlock - 1) / shiftBlock
	var parts, wt []float32
	if dw != nil {
		parts = pool.get(nblk*g.o*kg, true)
		defer pool.put(parts)
	}
	if dx != nil && sg.dxCols {
		// Unit weights for the gather.
		wt = pool.get(g.kh*g.kw, false)
		defer pool.put(wt)
		for i := range wt {
			wt[i] = 1
		}
	} else if dx != nil {
		// wt[(o,ty,tx)][c] = w[o][c][kh−1−ty][kw−1−tx]: the flipped filters.
		wt = pool.get(sg.kx*g.c, false)
		defer pool.put(wt)
		khw := g.kh * g.kw
		for o := 0; o < g.o; o++ {
			for c := 0; c < g.c; c++ {
				for t := 0; t < khw; t++ {
					wt[(o*khw+t)*g.c+c] = w[(o*g.c+c)*khw+khw-1-t]
				}
			}
		}
	}
	grain := max(1, convGrain(g)/shiftBlock)
	kernel.Parallel(nblk, grain, func(blo, bhi int) {
		sg := g.shiftGeomMode(mode) // per chunk: a captured one would go to the heap
		var xb, dyw, dyq, dxw, dcols []float32
		var offF [maxShiftFwdK]int
		var offB [maxShiftBwdK]int
		var offO [64]int // dcols step: dY's rows
		var foff, boff []int
		wide := dw != nil || sg.dxCols // dY widened to the input's row stride
		if dw != nil {
			foff = sg.fwdOffsets(g, offF[:])
			xb = pool.get(shiftBlock*sg.xlen, true)
		}
		if wide {
			dyw = pool.get(shiftBlock*g.o*sg.lda, true)
		}
		if dx != nil && sg.dxCols {
			khw := g.kh * g.kw
			boff = offB[:khw]
			for ky := 0; ky < g.kh; ky++ {
				for kx := 0; kx < g.kw; kx++ {
					t := ky*g.kw + kx
					boff[t] = t*sg.ldc + sg.mc - ky*sg.wp - kx
				}
			}
			for o := 0; o < g.o; o++ {
				offO[o] = o * sg.lda
			}
			dcols = pool.get(sg.kf*sg.ldc, true)
			dxw = pool.get(sg.padg, false)
		} else if dx != nil {
			boff = sg.bwdOffsets(g, offB[:])
			dyq = pool.get(sg.dylen, true)
			dxw = pool.get(g.c*sg.padx, false)
		}
		for blk := blo; blk < bhi; blk++ {
			n0 := blk * shiftBlock
			ns := min(shiftBlock, g.n-n0)
			for i := 0; i < ns; i++ {
				n := n0 + i
				gn := gr[n*g.o*sp : (n+1)*g.o*sp]
				if dw != nil {
					sg.padInput(g, xb[i*sg.xlen:], x[n*chw:(n+1)*chw])
				}
				if wide {
					d := dyw[i*g.o*sg.lda:]
					for o := 0; o < g.o; o++ {
						for y := 0; y < g.oh; y++ {
							copy(d[o*sg.lda+y*sg.wp:][:g.ow], gn[(o*g.oh+y)*g.ow:][:g.ow])
						}
					}
				}
				if dx != nil && sg.dxCols {
					dn := dx.st.data[n*chw : (n+1)*chw]
					// dcols[(c,ky,kx)][mc+p] = Σ_o w[o][c][ky][kx] · dY[o][p]
					kernel.ShiftGemm(sg.kf, sg.npf, g.o, offO[:g.o], dyw[i*g.o*sg.lda:], w, sg.kf, dcols[sg.mc:], sg.ldc, nil)
					khw := g.kh * g.kw
					for c := 0; c < g.c; c++ {
						// dxpad[q] = Σ_t dcols[(c,t)][mc + q − off_t]
						kernel.ShiftGemm(1, sg.plane, khw, boff, dcols[c*khw*sg.ldc:], wt, 1, dxw, sg.padg, nil)
						for y := 0; y < g.h; y++ {
							copy(dn[(c*g.h+y)*g.w:][:g.w], dxw[(y+g.ph)*sg.wp+g.pw:][:g.w])
						}
					}
				} else if dx != nil {
					for o := 0; o < g.o; o++ {
						for y := 0; y < g.oh; y++ {
							copy(dyq[o*sg.planq+(y+sg.qh)*sg.wq+sg.qw:][:g.ow], gn[(o*g.oh+y)*g.ow:][:g.ow])
						}
					}
					kernel.ShiftGemm(g.c, sg.npx, sg.kx, boff, dyq, wt, g.c, dxw, sg.padx, nil)
					dn := dx.st.data[n*chw : (n+1)*chw]
					for c := 0; c < g.c; c++ {
						for y := 0; y < g.h; y++ {
							copy(dn[(c*g.h+y)*g.w:][:g.w], dxw[c*sg.padx+y*sg.wq:][:g.w])
						}
					}
				}
			}
			if dw != nil {
				kernel.ShiftDots(g.o, kg, sg.n16, ns, dyw, sg.lda, g.o*sg.lda, foff, xb, sg.xlen, parts[blk*g.o*kg:], kg)
			}
		}
		for _, b := range [][]float32{xb, dyw, dyq, dxw, dcols} {
			if b != nil {
				pool.put(b)
			}
		}
	})
	if dw != nil {
		d := dw.st.data
		for blk := 0; blk < nblk; blk++ {
			kernel.Add(d, d, parts[blk*g.o*kg:(blk+1)*g.o*kg])
		}
	}
}
