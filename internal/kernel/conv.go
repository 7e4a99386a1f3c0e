package kernel

import "fmt"

// Direct convolution without a column matrix. A stride-1 convolution over
// an input laid out with row stride W (padding already in the buffer) is,
// position by flat position p = y·W + x, a sum over taps r = (c, ky, kx) of
// w[o][r] · in[c·plane + ky·W + kx + p]: row r of the column matrix is the
// input itself shifted by off[r]. ShiftGemm multiplies by that virtual
// matrix and ShiftDots reduces against it, so im2col and col2im vanish;
// the columns x ≥ OW of each output row are computed and thrown away.

// convImpl names one implementation of the direct-convolution kernels
// (ShiftGemm, ShiftDots) and of DotTile4x4; convPath (per architecture)
// selects among those in convPaths. Tests set it to run every path on one
// machine.
type convImpl uint8

const (
	convGo     convImpl = iota // plain Go loops
	convAVX2                   // AVX2+FMA, 8 lanes (amd64)
	convAVX512                 // AVX-512F, 16 lanes (amd64)
)

func (p convImpl) String() string {
	return [...]string{"go", "avx2", "avx512"}[p]
}

// HasShiftAsm reports whether ShiftGemm and ShiftDots run assembly
// (AVX-512, or AVX2+FMA). Without it they are correct but plain Go, and
// callers should prefer im2col + Sgemm.
func HasShiftAsm() bool { return convPath != convGo }

// shiftNV is the vectors of 16 positions one AVX-512 tile of ShiftGemm
// covers for m output rows in all.
func shiftNV(m int) int {
	if m >= 5 {
		return 3
	}
	return 6
}

// shiftGemmGeom returns, for m rows on the current path, the positions one
// assembly tile covers (nv vectors of lanes floats) and the most rows it
// holds. The AVX2 widths (16, 24) divide the AVX-512 ones (48, 96), so
// ShiftGemmPad, which sizes the callers' buffers, is the same on every path.
func shiftGemmGeom(m int) (lanes, nv, maxMO int) {
	if convPath == convAVX2 {
		if m >= 5 {
			return 8, 2, 6
		}
		return 8, 3, 4
	}
	if nv = shiftNV(m); nv == 6 {
		return 16, nv, 4
	}
	return 16, nv, 8
}

// ShiftGemmPad returns np rounded up to the positions ShiftGemm may write
// and read for m rows: out rows and in (from each off[r]) must hold that
// many. It does not depend on the CPU.
func ShiftGemmPad(m, np int) int {
	w := 16 * shiftNV(m)
	return (np + w - 1) / w * w
}

// ShiftGemm sets out[i*ldo+p] = bias[i] + Σ_{r<k} wt[r*ldw+i] · in[off[r]+p]
// for i < m and p < np (bias nil: 0); up to ShiftGemmPad(m, np) positions of each out row may
// be written, and in is read that far past each off[r]. Each sum runs over r
// in order, so results do not depend on how callers split the work.
func ShiftGemm(m, np, k int, off []int, in, wt []float32, ldw int, out []float32, ldo int, bias []float32) {
	if m <= 0 || np <= 0 {
		return
	}
	pad := ShiftGemmPad(m, np)
	maxOff := 0
	for _, o := range off[:k] {
		if o < 0 {
			panic("kernel.ShiftGemm: negative offset")
		}
		maxOff = max(maxOff, o)
	}
	if k <= 0 || len(in) < maxOff+pad || len(wt) < (k-1)*ldw+m || len(out) < (m-1)*ldo+pad || ldw < m || ldo < pad || (bias != nil && len(bias) < m) {
		panic(fmt.Sprintf("kernel.ShiftGemm: buffers too short for m=%d np=%d k=%d", m, np, k))
	}
	if convPath == convGo {
		shiftGemmGo(m, np, k, off, in, wt, ldw, out, ldo, bias)
		return
	}
	lanes, nv, maxMO := shiftGemmGeom(m)
	tiles := (m + maxMO - 1) / maxMO
	var zero [8]float32
	// Tiles start below np and end within pad (their width divides it).
	for p0 := 0; p0 < np; p0 += nv * lanes {
		i0 := 0
		for t := 0; t < tiles; t++ {
			mo := m / tiles
			if t < m%tiles {
				mo++
			}
			b := &zero[0]
			if bias != nil {
				b = &bias[i0]
			}
			shiftGemmTile(mo, nv, k, off, in[p0:], wt[i0:], ldw, out[i0*ldo+p0:], ldo, b)
			i0 += mo
		}
	}
}

func shiftGemmGo(m, np, k int, off []int, in, wt []float32, ldw int, out []float32, ldo int, bias []float32) {
	for i := 0; i < m; i++ {
		row := out[i*ldo : i*ldo+np]
		clear(row)
		if bias != nil {
			for p := range row {
				row[p] = bias[i]
			}
		}
		for r := 0; r < k; r++ {
			axpy(wt[r*ldw+i], in[off[r]:off[r]+np], row)
		}
	}
}

// ShiftDots adds to c[i*ldc+j], for i < m and j < nb, the sum over ns
// samples s and n positions p of a[s*sa+i*lda+p] · b[s*sb+boff[j]+p]: the
// weight gradient dY·colsᵀ of a direct convolution, dY's rows against the
// shifted input rows, summed over a block of samples. The sum is taken in a
// fixed order (lane-wise over the samples, then across lanes), which
// depends on the path's vector width but not on how callers split the work.
func ShiftDots(m, nb, n, ns int, a []float32, lda, sa int, boff []int, b []float32, sb int, c []float32, ldc int) {
	if m <= 0 || nb <= 0 || n <= 0 || ns <= 0 {
		return
	}
	maxOff := 0
	for _, o := range boff[:nb] {
		if o < 0 {
			panic("kernel.ShiftDots: negative offset")
		}
		maxOff = max(maxOff, o)
	}
	if len(a) < (ns-1)*sa+(m-1)*lda+n || len(b) < (ns-1)*sb+maxOff+n || len(c) < (m-1)*ldc+nb {
		panic(fmt.Sprintf("kernel.ShiftDots: buffers too short for m=%d nb=%d n=%d ns=%d", m, nb, n, ns))
	}
	// Tiles of up to 4 a rows against nbt b rows, lanes floats per vector:
	// 4×5 in 32 zmm registers, 4×3 in 16 ymm ones.
	lanes, nbt := 16, 5
	if convPath == convAVX2 {
		lanes, nbt = 8, 3
	}
	nl := 0
	if convPath != convGo {
		nl = n &^ (lanes - 1)
	}
	if nl > 0 {
		tiles := (m + 3) / 4
		var rows [9]*float32
		var part [320]float32
		i0 := 0
		for t := 0; t < tiles; t++ {
			ma := m / tiles
			if t < m%tiles {
				ma++
			}
			for i := 0; i < ma; i++ {
				rows[i] = &a[(i0+i)*lda]
			}
			for j0 := 0; j0 < nb; j0 += nbt {
				w := min(nbt, nb-j0)
				for j := 0; j < nbt; j++ {
					rows[4+j] = &b[boff[j0+min(j, w-1)]]
				}
				shiftDotsTile(ma, ns, nl/lanes, &rows, sa, sb, &part)
				for i := 0; i < ma; i++ {
					for j := 0; j < w; j++ {
						var s float32
						for _, v := range part[(i*nbt+j)*lanes : (i*nbt+j+1)*lanes] {
							s += v
						}
						c[(i0+i)*ldc+j0+j] += s
					}
				}
			}
			i0 += ma
		}
	}
	if nl == n {
		return
	}
	for i := 0; i < m; i++ {
		for j := 0; j < nb; j++ {
			var s float32
			for t := 0; t < ns; t++ {
				ar := a[t*sa+i*lda+nl : t*sa+i*lda+n]
				br := b[t*sb+boff[j]+nl : t*sb+boff[j]+n]
				s += dotGo(ar, br)
			}
			c[i*ldc+j] += s
		}
	}
}
