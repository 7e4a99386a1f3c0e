//go:build amd64 && !noasm

package kernel

// lstmBackAVX2 runs LSTMCellBackward over n elements (a multiple of 8) of
// the 13 rows whose first elements p points to, in LSTMGrad's field order.
//
//go:noescape
func lstmBackAVX2(p *[13]*float32, n int)

// lstmBackwardVec runs the AVX2 loop over the longest multiple of 8 and
// returns how many elements it did.
func lstmBackwardVec(r *LSTMGrad, n int) int {
	m := n &^ 7
	if !hasAVX2 || m == 0 {
		return 0
	}
	p := [13]*float32{&r.I[0], &r.F[0], &r.G[0], &r.O[0], &r.TanhC[0], &r.CPrev[0],
		&r.DH[0], &r.DOut[0], &r.DC[0], &r.DI[0], &r.DF[0], &r.DG[0], &r.DO[0]}
	// Bounds for the assembly, which does not check them.
	_ = r.I[m-1] + r.F[m-1] + r.G[m-1] + r.O[m-1] + r.TanhC[m-1] + r.CPrev[m-1] +
		r.DH[m-1] + r.DOut[m-1] + r.DC[m-1] + r.DI[m-1] + r.DF[m-1] + r.DG[m-1] + r.DO[m-1]
	lstmBackAVX2(&p, m)
	return m
}

// gruBackAVX2 runs GRUCellBackward over n elements (a multiple of 8) of the
// 12 rows whose first elements p points to, in GRUGrad's field order.
//
//go:noescape
func gruBackAVX2(p *[12]*float32, n int)

// gruBackwardVec runs the AVX2 loop over the longest multiple of 8 and
// returns how many elements it did.
func gruBackwardVec(r *GRUGrad, n int) int {
	m := n &^ 7
	if !hasAVX2 || m == 0 {
		return 0
	}
	p := [12]*float32{&r.R[0], &r.Z[0], &r.N[0], &r.HN[0], &r.HPrev[0], &r.DH[0], &r.DOut[0],
		&r.DR[0], &r.DZ[0], &r.DHN[0], &r.DN[0], &r.NX[0]}
	// Bounds for the assembly, which does not check them.
	_ = r.R[m-1] + r.Z[m-1] + r.N[m-1] + r.HN[m-1] + r.HPrev[m-1] + r.DH[m-1] + r.DOut[m-1] +
		r.DR[m-1] + r.DZ[m-1] + r.DHN[m-1] + r.DN[m-1] + r.NX[m-1]
	gruBackAVX2(&p, m)
	return m
}
