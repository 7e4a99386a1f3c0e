//go:build amd64 && !noasm

package kernel

// maxPool2x2AVX2 pools n blocks (a multiple of 8) from r0 and r1 into dst
// and reports whether any input was NaN, in which case dst is not
// PyTorch's (VMAXPS does not propagate NaN) and the caller redoes it.
//
//go:noescape
func maxPool2x2AVX2(dst, r0, r1 *float32, n int) (nan bool)

// maxPool2x2BwdAVX2 is MaxPool2x2RowBackward for n blocks (a multiple of
// 8), with the same NaN report.
//
//go:noescape
func maxPool2x2BwdAVX2(d0, d1, x0, x1, gr *float32, n int) (nan bool)

// maxPool2x2Vec runs the AVX2 forward over all n blocks when n >= 8 (the
// last, partial group of 8 is redone as the row's last 8 blocks, which
// overlap the ones before) and returns how many it wrote: n, or 0 when
// the row is short or a NaN sends it to the portable loop.
func maxPool2x2Vec(dst, r0, r1 []float32) int {
	n := len(dst)
	if !hasAVX2 || n < 8 {
		return 0
	}
	_, _ = r0[2*n-1], r1[2*n-1]
	body := n &^ 7
	nan := maxPool2x2AVX2(&dst[0], &r0[0], &r1[0], body)
	if body < n {
		nan = maxPool2x2AVX2(&dst[n-8], &r0[2*(n-8)], &r1[2*(n-8)], 8) || nan
	}
	if nan {
		return 0
	}
	return n
}

// maxPool2x2BwdVec is maxPool2x2Vec for the backward; rewriting a block
// writes the same four values again.
func maxPool2x2BwdVec(d0, d1, x0, x1, g []float32) int {
	n := len(g)
	if !hasAVX2 || n < 8 {
		return 0
	}
	_, _, _, _ = d0[2*n-1], d1[2*n-1], x0[2*n-1], x1[2*n-1]
	body := n &^ 7
	nan := maxPool2x2BwdAVX2(&d0[0], &d1[0], &x0[0], &x1[0], &g[0], body)
	if body < n {
		o := 2 * (n - 8)
		nan = maxPool2x2BwdAVX2(&d0[o], &d1[o], &x0[o], &x1[o], &g[n-8], 8) || nan
	}
	if nan {
		return 0
	}
	return n
}
