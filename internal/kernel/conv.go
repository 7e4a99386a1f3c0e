package kernel

import "fmt"

// Direct convolution without a column matrix. A stride-1 convolution over
// an input laid out with row stride W (padding already in the buffer) is,
// position by flat position p = y·W + x, a sum over taps r = (c, ky, kx) of
// w[o][r] · in[c·plane + ky·W + kx + p]: row r of the column matrix is the
// input itself shifted by off[r]. ShiftGemm multiplies by that virtual
// matrix and ShiftDots reduces against it, so im2col and col2im vanish;
// the columns x ≥ OW of each output row are computed and thrown away.

// HasShiftAsm reports whether ShiftGemm and ShiftDots run assembly
// (AVX-512). Without it they are correct but plain Go, and callers should
// prefer im2col + Sgemm.
func HasShiftAsm() bool { return hasShiftAsm }

// shiftNV is the vectors of 16 positions one assembly tile of ShiftGemm
// covers for m output rows in all.
func shiftNV(m int) int {
	if m >= 5 {
		return 3
	}
	return 6
}

// ShiftGemmPad returns np rounded up to the positions ShiftGemm may write
// and read for m rows: out rows and in (from each off[r]) must hold that
// many.
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
	if !hasShiftAsm {
		shiftGemmGo(m, np, k, off, in, wt, ldw, out, ldo, bias)
		return
	}
	nv := shiftNV(m)
	maxMO := 8
	if nv == 6 {
		maxMO = 4
	}
	tiles := (m + maxMO - 1) / maxMO
	var zero [8]float32
	for p0 := 0; p0 < pad; p0 += nv * 16 {
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
// fixed order (lane-wise over the samples, then across lanes).
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
	n16 := 0
	if hasShiftAsm {
		n16 = n &^ 15
	}
	if n16 > 0 {
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
			for j0 := 0; j0 < nb; j0 += 5 {
				w := min(5, nb-j0)
				for j := 0; j < 5; j++ {
					rows[4+j] = &b[boff[j0+min(j, w-1)]]
				}
				shiftDotsTile(ma, ns, n16/16, &rows, sa, sb, &part)
				for i := 0; i < ma; i++ {
					for j := 0; j < w; j++ {
						var s float32
						for _, v := range part[(i*5+j)*16 : (i*5+j)*16+16] {
							s += v
						}
						c[(i0+i)*ldc+j0+j] += s
					}
				}
			}
			i0 += ma
		}
	}
	if n16 == n {
		return
	}
	for i := 0; i < m; i++ {
		for j := 0; j < nb; j++ {
			var s float32
			for t := 0; t < ns; t++ {
				ar := a[t*sa+i*lda+n16 : t*sa+i*lda+n]
				br := b[t*sb+boff[j]+n16 : t*sb+boff[j]+n]
				s += dotGo(ar, br)
			}
			c[i*ldc+j] += s
		}
	}
}
