package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/tensor"
)

// Recurrent layers: RNN (tanh or relu), LSTM and GRU, as torch.nn.
//
// A whole forward pass (every layer, both directions, every time step) is
// one fused op on the autograd tape rather than dozens of small ops per
// step: the input projection of all steps is one GEMM, each step is one
// GEMM h·W_hhᵀ plus one elementwise loop that applies the gates, and
// backward (BPTT) is one loop of an elementwise gate-gradient pass and one
// GEMM per step, after which the weight gradients are one GEMM each over
// all steps. What backward needs (gate activations, previous states, layer
// inputs, dropout masks) is saved in one pooled workspace buffer.
//
// Buffer layout. Every per-(time, sample) buffer uses the row order of the
// input x: row(t, b) = t*ts + b*bs, with (ts, bs) = (B, 1) for [T, B, ·]
// and (1, T) for batch-first [B, T, ·]. The rows of one time step are then
// evenly strided (ld = bs*width), which is all Sgemm needs, so batch-first
// inputs are never transposed.

// RNNConfig holds the options shared by NewRNN, NewLSTM and NewGRU, named
// after torch.nn.RNNBase's arguments. The zero value is torch's default
// (one layer, unidirectional, time-major, no dropout, tanh, with biases).
type RNNConfig struct {
	NumLayers     int     // stacked layers; 0 means 1
	Bidirectional bool    // run a second, reversed pass and concatenate the outputs
	BatchFirst    bool    // x and the output are [batch, seq, feature] instead of [seq, batch, feature]
	Dropout       float32 // dropout on the output of every layer but the last, in training mode only
	Nonlinearity  string  // "tanh" (default) or "relu"; RNN only
	NoBias        bool    // no bias_ih/bias_hh parameters (torch bias=False)
}

// RNNState is the hidden state of a recurrent layer: H (and C, the cell
// state, for LSTM only) shaped [layers*directions, batch, hidden] as in
// torch, with layer l's forward direction at index 2l and its reverse
// direction at 2l+1 when bidirectional. H is torch's h_n / h_0 and C its
// c_n / c_0.
type RNNState struct {
	H, C *tensor.Tensor
}

type rnnKind int

const (
	rnnKindTanh rnnKind = iota
	rnnKindReLU
	rnnKindLSTM
	rnnKindGRU
)

func (k rnnKind) String() string {
	return [...]string{"RNN(tanh)", "RNN(relu)", "LSTM", "GRU"}[k]
}

// gates is how many blocks of hidden units the weights stack: torch
// orders them i,f,g,o for LSTM and r,z,n for GRU.
func (k rnnKind) gates() int {
	switch k {
	case rnnKindLSTM:
		return 4
	case rnnKindGRU:
		return 3
	}
	return 1
}

// RNNBase is the engine shared by RNN, LSTM and GRU (torch.nn.RNNBase):
// Shape (T the sequence length, B the batch, D = 2 if bidirectional else
// 1, L the layers, H the hidden size):
//
//   - input [T, B, input] (time-major, torch's default), [B, T, input]
//     with BatchFirst, or unbatched [T, input] either way;
//   - output [T, B, D·H], [B, T, D·H] with BatchFirst, or [T, D·H];
//   - state H (and LSTM's C) [D·L, B, H], or [D·L, H] unbatched, in and
//     out, whatever BatchFirst says (as torch's h_0 / h_n).
//
// the configuration, the weights and the fused forward and backward
// passes. Use it through those types. torch's LSTM proj_size has no
// counterpart. It embeds Mode: dropout between layers acts only in
// training mode.
type RNNBase struct {
	Mode
	kind       rnnKind
	inputSize  int
	hiddenSize int
	numLayers  int
	dirs       int
	batchFirst bool
	dropout    float32

	// params[l*dirs+d] holds weight_ih, weight_hh, bias_ih, bias_hh of
	// layer l, direction d (biases nil without bias).
	params [][4]*tensor.Tensor
	// RandomState is the stream of the dropout masks between layers: a
	// training-mode Forward with dropout is one call.
	RandomState
}

// RNN is an Elman recurrent layer, h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
// with act tanh or relu (torch.nn.RNN).
type RNN struct{ RNNBase }

// LSTM is a long short-term memory layer (torch.nn.LSTM):
//
//	i, f, g, o = σ(W_ii x + b_ii + W_hi h + b_hi), σ(…f…), tanh(…g…), σ(…o…)
//	c' = f*c + i*g,  h' = o*tanh(c')
type LSTM struct{ RNNBase }

// GRU is a gated recurrent unit layer (torch.nn.GRU):
//
//	r, z = σ(W_ir x + b_ir + W_hr h + b_hr), σ(…z…)
//	n = tanh(W_in x + b_in + r*(W_hn h + b_hn)),  h' = (1-z)*n + z*h
type GRU struct{ RNNBase }

// NewRNN returns a torch.nn.RNN(inputSize, hiddenSize, ...) with weights
// and biases uniform in ±1/√hiddenSize from the default generator, as
// torch initialises them.
func NewRNN(inputSize, hiddenSize int, cfg RNNConfig) *RNN {
	kind := rnnKindTanh
	switch cfg.Nonlinearity {
	case "", "tanh":
	case "relu":
		kind = rnnKindReLU
	default:
		panic(fmt.Sprintf("nn: NewRNN: unknown nonlinearity %q, want \"tanh\" or \"relu\"", cfg.Nonlinearity))
	}
	return &RNN{newRNNBase(kind, inputSize, hiddenSize, cfg)}
}

// NewLSTM returns a torch.nn.LSTM(inputSize, hiddenSize, ...) initialised
// as torch does (uniform ±1/√hiddenSize). cfg.Nonlinearity must be empty.
func NewLSTM(inputSize, hiddenSize int, cfg RNNConfig) *LSTM {
	return &LSTM{newRNNBase(rnnKindLSTM, inputSize, hiddenSize, cfg)}
}

// NewGRU returns a torch.nn.GRU(inputSize, hiddenSize, ...) initialised
// as torch does (uniform ±1/√hiddenSize). cfg.Nonlinearity must be empty.
func NewGRU(inputSize, hiddenSize int, cfg RNNConfig) *GRU {
	return &GRU{newRNNBase(rnnKindGRU, inputSize, hiddenSize, cfg)}
}

func newRNNBase(kind rnnKind, inputSize, hiddenSize int, cfg RNNConfig) RNNBase {
	if inputSize < 1 || hiddenSize < 1 {
		panic(fmt.Sprintf("nn: %v: input size %d and hidden size %d must be positive", kind, inputSize, hiddenSize))
	}
	if (kind == rnnKindLSTM || kind == rnnKindGRU) && cfg.Nonlinearity != "" {
		panic(fmt.Sprintf("nn: %v has no nonlinearity option (got %q)", kind, cfg.Nonlinearity))
	}
	if cfg.Dropout < 0 || cfg.Dropout >= 1 {
		panic(fmt.Sprintf("nn: %v: dropout %v must be in [0, 1)", kind, cfg.Dropout))
	}
	layers := max(cfg.NumLayers, 1)
	dirs := 1
	if cfg.Bidirectional {
		dirs = 2
	}
	r := RNNBase{kind: kind, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: layers, dirs: dirs,
		batchFirst: cfg.BatchFirst, dropout: cfg.Dropout}
	gh := kind.gates() * hiddenSize
	bound := 1 / math.Sqrt(float64(hiddenSize))
	for l := 0; l < layers; l++ {
		in := inputSize
		if l > 0 {
			in = hiddenSize * dirs
		}
		for d := 0; d < dirs; d++ {
			p := [4]*tensor.Tensor{newParam(gh, in), newParam(gh, hiddenSize)}
			if !cfg.NoBias {
				p[2], p[3] = newParam(gh), newParam(gh)
			}
			// torch's reset_parameters draws every parameter in
			// registration order from U(-1/√hidden, 1/√hidden).
			for _, t := range p {
				if t != nil {
					Uniform(t, -bound, bound)
				}
			}
			r.params = append(r.params, p)
		}
	}
	r.RandomState = newRandomState()
	return r
}

// Members lists the weights under torch's names: weight_ih_l{k},
// weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}, with a _reverse suffix for
// the backward direction, in torch's order.
func (r *RNNBase) Members() Members {
	var ps []Named[*tensor.Tensor]
	names := [4]string{"weight_ih", "weight_hh", "bias_ih", "bias_hh"}
	for i, p := range r.params {
		suffix := fmt.Sprintf("_l%d", i/r.dirs)
		if i%r.dirs == 1 {
			suffix += "_reverse"
		}
		for j, t := range p {
			if t != nil {
				ps = append(ps, Named[*tensor.Tensor]{names[j] + suffix, t})
			}
		}
	}
	return Members{Params: ps}
}

// InputSize is the number of features of each input step.
func (r *RNNBase) InputSize() int { return r.inputSize }

// HiddenSize is the number of hidden units per direction.
func (r *RNNBase) HiddenSize() int { return r.hiddenSize }

// NumLayers is the number of stacked layers.
func (r *RNNBase) NumLayers() int { return r.numLayers }

// NumDirections is 2 when bidirectional, else 1.
func (r *RNNBase) NumDirections() int { return r.dirs }

// forwardUnbatched runs one sequence [seq, input] with a state of
// [layers*directions, hidden] (torch's unbatched input): it adds the batch
// dimension, runs the batched pass and takes it off again.
func (r *RNNBase) forwardUnbatched(x *tensor.Tensor, state *RNNState, lengths []int) (*tensor.Tensor, *RNNState) {
	if lengths != nil && (len(lengths) != 1) {
		panic(fmt.Sprintf("nn: %v.Forward: %d lengths for one unbatched sequence", r.kind, len(lengths)))
	}
	batchAxis := 1
	if r.batchFirst {
		batchAxis = 0
	}
	var st *RNNState
	if state != nil {
		st = &RNNState{}
		want := []int{r.numLayers * r.dirs, r.hiddenSize}
		for _, s := range []struct {
			in  *tensor.Tensor
			out **tensor.Tensor
		}{{state.H, &st.H}, {state.C, &st.C}} {
			if s.in == nil {
				continue
			}
			if !tensor.SameShape(s.in.Shape(), want) {
				panic(fmt.Sprintf("nn: %v.Forward: unbatched input takes an initial state of shape %v, got %v", r.kind, want, s.in.Shape()))
			}
			*s.out = s.in.Unsqueeze(1)
		}
	}
	out, fin := r.Forward(x.Unsqueeze(batchAxis), st, lengths)
	res := &RNNState{H: fin.H.Squeeze(1)}
	if fin.C != nil {
		res.C = fin.C.Squeeze(1)
	}
	return out.Squeeze(batchAxis), res
}

// LastHidden returns the top layer's final hidden state as [batch,
// hidden*directions] (forward direction first), the usual input of a
// classifier head: torch.cat([h_n[-2], h_n[-1]], 1) when bidirectional,
// h_n[-1] otherwise. With per-sample lengths it is each sample's state at
// its last valid step. It records history like any view.
func (r *RNNBase) LastHidden(final *RNNState) *tensor.Tensor {
	h := final.H
	top := h.Narrow(0, (r.numLayers-1)*r.dirs, r.dirs) // [dirs, B, H], or [dirs, H] unbatched
	if r.dirs == 1 {
		return top.Squeeze(0)
	}
	if h.Dim() == 2 {
		return top.Reshape(r.dirs * r.hiddenSize)
	}
	return top.Permute(1, 0, 2).Reshape(h.Size(1), r.dirs*r.hiddenSize)
}

// SequenceLayer adapts the recurrent layer to the Layer interface with
// Forward returning the output sequence (zero initial state, full
// lengths), so it can sit in a Sequential. It shares the weights and has
// the same state dict names.
func (r *RNNBase) SequenceLayer() RNNSequence { return RNNSequence{r} }

// LastHiddenLayer adapts the recurrent layer to the Layer interface with
// Forward returning LastHidden of a zero-state, full-length pass: the
// [batch, hidden*directions] features a classifier head needs.
func (r *RNNBase) LastHiddenLayer() RNNLastHidden { return RNNLastHidden{r} }

// RNNSequence is a recurrent layer whose Forward returns only the output
// sequence; see RNNBase.SequenceLayer.
type RNNSequence struct{ *RNNBase }

// Forward returns the output sequence of r on x from a zero state.
func (s RNNSequence) Forward(x *tensor.Tensor) *tensor.Tensor {
	out, _ := s.RNNBase.Forward(x, nil, nil)
	return out
}

// RNNLastHidden is a recurrent layer whose Forward returns the top layer's
// final hidden state; see RNNBase.LastHiddenLayer.
type RNNLastHidden struct{ *RNNBase }

// Forward returns LastHidden of a pass of r over x from a zero state.
func (s RNNLastHidden) Forward(x *tensor.Tensor) *tensor.Tensor {
	_, st := s.RNNBase.Forward(x, nil, nil)
	return s.LastHidden(st)
}

// Forward runs the layer over the sequence x, [seq, batch, input] (or
// [batch, seq, input] with BatchFirst, or one unbatched [seq, input]),
// from state (nil: zeros; for LSTM a nil C is zeros too), as torch's
// module(x, h0) / module(x, (h0, c0)). See RNNBase for every shape.
//
// lengths, when not nil, gives each sample's number of valid steps
// (1..seq, any order), the equivalent of pack_padded_sequence(x, lengths,
// enforce_sorted=False) followed by pad_packed_sequence(total_length=seq):
// outputs at and past a sample's length are zero, the reverse direction
// starts at the sample's last valid step, and the final state is the state
// at that step.
//
// It returns the output sequence, [seq, batch, hidden*directions] (batch
// first with BatchFirst), and the final state, shaped as RNNState says. In
// training mode with Dropout > 0, every layer's output but the last's is
// dropped out.
//
// Cost: 2·seq·batch·gates·hidden·(in+hidden) flops per layer and direction
// for the GEMMs (gates = 1, 4, 3 for RNN, LSTM, GRU) plus about five
// transcendental functions per hidden unit and step; backward costs about
// twice that. The whole pass is one op on the autograd tape; what backward
// needs lives in one pooled buffer that FreeGraph returns.
func (r *RNNBase) Forward(x *tensor.Tensor, state *RNNState, lengths []int) (*tensor.Tensor, *RNNState) {
	if x.Dim() == 2 && x.Size(1) == r.inputSize {
		return r.forwardUnbatched(x, state, lengths)
	}
	if x.Dim() != 3 || x.Size(2) != r.inputSize {
		want := "[seq, batch, %d]"
		if r.batchFirst {
			want = "[batch, seq, %d]"
		}
		panic(fmt.Sprintf("nn: %v.Forward: input of shape %v, want "+want+" or unbatched [seq, %d]", r.kind, x.Shape(), r.inputSize, r.inputSize))
	}
	T, B := x.Size(0), x.Size(1)
	if r.batchFirst {
		T, B = B, T
	}
	if T < 1 || B < 1 {
		panic(fmt.Sprintf("nn: %v.Forward: empty input of shape %v", r.kind, x.Shape()))
	}
	if lengths != nil {
		if len(lengths) != B {
			panic(fmt.Sprintf("nn: %v.Forward: %d lengths for a batch of %d", r.kind, len(lengths), B))
		}
		for i, n := range lengths {
			if n < 1 || n > T {
				panic(fmt.Sprintf("nn: %v.Forward: lengths[%d] = %d, want 1..%d (the sequence length)", r.kind, i, n, T))
			}
		}
	}
	H, D, L := r.hiddenSize, r.dirs, r.numLayers
	stShape := []int{L * D, B, H}
	var h0, c0 *tensor.Tensor
	if state != nil {
		h0, c0 = state.H, state.C
		if r.kind != rnnKindLSTM && c0 != nil {
			panic(fmt.Sprintf("nn: %v.Forward: a cell state C is given but only LSTM has one", r.kind))
		}
	}
	for _, s := range []*tensor.Tensor{h0, c0} {
		if s != nil && !tensor.SameShape(s.Shape(), stShape) {
			panic(fmt.Sprintf("nn: %v.Forward: initial state of shape %v, want %v", r.kind, s.Shape(), stShape))
		}
	}
	x = x.Contiguous()
	if h0 != nil {
		h0 = h0.Contiguous()
	}
	if c0 != nil {
		c0 = c0.Contiguous()
	}

	inputs := []*tensor.Tensor{x, h0, c0, nil} // [3] is the saved-state buffer
	for _, p := range r.params {
		inputs = append(inputs, p[:]...)
	}
	rec := tensor.NeedsGrad(inputs...)

	p := r.plan(T, B, lengths, r.Training() && r.dropout > 0 && L > 1)
	outShape := []int{T, B, D * H}
	if r.batchFirst {
		outShape = []int{B, T, D * H}
	}
	nOut, nSt := T*B*D*H, L*D*B*H
	// With history, Y holds the output sequence, h_n and (LSTM) c_n back
	// to back, so that one tape entry carries all three and the caller
	// sees views of it. Without, each is a tensor of its own that the
	// caller can Release.
	var y, out, hn, cn *tensor.Tensor
	var outd, hnd, cnd []float32
	if rec {
		nY := nOut + nSt
		if r.kind == rnnKindLSTM {
			nY += nSt
		}
		y = tensor.Empty(nY)
		yd := y.Data()
		outd, hnd = yd[:nOut], yd[nOut:nOut+nSt]
		if r.kind == rnnKindLSTM {
			cnd = yd[nOut+nSt:]
		}
	} else {
		out, hn = tensor.Empty(outShape...), tensor.Empty(stShape...)
		outd, hnd = out.Data(), hn.Data()
		if r.kind == rnnKindLSTM {
			cn = tensor.Empty(stShape...)
			cnd = cn.Data()
		}
	}
	ws := tensor.Empty(p.wsSize)
	p.bind(ws.Data(), x.Data(), outd)
	var h0d, c0d []float32
	if h0 != nil {
		h0d = h0.Data()
	}
	if c0 != nil {
		c0d = c0.Data()
	}
	for l := 0; l < L; l++ {
		if l > 0 {
			p.dropoutFwd(l)
		}
		for d := 0; d < D; d++ {
			slot := (l*D + d) * B * H
			var hi, ci, cs []float32
			if h0d != nil {
				hi = h0d[slot : slot+B*H]
			}
			if c0d != nil {
				ci = c0d[slot : slot+B*H]
			}
			if cnd != nil {
				cs = cnd[slot : slot+B*H]
			}
			p.forwardDir(l, d, hi, ci, hnd[slot:slot+B*H], cs)
		}
	}
	p.releaseScratch()

	if !rec {
		ws.Release()
		return out, &RNNState{H: hn, C: cn}
	}
	// The saved-state buffer becomes a (gradient-less) node of the graph
	// so that FreeGraph hands it back to the pool with the rest of the
	// step's intermediates.
	tensor.Record(ws, "RNNSaved", slices.Clone(inputs), func(*tensor.Tensor, []*tensor.Tensor) {})
	inputs[3] = ws
	tensor.Record(y, r.kind.String(), inputs, func(g *tensor.Tensor, grads []*tensor.Tensor) {
		p.backward(g.Data(), inputs, grads)
	})
	// The views come after Record so that they carry y's history.
	out = y.Narrow(0, 0, nOut).Reshape(outShape...)
	hn = y.Narrow(0, nOut, nSt).Reshape(stShape...)
	if r.kind == rnnKindLSTM {
		cn = y.Narrow(0, nOut+nSt, nSt).Reshape(stShape...)
	}
	return out, &RNNState{H: hn, C: cn}
}

// rnnPlan is one forward pass's sizes and buffers, kept by the backward
// closure.
type rnnPlan struct {
	r       *RNNBase
	g       *rand.Rand // this call's dropout generator (with drop)
	kind    rnnKind
	T, B, H int
	D, L    int
	ts, bs  int   // row(t, b) = t*ts + b*bs
	rows    int   // T*B
	gw      int   // width of a gate row in the saved buffer
	gx, gh  int   // columns the input and hidden GEMMs produce
	lengths []int // nil: every sample has T steps
	drop    bool
	wsSize  int
	layers  []rnnLayerBufs
	h, c, s *tensor.Tensor   // forward scratch: state [B,H] (x2) and hidden GEMM [B,gh]
	prec    tensor.Precision // of every product, forward and backward: fp32 or bf16 (SetPrecision)
}

type rnnLayerBufs struct {
	inW  int
	in   []float32 // [rows, inW]: x, or the previous layer's output after dropout
	out  []float32 // [rows, D*H]: this layer's output
	mask []float32 // [rows, D*H] dropout mask turning out into the next in (nil: none)
	dirs [2]rnnDirBufs
}

type rnnDirBufs struct {
	g     []float32 // [rows, gw]: x-projection, then the gate activations
	hprev []float32 // [rows, H]: the state each step started from
	cprev []float32 // [rows, H]: LSTM cell state each step started from
	tc    []float32 // [rows, H]: LSTM tanh(c_t)
}

// plan sizes the workspace of a pass; bind then carves it.
func (r *RNNBase) plan(T, B int, lengths []int, drop bool) *rnnPlan {
	H, D, L := r.hiddenSize, r.dirs, r.numLayers
	p := &rnnPlan{r: r, kind: r.kind, T: T, B: B, H: H, D: D, L: L, rows: T * B, lengths: lengths, drop: drop,
		prec: r.params[0][0].Precision()}
	if drop {
		p.g = r.next()
	}
	p.ts, p.bs = B, 1
	if r.batchFirst {
		p.ts, p.bs = 1, T
	}
	p.gh = r.kind.gates() * H
	p.gx, p.gw = p.gh, p.gh
	if r.kind == rnnKindGRU {
		p.gw = 4 * H // r, z, n and the saved W_hn h + b_hn
	}
	perDir := p.rows * (p.gw + H)
	if r.kind == rnnKindLSTM {
		perDir += 2 * p.rows * H
	}
	n := L * D * perDir
	n += (L - 1) * p.rows * D * H // outputs of all but the top layer
	if drop {
		n += 2 * (L - 1) * p.rows * D * H // masks and dropped inputs
	}
	p.wsSize = n
	return p
}

func (p *rnnPlan) bind(ws, x, out []float32) {
	take := func(n int) []float32 {
		s := ws[:n:n]
		ws = ws[n:]
		return s
	}
	DH := p.D * p.H
	p.layers = make([]rnnLayerBufs, p.L)
	for l := range p.layers {
		lb := &p.layers[l]
		if l == 0 {
			lb.inW, lb.in = p.r.inputSize, x
		} else {
			lb.inW = DH
			prev := &p.layers[l-1]
			lb.in = prev.out
			if p.drop {
				prev.mask = take(p.rows * DH)
				lb.in = take(p.rows * DH)
			}
		}
		if l == p.L-1 {
			lb.out = out
		} else {
			lb.out = take(p.rows * DH)
		}
		for d := 0; d < p.D; d++ {
			db := &lb.dirs[d]
			db.g = take(p.rows * p.gw)
			db.hprev = take(p.rows * p.H)
			if p.kind == rnnKindLSTM {
				db.cprev = take(p.rows * p.H)
				db.tc = take(p.rows * p.H)
			}
		}
	}
	p.h = tensor.Empty(p.B * p.H)
	p.c = tensor.Empty(p.B * p.H)
	p.s = tensor.Empty(p.B * p.gh)
}

func (p *rnnPlan) releaseScratch() {
	p.h.Release()
	p.c.Release()
	p.s.Release()
	p.h, p.c, p.s = nil, nil, nil
}

// weights returns the raw slices of layer l, direction d (biases nil
// without bias).
func (p *rnnPlan) weights(l, d int) (wih, whh, bih, bhh []float32) {
	w := p.r.params[l*p.D+d]
	wih, whh = w[0].Data(), w[1].Data()
	if w[2] != nil {
		bih, bhh = w[2].Data(), w[3].Data()
	}
	return
}

// valid reports whether step t of sample b is inside its length.
func (p *rnnPlan) valid(t, b int) bool { return p.lengths == nil || t < p.lengths[b] }

// dropoutFwd draws layer l-1's dropout mask and applies it to make layer
// l's input, as torch applies F.dropout between stacked layers.
func (p *rnnPlan) dropoutFwd(l int) {
	if !p.drop {
		return
	}
	prev, lb := &p.layers[l-1], &p.layers[l]
	q := p.r.dropout
	scale := 1 / (1 - q)
	g := p.g
	for i, v := range prev.out {
		if g.Float32() < q {
			prev.mask[i], lb.in[i] = 0, 0
		} else {
			prev.mask[i], lb.in[i] = scale, v*scale
		}
	}
}

// rnnFwdStep is the per-step state the parallel gate loop reads; it is made
// once per direction so that the steps allocate nothing.
type rnnFwdStep struct {
	p       *rnnPlan
	t, d    int
	db      *rnnDirBufs
	out     []float32 // layer output [rows, D*H]
	h, c, s []float32
	bhn     []float32 // GRU: b_hn, added inside r*(…)
	bias    []float32 // [gx]: the biases added to the input projection
}

// forwardDir runs layer l, direction d over the whole sequence, writing
// its half of the layer output and its final state into hn (and cn).
func (p *rnnPlan) forwardDir(l, d int, h0, c0, hn, cn []float32) {
	lb := &p.layers[l]
	db := &lb.dirs[d]
	H, B, T := p.H, p.B, p.T
	wih, whh, bih, bhh := p.weights(l, d)

	// Input projection of every step in one GEMM. The biases are added in
	// the gate loop instead of being broadcast into all rows first (which
	// would stream the whole gate buffer through memory once more): for
	// LSTM and RNN both fold into one vector; for GRU b_hn must stay inside
	// r*(W_hn h + b_hn), so only b_hr and b_hz join b_ih.
	p.prec.Gemm(false, true, p.rows, p.gx, lb.inW, 1, lb.in, lb.inW, wih, lb.inW, 0, db.g, p.gw)
	biasT := tensor.Zeros(p.gx)
	bias := biasT.Data()
	if bih != nil {
		copy(bias, bih)
		n := p.gx
		if p.kind == rnnKindGRU {
			n = 2 * H
		}
		for j := 0; j < n; j++ {
			bias[j] += bhh[j]
		}
	}

	st := &rnnFwdStep{p: p, d: d, db: db, out: lb.out, h: p.h.Data(), c: p.c.Data(), s: p.s.Data(), bias: bias}
	if h0 != nil {
		copy(st.h, h0)
	} else {
		clear(st.h)
	}
	if p.kind == rnnKindLSTM {
		if c0 != nil {
			copy(st.c, c0)
		} else {
			clear(st.c)
		}
	}
	if p.kind == rnnKindGRU {
		if bhh != nil {
			st.bhn = bhh[2*H : 3*H]
		} else {
			st.bhn = make([]float32, H)
		}
	}
	cell := st.cellLSTM
	switch p.kind {
	case rnnKindGRU:
		cell = st.cellGRU
	case rnnKindTanh, rnnKindReLU:
		cell = st.cellRNN
	}
	// W_hhᵀ once, so that the GEMM of every step packs its B operand with
	// row copies instead of a strided gather.
	whhT := tensor.Empty(H * p.gh)
	wt := whhT.Data()
	for i := 0; i < p.gh; i++ {
		for j, v := range whh[i*H : (i+1)*H] {
			wt[j*p.gh+i] = v
		}
	}
	// A row of the gate loop costs gw activations of a few ns each; 2048
	// of them per chunk keep a chunk well above the few microseconds a
	// parallel call costs.
	grain := max(1, 2048/(p.gw))
	for s := 0; s < T; s++ {
		t := s
		if d == 1 {
			t = T - 1 - s
		}
		st.t = t
		p.prec.Gemm(false, false, B, p.gh, H, 1, st.h, H, wt, p.gh, 0, st.s, p.gh)
		kernel.Parallel(B, grain, cell)
	}
	whhT.Release()
	biasT.Release()
	copy(hn, st.h)
	if cn != nil {
		copy(cn, st.c)
	}
}

func (st *rnnFwdStep) cellLSTM(lo, hi int) {
	p, db := st.p, st.db
	H, gw, DH := p.H, p.gw, p.D*p.H
	for b := lo; b < hi; b++ {
		r := st.t*p.ts + b*p.bs
		hb, cb := st.h[b*H:(b+1)*H], st.c[b*H:(b+1)*H]
		copy(db.hprev[r*H:(r+1)*H], hb)
		ob := st.out[r*DH+st.d*H : r*DH+st.d*H+H]
		if !p.valid(st.t, b) {
			clear(ob) // padding: zero output, state carried unchanged
			continue
		}
		copy(db.cprev[r*H:(r+1)*H], cb)
		g := db.g[r*gw : r*gw+4*H]
		s := st.s[b*4*H : (b+1)*4*H]
		tc := db.tc[r*H : (r+1)*H]
		// The activations run over whole gate rows in the vector kernels
		// (sigmoid on i and f together, tanh on g, sigmoid on o), then the
		// cell update, whose tanh(c) is one more row call.
		kernel.Add(g, g, s)
		kernel.Add(g, g, st.bias[:4*H])
		kernel.Sigmoid(g[:2*H], g[:2*H])
		kernel.Tanh(g[2*H:3*H], g[2*H:3*H])
		kernel.Sigmoid(g[3*H:], g[3*H:])
		gi, gf, gg, go_ := g[:H], g[H:2*H], g[2*H:3*H], g[3*H:4*H]
		for j := range cb {
			cb[j] = gf[j]*cb[j] + gi[j]*gg[j]
		}
		kernel.Tanh(tc, cb)
		kernel.Mul(hb, go_, tc)
		copy(ob, hb)
	}
}

func (st *rnnFwdStep) cellGRU(lo, hi int) {
	p, db := st.p, st.db
	H, gw, DH := p.H, p.gw, p.D*p.H
	for b := lo; b < hi; b++ {
		r := st.t*p.ts + b*p.bs
		hb := st.h[b*H : (b+1)*H]
		copy(db.hprev[r*H:(r+1)*H], hb)
		ob := st.out[r*DH+st.d*H : r*DH+st.d*H+H]
		if !p.valid(st.t, b) {
			clear(ob)
			continue
		}
		g := db.g[r*gw : r*gw+4*H]
		s := st.s[b*3*H : (b+1)*3*H]
		gr, gz, gn, ghn := g[:H], g[H:2*H], g[2*H:3*H], g[3*H:4*H]
		sn, bhn, bn := s[2*H:3*H], st.bhn[:H], st.bias[2*H:3*H]
		// r and z are adjacent in both g and s, so one sigmoid call covers
		// them; n needs r first, then one tanh call over its row.
		kernel.Add(g[:2*H], g[:2*H], s[:2*H])
		kernel.Add(g[:2*H], g[:2*H], st.bias[:2*H])
		kernel.Sigmoid(g[:2*H], g[:2*H])
		for j := range hb {
			hn := sn[j] + bhn[j]
			ghn[j] = hn
			gn[j] = gn[j] + bn[j] + gr[j]*hn
		}
		kernel.Tanh(gn, gn)
		for j := range hb {
			z := gz[j]
			h := (1-z)*gn[j] + z*hb[j]
			hb[j], ob[j] = h, h
		}
	}
}

func (st *rnnFwdStep) cellRNN(lo, hi int) {
	p, db := st.p, st.db
	H, DH := p.H, p.D*p.H
	relu := p.kind == rnnKindReLU
	for b := lo; b < hi; b++ {
		r := st.t*p.ts + b*p.bs
		hb := st.h[b*H : (b+1)*H]
		copy(db.hprev[r*H:(r+1)*H], hb)
		ob := st.out[r*DH+st.d*H : r*DH+st.d*H+H]
		if !p.valid(st.t, b) {
			clear(ob)
			continue
		}
		g := db.g[r*H : (r+1)*H]
		s := st.s[b*H : (b+1)*H]
		bias := st.bias[:H]
		kernel.Add(g, g, s)
		kernel.Add(g, g, bias)
		if relu {
			for j, v := range g {
				g[j] = max(v, 0) // keeps NaN, unlike kernel.Relu
			}
		} else {
			kernel.Tanh(g, g)
		}
		copy(hb, g)
		copy(ob, g)
	}
}

// rnnBwdStep is the per-step state of the parallel gate-gradient loop.
type rnnBwdStep struct {
	p      *rnnPlan
	t, d   int
	db     *rnnDirBufs
	dout   []float32 // gradient of the layer output [rows, D*H]
	dg     []float32 // [rows, gw] pre-activation gradients
	dh, nx []float32 // [B,H]: gradient reaching h_t, and the part of dh_{t-1} not through W_hh
	dc     []float32 // [B,H] LSTM: gradient reaching c_t
}

// backward is BPTT through the whole pass. gy is the gradient of Y
// (output sequence, h_n, c_n); inputs and grads follow Forward's inputs
// list: x, h0, c0, saved buffer, then four weights per layer-direction.
func (p *rnnPlan) backward(gy []float32, inputs, grads []*tensor.Tensor) {
	H, B, D, L, rows := p.H, p.B, p.D, p.L, p.rows
	DH := D * H
	nOut, nSt := p.T*B*DH, L*D*B*H
	dg := tensor.Empty(rows * p.gw)
	dh := tensor.Empty(B * H)
	nx := tensor.Empty(B * H)
	dc := tensor.Empty(B * H)
	colsum := make([]float32, p.gw)
	defer func() {
		dg.Release()
		dh.Release()
		nx.Release()
		dc.Release()
	}()
	var dh0, dc0 *tensor.Tensor
	if inputs[1] != nil && inputs[1].RequiresGrad() {
		dh0 = tensor.Empty(L*D, B, H)
		grads[1] = dh0
	}
	if inputs[2] != nil && inputs[2].RequiresGrad() {
		dc0 = tensor.Empty(L*D, B, H)
		grads[2] = dc0
	}
	// dX buffers for the layers above 0, alternating: layer l reads the
	// gradient of its output (dOut) and writes that of its input (dIn).
	var spare [2]*tensor.Tensor
	if L > 1 {
		spare[0], spare[1] = tensor.Empty(rows*DH), tensor.Empty(rows*DH)
		defer spare[0].Release()
		defer spare[1].Release()
	}
	dout := gy[:nOut]
	st := &rnnBwdStep{p: p, dg: dg.Data(), dh: dh.Data(), nx: nx.Data(), dc: dc.Data()}
	cell := st.cellLSTM
	switch p.kind {
	case rnnKindGRU:
		cell = st.cellGRU
	case rnnKindTanh, rnnKindReLU:
		cell = st.cellRNN
	}
	grain := max(1, 2048/(p.gw))
	for l := L - 1; l >= 0; l-- {
		lb := &p.layers[l]
		var din []float32
		if l > 0 {
			din = spare[l%2].Data()
		} else if inputs[0].RequiresGrad() {
			gx := tensor.Empty(inputs[0].Shape()...)
			grads[0] = gx
			din = gx.Data()
		}
		for d := 0; d < D; d++ {
			k := l*D + d
			slot := k * B * H
			wih, whh, _, _ := p.weights(l, d)
			db := &lb.dirs[d]
			st.db, st.d, st.dout = db, d, dout
			copy(st.dh, gy[nOut+slot:nOut+slot+B*H])
			if p.kind == rnnKindLSTM {
				copy(st.dc, gy[nOut+nSt+slot:nOut+nSt+slot+B*H])
			}
			for s := p.T - 1; s >= 0; s-- {
				t := s
				if d == 1 {
					t = p.T - 1 - s
				}
				st.t = t
				kernel.Parallel(B, grain, cell)
				// dh_{t-1} = nx + dG_t[:, :gh]·W_hh, rows of step t strided by bs*gw.
				off := t * p.ts * p.gw
				p.prec.Gemm(false, false, B, H, p.gh, 1, st.dg[off:], p.bs*p.gw, whh, H, 1, st.nx, H)
				st.dh, st.nx = st.nx, st.dh
			}
			if dh0 != nil {
				copy(dh0.Data()[slot:slot+B*H], st.dh)
			}
			if dc0 != nil {
				copy(dc0.Data()[slot:slot+B*H], st.dc)
			}
			p.weightGrads(l, d, st.dg, grads[4+4*k:8+4*k], inputs[4+4*k:8+4*k], colsum)
			// Gradient of this layer's input, summed over directions.
			if din != nil {
				beta := float32(0)
				if d == 1 {
					beta = 1
				}
				dgd := st.dg
				if p.kind == rnnKindGRU {
					p.prec.Gemm(false, false, rows, lb.inW, 2*H, 1, dgd, p.gw, wih, lb.inW, beta, din, lb.inW)
					p.prec.Gemm(false, false, rows, lb.inW, H, 1, dgd[3*H:], p.gw, wih[2*H*lb.inW:], lb.inW, 1, din, lb.inW)
				} else {
					p.prec.Gemm(false, false, rows, lb.inW, p.gx, 1, dgd, p.gw, wih, lb.inW, beta, din, lb.inW)
				}
			}
		}
		if l > 0 {
			if p.drop {
				mask := p.layers[l-1].mask
				for i := range din {
					din[i] *= mask[i]
				}
			}
			dout = din
		}
	}
}

// weightGrads turns the stored pre-activation gradients dg of one
// layer-direction into its weight gradients: one GEMM each over all
// steps, and column sums for the biases. Rows past a sample's length hold
// zero gradients, so they add nothing.
func (p *rnnPlan) weightGrads(l, d int, dg []float32, grads, params []*tensor.Tensor, colsum []float32) {
	lb := &p.layers[l]
	db := &lb.dirs[d]
	H, rows, gw, inW := p.H, p.rows, p.gw, lb.inW
	if params[0].RequiresGrad() { // dW_ih = dG_xᵀ · X
		w := tensor.Empty(params[0].Shape()...)
		wd := w.Data()
		if p.kind == rnnKindGRU {
			p.prec.Gemm(true, false, 2*H, inW, rows, 1, dg, gw, lb.in, inW, 0, wd, inW)
			p.prec.Gemm(true, false, H, inW, rows, 1, dg[3*H:], gw, lb.in, inW, 0, wd[2*H*inW:], inW)
		} else {
			p.prec.Gemm(true, false, p.gx, inW, rows, 1, dg, gw, lb.in, inW, 0, wd, inW)
		}
		grads[0] = w
	}
	if params[1].RequiresGrad() { // dW_hh = dG_hᵀ · H_prev
		w := tensor.Empty(params[1].Shape()...)
		p.prec.Gemm(true, false, p.gh, H, rows, 1, dg, gw, db.hprev, H, 0, w.Data(), H)
		grads[1] = w
	}
	if params[2] == nil || !params[2].RequiresGrad() && !params[3].RequiresGrad() {
		return
	}
	clear(colsum)
	for r := 0; r < rows; r++ {
		kernel.Axpy(1, dg[r*gw:(r+1)*gw], colsum)
	}
	if params[2].RequiresGrad() {
		b := tensor.Empty(p.gx)
		bd := b.Data()
		if p.kind == rnnKindGRU {
			copy(bd, colsum[:2*H])
			copy(bd[2*H:], colsum[3*H:4*H])
		} else {
			copy(bd, colsum[:p.gx])
		}
		grads[2] = b
	}
	if params[3].RequiresGrad() {
		b := tensor.Empty(p.gh)
		copy(b.Data(), colsum[:p.gh])
		grads[3] = b
	}
}

// prologue returns the row of step t, sample b, and handles padding: a
// step past the sample's length gets zero gate gradients and passes dh
// (and dc) through unchanged. It reports whether the step is valid.
func (st *rnnBwdStep) prologue(b int) (int, bool) {
	p := st.p
	r := st.t*p.ts + b*p.bs
	if p.valid(st.t, b) {
		return r, true
	}
	clear(st.dg[r*p.gw : (r+1)*p.gw])
	copy(st.nx[b*p.H:(b+1)*p.H], st.dh[b*p.H:(b+1)*p.H])
	return r, false
}

func (st *rnnBwdStep) cellLSTM(lo, hi int) {
	p, db := st.p, st.db
	H, gw, DH := p.H, p.gw, p.D*p.H
	var row kernel.LSTMGrad
	for b := lo; b < hi; b++ {
		r, ok := st.prologue(b)
		if !ok {
			continue
		}
		g := db.g[r*gw : r*gw+4*H]
		dgr := st.dg[r*gw : r*gw+4*H]
		row.I, row.F, row.G, row.O = g[:H], g[H:2*H], g[2*H:3*H], g[3*H:4*H]
		row.DI, row.DF, row.DG, row.DO = dgr[:H], dgr[H:2*H], dgr[2*H:3*H], dgr[3*H:4*H]
		row.TanhC, row.CPrev = db.tc[r*H:(r+1)*H], db.cprev[r*H:(r+1)*H]
		row.DOut = st.dout[r*DH+st.d*H : r*DH+st.d*H+H]
		row.DH, row.DC = st.dh[b*H:(b+1)*H], st.dc[b*H:(b+1)*H]
		kernel.LSTMCellBackward(&row)
		clear(st.nx[b*H : (b+1)*H])
	}
}

// cellGRU stores the gradient as [dr, dz, dhn, dn]: the first 3H columns
// are the gradients of the hidden-side pre-activations (W_hh h + b_hh),
// which the W_hh GEMMs take contiguously, and dr, dz with the last H
// columns those of the input side (W_ih x + b_ih).
func (st *rnnBwdStep) cellGRU(lo, hi int) {
	p, db := st.p, st.db
	H, gw, DH := p.H, p.gw, p.D*p.H
	var row kernel.GRUGrad
	for b := lo; b < hi; b++ {
		r, ok := st.prologue(b)
		if !ok {
			continue
		}
		g := db.g[r*gw : r*gw+4*H]
		dgr := st.dg[r*gw : r*gw+4*H]
		row.R, row.Z, row.N, row.HN = g[:H], g[H:2*H], g[2*H:3*H], g[3*H:4*H]
		row.DR, row.DZ, row.DHN, row.DN = dgr[:H], dgr[H:2*H], dgr[2*H:3*H], dgr[3*H:4*H]
		row.HPrev = db.hprev[r*H : (r+1)*H]
		row.DOut = st.dout[r*DH+st.d*H : r*DH+st.d*H+H]
		row.DH, row.NX = st.dh[b*H:(b+1)*H], st.nx[b*H:(b+1)*H]
		kernel.GRUCellBackward(&row)
	}
}

func (st *rnnBwdStep) cellRNN(lo, hi int) {
	p, db := st.p, st.db
	H, DH := p.H, p.D*p.H
	relu := p.kind == rnnKindReLU
	for b := lo; b < hi; b++ {
		r, ok := st.prologue(b)
		if !ok {
			continue
		}
		g := db.g[r*H : (r+1)*H]
		dgr := st.dg[r*H : (r+1)*H]
		dob := st.dout[r*DH+st.d*H : r*DH+st.d*H+H]
		dhb, nxb := st.dh[b*H:(b+1)*H], st.nx[b*H:(b+1)*H]
		for j := range dhb {
			h := g[j]
			dh := dhb[j] + dob[j]
			if relu {
				if h <= 0 {
					dh = 0
				}
			} else {
				dh *= 1 - h*h
			}
			dgr[j] = dh
			nxb[j] = 0
		}
	}
}
