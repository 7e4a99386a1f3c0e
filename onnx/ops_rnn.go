package onnx

import (
	"fmt"
	"math"

	"github.com/shenml/shen/internal/kernel"
)

func init() {
	register(buildRNN, "LSTM", "GRU", "RNN")
}

// rnnAttrs are the parsed attributes of an LSTM, GRU or RNN node.
type rnnAttrs struct {
	op           string
	gates        int // 4 LSTM, 3 GRU, 1 RNN
	hidden       int
	dirs         int
	reverse      bool // direction "reverse" (single direction)
	clip         float32
	acts         []func(float32) float32 // f, g, h per direction
	inputForget  bool
	linearBefore bool
	batchMajor   bool // layout 1
	// standard: the default activations (Sigmoid, Tanh[, Tanh]) without
	// clip or coupled gates, which run on the vector kernels.
	standard bool
}

func buildRNN(n *node) (opFunc, error) {
	a := &rnnAttrs{op: n.op, hidden: n.attr.int("hidden_size", 0), clip: n.attr.float("clip", 0)}
	a.gates = map[string]int{"LSTM": 4, "GRU": 3, "RNN": 1}[n.op]
	switch dir := n.attr.str("direction", "forward"); dir {
	case "forward":
		a.dirs = 1
	case "reverse":
		a.dirs, a.reverse = 1, true
	case "bidirectional":
		a.dirs = 2
	default:
		return nil, fmt.Errorf("direction %q", dir)
	}
	a.inputForget = n.attr.int("input_forget", 0) != 0
	a.linearBefore = n.attr.int("linear_before_reset", 0) != 0
	a.batchMajor = n.attr.int("layout", 0) != 0
	names := n.attr.strs("activations")
	per := map[string]int{"LSTM": 3, "GRU": 2, "RNN": 1}[n.op]
	if names == nil {
		def := map[string][]string{"LSTM": {"Sigmoid", "Tanh", "Tanh"}, "GRU": {"Sigmoid", "Tanh"}, "RNN": {"Tanh"}}[n.op]
		for range a.dirs {
			names = append(names, def...)
		}
	}
	if len(names) != per*a.dirs {
		return nil, fmt.Errorf("%d activations for %d directions", len(names), a.dirs)
	}
	a.standard = a.clip == 0 && !a.inputForget
	for i, name := range names {
		if name != map[bool]string{true: "Sigmoid", false: "Tanh"}[i%per == 0] {
			a.standard = false
		}
	}
	alphas, betas := n.attr.floats("activation_alpha"), n.attr.floats("activation_beta")
	for _, name := range names {
		f, err := rnnActivation(name, &alphas, &betas)
		if err != nil {
			return nil, err
		}
		a.acts = append(a.acts, f)
	}
	return func(x *exec, in, out []*Tensor) error { return a.run(x, in, out) }, nil
}

// rnnActivation returns the named activation; parameterised ones take
// their alpha and beta from the front of the lists.
func rnnActivation(name string, alphas, betas *[]float32) (func(float32) float32, error) {
	take := func(l *[]float32, def float32) float32 {
		if len(*l) == 0 {
			return def
		}
		v := (*l)[0]
		*l = (*l)[1:]
		return v
	}
	switch name {
	case "Sigmoid":
		return func(v float32) float32 { return float32(1 / (1 + math.Exp(-float64(v)))) }, nil
	case "Tanh":
		return func(v float32) float32 { return float32(math.Tanh(float64(v))) }, nil
	case "Relu":
		return func(v float32) float32 { return max(v, 0) }, nil
	case "LeakyRelu":
		al := take(alphas, 0.01)
		return func(v float32) float32 {
			if v < 0 {
				return al * v
			}
			return v
		}, nil
	case "HardSigmoid":
		al, be := take(alphas, 0.2), take(betas, 0.5)
		return func(v float32) float32 { return max(0, min(1, al*v+be)) }, nil
	case "Affine":
		al, be := take(alphas, 1), take(betas, 0)
		return func(v float32) float32 { return al*v + be }, nil
	case "ScaledTanh":
		al, be := take(alphas, 1), take(betas, 1)
		return func(v float32) float32 { return al * float32(math.Tanh(float64(be*v))) }, nil
	case "Elu":
		al := take(alphas, 1)
		return func(v float32) float32 {
			if v < 0 {
				return al * float32(math.Expm1(float64(v)))
			}
			return v
		}, nil
	case "Softsign":
		return func(v float32) float32 { return v / (1 + float32(math.Abs(float64(v)))) }, nil
	case "Softplus":
		return func(v float32) float32 { return float32(math.Log1p(math.Exp(float64(v)))) }, nil
	}
	return nil, fmt.Errorf("activation %q is not supported", name)
}

// run evaluates the recurrence for every direction.
func (a *rnnAttrs) run(x *exec, in, out []*Tensor) error {
	X, W, R := in[0], in[1], in[2]
	B, seqLens, h0 := get(in, 3), get(in, 4), get(in, 5)
	var c0, P *Tensor
	if a.op == "LSTM" {
		c0, P = get(in, 6), get(in, 7)
	}
	if len(X.Shape) != 3 {
		return fmt.Errorf("input X has shape %v, want 3 axes", X.Shape)
	}
	seq, batch, inSize := X.Shape[0], X.Shape[1], X.Shape[2]
	if a.batchMajor {
		seq, batch = batch, seq
	}
	H, G := a.hidden, a.gates
	if H == 0 && len(R.Shape) == 3 {
		H = R.Shape[2]
	}
	if !sameShape(W.Shape, []int{a.dirs, G * H, inSize}) || !sameShape(R.Shape, []int{a.dirs, G * H, H}) {
		return fmt.Errorf("weights W %v and R %v do not fit %d directions, hidden %d, input %d", W.Shape, R.Shape, a.dirs, H, inSize)
	}
	if B != nil && !sameShape(B.Shape, []int{a.dirs, 2 * G * H}) {
		return fmt.Errorf("bias B has shape %v", B.Shape)
	}
	xs := X.F
	if a.batchMajor { // to seq-major
		xs = x.floats(0, len(X.F))
		for b := 0; b < batch; b++ {
			for t := 0; t < seq; t++ {
				copy(xs[(t*batch+b)*inSize:(t*batch+b+1)*inSize], X.F[(b*seq+t)*inSize:])
			}
		}
	}
	lens := x.ints(0, batch)
	for b := range lens {
		lens[b] = seq
		if seqLens != nil {
			lens[b] = min(seq, int(seqLens.I[b]))
		}
	}
	y := x.tensor(0)
	y.set(Float, []int{seq, a.dirs, batch, H})
	clear(y.F)
	yh, yc := x.tensor(1), x.tensor(2)
	yh.set(Float, []int{a.dirs, batch, H})
	yc.set(Float, []int{a.dirs, batch, H})
	for d := 0; d < a.dirs; d++ {
		rev := a.reverse || d == 1
		if err := a.direction(x, d, rev, xs, seq, batch, inSize, W, R, B, P, h0, c0, lens, y, yh, yc); err != nil {
			return err
		}
	}
	a.writeOutputs(y, yh, yc, out, seq, batch, H)
	return nil
}

// writeOutputs copies Y, Y_h and Y_c into the requested outputs in the
// node's layout.
func (a *rnnAttrs) writeOutputs(y, yh, yc *Tensor, out []*Tensor, seq, batch, H int) {
	for k, src := range []*Tensor{y, yh, yc} {
		if k >= len(out) || out[k] == nil {
			continue
		}
		if !a.batchMajor {
			out[k].copyFrom(src)
			continue
		}
		if k == 0 { // [seq, dirs, batch, H] -> [batch, seq, dirs, H]
			out[k].set(Float, []int{batch, seq, a.dirs, H})
			for t := 0; t < seq; t++ {
				for d := 0; d < a.dirs; d++ {
					for b := 0; b < batch; b++ {
						copy(out[k].F[((b*seq+t)*a.dirs+d)*H:][:H], src.F[((t*a.dirs+d)*batch+b)*H:])
					}
				}
			}
			continue
		}
		out[k].set(Float, []int{batch, a.dirs, H}) // [dirs, batch, H] -> [batch, dirs, H]
		for d := 0; d < a.dirs; d++ {
			for b := 0; b < batch; b++ {
				copy(out[k].F[(b*a.dirs+d)*H:][:H], src.F[(d*batch+b)*H:])
			}
		}
	}
}

// direction runs one direction d of the recurrence.
func (a *rnnAttrs) direction(x *exec, d int, rev bool, xs []float32, seq, batch, inSize int, W, R, B, P, h0, c0 *Tensor, lens []int, y, yh, yc *Tensor) error {
	H, G := a.hidden, a.gates
	if H == 0 {
		H = R.Shape[2]
	}
	GH := G * H
	// Input projections of every step at once: xw = X W^T + Wb (+ Rb).
	xw := x.floats(1, seq*batch*GH)
	kernel.Sgemm(false, true, seq*batch, GH, inSize, 1, xs, inSize, W.F[d*GH*inSize:], inSize, 0, xw, GH)
	var rb []float32
	if B != nil {
		wb := B.F[d*2*GH : d*2*GH+GH]
		rb = B.F[d*2*GH+GH : (d+1)*2*GH]
		for r := 0; r < seq*batch; r++ {
			row := xw[r*GH : (r+1)*GH]
			kernel.Add(row, row, wb)
			if !(a.op == "GRU") {
				kernel.Add(row, row, rb)
			}
		}
	}
	h, c := x.floats(2, batch*H), x.floats(3, batch*H)
	clear(h)
	clear(c)
	if h0 != nil {
		copy(h, h0.F[d*batch*H:])
	}
	if c0 != nil {
		copy(c, c0.F[d*batch*H:])
	}
	hr := x.floats(4, batch*GH)
	f, g := a.acts[d*len(a.acts)/a.dirs], a.acts[min(d*len(a.acts)/a.dirs+1, len(a.acts)-1)]
	hAct := a.acts[(d+1)*len(a.acts)/a.dirs-1]
	Rd := R.F[d*GH*H:]
	for s := 0; s < seq; s++ {
		kernel.Sgemm(false, true, batch, GH, H, 1, h, H, Rd, H, 0, hr, GH)
		for b := 0; b < batch; b++ {
			if s >= lens[b] {
				continue
			}
			t := s
			if rev {
				t = lens[b] - 1 - s
			}
			hb, cb := h[b*H:(b+1)*H], c[b*H:(b+1)*H]
			xg, rg := xw[(t*batch+b)*GH:(t*batch+b+1)*GH], hr[b*GH:(b+1)*GH]
			switch {
			case a.op == "LSTM" && a.standard && P == nil:
				lstmCellVec(hb, cb, xg, rg, x.floats(5, 5*H))
			case a.op == "GRU" && a.standard && a.linearBefore:
				gruCellVec(hb, xg, rg, rb, x.floats(5, 4*H))
			case a.op == "LSTM":
				a.lstmCell(hb, cb, xg, rg, P, d, f, g, hAct)
			case a.op == "GRU":
				a.gruCell(hb, xg, rg, rb, Rd, f, g, x.floats(5, 4*H))
			default:
				for j := range hb {
					hb[j] = f(a.clipped(xg[j] + rg[j]))
				}
			}
			copy(y.F[((t*a.dirs+d)*batch+b)*H:][:H], hb)
		}
	}
	copy(yh.F[d*batch*H:], h)
	copy(yc.F[d*batch*H:], c)
	return nil
}

func (a *rnnAttrs) clipped(v float32) float32 {
	if a.clip > 0 {
		return max(-a.clip, min(a.clip, v))
	}
	return v
}

// lstmCell advances one batch row; gates are ordered i, o, f, c.
func (a *rnnAttrs) lstmCell(h, c, xg, rg []float32, P *Tensor, d int, f, g, hAct func(float32) float32) {
	H := len(h)
	var pi, po, pf []float32
	if P != nil {
		p := P.F[d*3*H:]
		pi, po, pf = p[:H], p[H:2*H], p[2*H:3*H]
	}
	for j := 0; j < H; j++ {
		zi := xg[j] + rg[j]
		zo := xg[H+j] + rg[H+j]
		zf := xg[2*H+j] + rg[2*H+j]
		zc := xg[3*H+j] + rg[3*H+j]
		if pi != nil {
			zi += pi[j] * c[j]
			zf += pf[j] * c[j]
		}
		it := f(a.clipped(zi))
		ft := f(a.clipped(zf))
		if a.inputForget {
			ft = 1 - it
		}
		ct := g(a.clipped(zc))
		c[j] = ft*c[j] + it*ct
		if po != nil {
			zo += po[j] * c[j]
		}
		ot := f(a.clipped(zo))
		h[j] = ot * hAct(c[j])
	}
}

// gruCell advances one batch row; gates are ordered z, r, h. rg holds
// h R^T without the recurrent bias, which GRU applies per gate; scr holds
// 4*H floats of scratch.
func (a *rnnAttrs) gruCell(h, xg, rg, rb, Rd []float32, f, g func(float32) float32, scr []float32) {
	H := len(h)
	bias := func(k int) float32 {
		if rb == nil {
			return 0
		}
		return rb[k]
	}
	z, r, cand, rhPrev := scr[:H], scr[H:2*H], scr[2*H:3*H], scr[3*H:4*H]
	for j := 0; j < H; j++ {
		z[j] = f(a.clipped(xg[j] + rg[j] + bias(j)))
		r[j] = f(a.clipped(xg[H+j] + rg[H+j] + bias(H+j)))
	}
	if a.linearBefore {
		for j := 0; j < H; j++ {
			cand[j] = g(a.clipped(xg[2*H+j] + r[j]*(rg[2*H+j]+bias(2*H+j))))
		}
	} else {
		for j := 0; j < H; j++ {
			rhPrev[j] = r[j] * h[j]
		}
		for j := 0; j < H; j++ {
			cand[j] = g(a.clipped(xg[2*H+j] + kernel.Dot(rhPrev, Rd[(2*H+j)*H:(2*H+j+1)*H]) + bias(2*H+j)))
		}
	}
	for j := 0; j < H; j++ {
		h[j] = (1-z[j])*cand[j] + z[j]*h[j]
	}
}

// lstmCellVec is lstmCell for the default activations without peepholes
// or clip, on the vector kernels; scr holds 5*H floats.
func lstmCellVec(h, c, xg, rg, scr []float32) {
	H := len(h)
	z, t := scr[:4*H], scr[4*H:5*H]
	kernel.Add(z, xg, rg)
	kernel.Sigmoid(z[:3*H], z[:3*H]) // i, o, f
	kernel.Tanh(z[3*H:], z[3*H:])    // candidate
	it, ot, ft, ct := z[:H], z[H:2*H], z[2*H:3*H], z[3*H:4*H]
	for j := range c {
		c[j] = ft[j]*c[j] + it[j]*ct[j]
	}
	kernel.Tanh(t, c)
	kernel.Mul(h, ot, t)
}

// gruCellVec is gruCell for the default activations with
// linear_before_reset (PyTorch's GRU), on the vector kernels; scr holds
// 4*H floats.
func gruCellVec(h, xg, rg, rb, scr []float32) {
	H := len(h)
	zr, rh, cand := scr[:2*H], scr[2*H:3*H], scr[3*H:4*H]
	kernel.Add(zr, xg[:2*H], rg[:2*H])
	copy(rh, rg[2*H:3*H])
	if rb != nil {
		kernel.Add(zr, zr, rb[:2*H])
		kernel.Add(rh, rh, rb[2*H:3*H])
	}
	kernel.Sigmoid(zr, zr)
	z, r := zr[:H], zr[H:]
	kernel.Mul(rh, r, rh)
	kernel.Add(cand, xg[2*H:3*H], rh)
	kernel.Tanh(cand, cand)
	for j := range h {
		h[j] = (1-z[j])*cand[j] + z[j]*h[j]
	}
}
