package kernel

// LSTMGrad is one row of an LSTM cell's backward pass at one time step:
// the forward values it needs, the gradients flowing in, and the gate
// gradients it produces. All slices have the same length H (the hidden
// size).
type LSTMGrad struct {
	I, F, G, O   []float32 // the gates after their activations
	TanhC, CPrev []float32 // tanh of the new cell state; the previous cell state
	DH, DOut     []float32 // dL/dh from the next step and from this step's output
	DC           []float32 // in: dL/dc from the next step; out: dL/dc of the previous step
	// DI, DF, DG and DO receive dL/d(pre-activation) of the input,
	// forget, cell and output gates.
	DI, DF, DG, DO []float32
}

// LSTMCellBackward computes, elementwise with dh = DH + DOut,
//
//	dc = DC + dh·o·(1 − tanh²c)
//	DI = dc·g·i·(1 − i)    DF = dc·c₋₁·f·(1 − f)
//	DG = dc·i·(1 − g²)     DO = dh·tanh c·o·(1 − o)
//	DC = dc·f
//
// eight lanes at a time where the CPU has AVX2. Every lane takes the
// operations in the order of the scalar loop, unfused, so both give the
// same bits.
func LSTMCellBackward(r *LSTMGrad) {
	n := len(r.DI)
	done := lstmBackwardVec(r, n)
	i, f, g, o, t, cp := r.I[:n], r.F[:n], r.G[:n], r.O[:n], r.TanhC[:n], r.CPrev[:n]
	dhIn, dout, dcIn := r.DH[:n], r.DOut[:n], r.DC[:n]
	di, df, dg, do := r.DI[:n], r.DF[:n], r.DG[:n], r.DO[:n]
	for j := done; j < n; j++ {
		iv, fv, gv, ov, tv := i[j], f[j], g[j], o[j], t[j]
		dh := dhIn[j] + dout[j]
		dc := dcIn[j] + dh*ov*(1-tv*tv)
		di[j] = dc * gv * iv * (1 - iv)
		df[j] = dc * cp[j] * fv * (1 - fv)
		dg[j] = dc * iv * (1 - gv*gv)
		do[j] = dh * tv * ov * (1 - ov)
		dcIn[j] = dc * fv
	}
}

// GRUGrad is one row of a GRU cell's backward pass at one time step (the
// torch.nn.GRU formulation: n = tanh(W_in x + b_in + r·(W_hn h + b_hn)),
// h' = (1 − z)·n + z·h). All slices have the hidden size H.
type GRUGrad struct {
	R, Z, N []float32 // the reset and update gates and the candidate, after activation
	HN      []float32 // W_hn h + b_hn, the hidden side inside the candidate
	HPrev   []float32 // the previous hidden state
	DH      []float32 // dL/dh from the next step
	DOut    []float32 // dL/dh from this step's output
	// DR, DZ, DHN and DN receive dL/d(pre-activation) of the reset and
	// update gates, of W_hn h + b_hn and of the candidate's input side;
	// NX receives the part of dL/dh₋₁ that flows through z.
	DR, DZ, DHN, DN, NX []float32
}

// GRUCellBackward computes, elementwise with dh = DH + DOut,
//
//	dn' = dh·(1 − z)·(1 − n²)      DN = dn'   DHN = dn'·r
//	DZ  = dh·(h₋₁ − n)·z·(1 − z)   DR = dn'·HN·r·(1 − r)
//	NX  = dh·z
//
// eight lanes at a time where the CPU has AVX2, in the scalar loop's order
// and unfused, so both give the same bits.
func GRUCellBackward(r *GRUGrad) {
	n := len(r.DR)
	done := gruBackwardVec(r, n)
	rg, z, nn, hn, hp := r.R[:n], r.Z[:n], r.N[:n], r.HN[:n], r.HPrev[:n]
	dhIn, dout := r.DH[:n], r.DOut[:n]
	dr, dz, dhn, dn, nx := r.DR[:n], r.DZ[:n], r.DHN[:n], r.DN[:n], r.NX[:n]
	for j := done; j < n; j++ {
		rv, zv, nv := rg[j], z[j], nn[j]
		dh := dhIn[j] + dout[j]
		dnp := dh * (1 - zv) * (1 - nv*nv)
		dz[j] = dh * (hp[j] - nv) * zv * (1 - zv)
		dr[j] = dnp * hn[j] * rv * (1 - rv)
		dhn[j] = dnp * rv
		dn[j] = dnp
		nx[j] = dh * zv
	}
}
