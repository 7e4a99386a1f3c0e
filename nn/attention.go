package nn

import (
	"fmt"
	"math"

	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/tensor"
)

// AttentionOptions are the per-call masks and switches of
// MultiHeadAttention.Forward and of the transformer layers, the keyword
// arguments of torch.nn.MultiheadAttention.forward. The zero value attends
// everywhere and returns no weights.
//
// L is the query length and S the key length. Masks may be combined; a
// query row whose every key is masked gives NaN, as in PyTorch.
type AttentionOptions struct {
	// KeyPaddingMask, when not nil, has B·S entries (row-major [B, S]);
	// true marks a key that no query may attend to (torch's bool
	// key_padding_mask), typically padding at the end of a short sequence.
	KeyPaddingMask []bool
	// AttnMask, when not nil, is added to the scaled scores before the
	// softmax: shape [L, S], or [B·NumHeads, L, S] for a mask per batch
	// element and head (torch's float attn_mask). Use -Inf to forbid a
	// position. It receives no gradient.
	AttnMask *tensor.Tensor
	// AttnMaskBool, when not nil, has L·S entries (row-major [L, S]); true
	// forbids query i from attending to key j (torch's bool attn_mask).
	AttnMaskBool []bool
	// Causal forbids query i from attending to keys j > i, the mask
	// torch.nn.Transformer.generate_square_subsequent_mask builds, without
	// materialising it.
	Causal bool
	// NeedWeights makes Forward also return the attention weights (after
	// dropout, as torch returns them). Note torch's default is True; Go's
	// zero value is false because the weights cost an extra [B, L, S] pass.
	NeedWeights bool
	// PerHeadWeights returns weights [B, NumHeads, L, S] instead of the
	// average over heads [B, L, S] (torch's average_attn_weights=False).
	PerHeadWeights bool
}

// MultiHeadAttention is torch.nn.MultiheadAttention. Each of NumHeads
// heads attends over EmbedDim/NumHeads channels:
//
//	out = concat_h softmax(Q_h·K_hᵀ/√d + mask)·V_h · Woutᵀ + bout
//
// with Q, K, V the input projections by the rows of InProjWeight.
//
// The parameters carry torch's state dict names: in_proj_weight [3E, E]
// (query, key and value projections stacked), in_proj_bias [3E], and the
// child Linear out_proj (out_proj.weight, out_proj.bias), so a trained
// torch model loads with LoadStateDict. Separate key/value widths
// (kdim/vdim), add_bias_kv and add_zero_attn are not supported.
//
// Shape (L the query length, S the key length, B the batch, E EmbedDim):
//
//   - BatchFirst (what NewMultiHeadAttention makes): query [B, L, E], key
//     and value [B, S, E], output [B, L, E];
//   - BatchFirst false (torch's default batch_first=False): query
//     [L, B, E], key and value [S, B, E], output [L, B, E];
//   - unbatched, either way: query [L, E], key and value [S, E], output
//     [L, E];
//   - weights (when asked): [B, L, S] averaged over heads, or
//     [B, NumHeads, L, S] per head, in both layouts ([L, S] or
//     [NumHeads, L, S] unbatched), as torch returns them;
//   - masks: AttnMask / AttnMaskBool [L, S] (AttnMask also
//     [B·NumHeads, L, S]), KeyPaddingMask [B, S] in both layouts.
//
// Cost per call: the projections are 8·B·L·E² flops for self-attention
// (one GEMM of the packed [3E, E] weight, as torch), and the attention core
// is 4·B·L·S·E flops in one fused op (see Forward) holding a [B, H, L, S]
// probability tensor (twice that with dropout) for the backward pass.
type MultiHeadAttention struct {
	Mode
	EmbedDim, NumHeads int
	// BatchFirst says inputs and output are [batch, seq, embed]; false is
	// torch's default layout [seq, batch, embed]. NewMultiHeadAttention
	// sets it (Shen's transformer layers are batch-first); clear it for
	// torch's default.
	BatchFirst bool
	// Dropout is the probability of zeroing an attention weight in
	// training; it is off in evaluation mode.
	Dropout      float32
	InProjWeight *tensor.Tensor // [3E, E]
	InProjBias   *tensor.Tensor // [3E] or nil
	OutProj      *Linear
	// RandomState is the stream of the attention dropout: each
	// training-mode Forward with dropout is one call.
	RandomState
}

// NewMultiHeadAttention returns torch.nn.MultiheadAttention(embedDim,
// numHeads, dropout, bias, batch_first=True), initialised as torch does
// (set BatchFirst to false for torch's default [seq, batch, embed] layout):
// in_proj_weight Xavier-uniform, in_proj_bias and out_proj.bias zero,
// out_proj.weight as a default Linear (Kaiming-uniform, a=√5). Without bias
// neither projection has one. It panics unless numHeads divides embedDim.
func NewMultiHeadAttention(embedDim, numHeads int, dropout float32, bias bool) *MultiHeadAttention {
	if embedDim <= 0 || numHeads <= 0 || embedDim%numHeads != 0 {
		panic(fmt.Sprintf("nn: MultiHeadAttention: embed dim %d must be a positive multiple of the number of heads %d", embedDim, numHeads))
	}
	if dropout < 0 || dropout >= 1 {
		panic(fmt.Sprintf("nn: MultiHeadAttention: dropout %g must be in [0, 1)", dropout))
	}
	m := &MultiHeadAttention{EmbedDim: embedDim, NumHeads: numHeads, Dropout: dropout, BatchFirst: true,
		InProjWeight: newParam(3*embedDim, embedDim)}
	// Draw in torch's order: out_proj's Linear initialises at construction,
	// then _reset_parameters fills in_proj_weight.
	m.OutProj = NewLinear(embedDim, embedDim)
	XavierUniform(m.InProjWeight, 1)
	if bias {
		m.InProjBias = newParam(3 * embedDim)
		Constant(m.OutProj.Bias, 0)
	} else {
		m.OutProj.Bias = nil
	}
	m.RandomState = newRandomState()
	return m
}

// Members lists in_proj_weight, in_proj_bias and the out_proj child.
func (m *MultiHeadAttention) Members() Members {
	return Members{
		Params:   []Named[*tensor.Tensor]{{"in_proj_weight", m.InProjWeight}, {"in_proj_bias", m.InProjBias}},
		Children: []Named[Module]{{"out_proj", m.OutProj}},
	}
}

// Forward attends from query to key and value and returns the output and,
// when opt.NeedWeights, the attention weights averaged over heads (or per
// head with opt.PerHeadWeights), shaped as the type's Shape section says;
// otherwise weights is nil. The weights are for inspection and carry no
// gradient. With BatchFirst false the output is a transposed view of a
// batch-first result (torch returns the same values).
//
// As in torch, passing the same tensor as query, key and value
// (self-attention) projects all three with one GEMM, and passing the same
// tensor as key and value projects those two with one. The attention core
// (scores, masks, softmax, dropout, weighted sum) is one fused
// differentiable op: per (batch, head) pair two GEMMs forward and four
// backward, read in place from the projections through strides (no head
// split or merge copies), with the softmax in a tight loop between them,
// spread over the cores.
func (m *MultiHeadAttention) Forward(query, key, value *tensor.Tensor, opt AttentionOptions) (out, weights *tensor.Tensor) {
	unbatched := query.Dim() == 2
	if unbatched {
		query, key, value = unsqueezeSame(query, key, value)
	} else if !m.BatchFirst && query.Dim() == 3 {
		// [seq, batch, E] → [batch, seq, E] views, keeping q == k == v.
		query, key, value = mapSame(query, key, value, func(t *tensor.Tensor) *tensor.Tensor { return t.Transpose(0, 1) })
		out, weights = m.forward(query, key, value, opt)
		return out.Transpose(0, 1), weights
	}
	out, weights = m.forward(query, key, value, opt)
	if unbatched {
		out = out.Squeeze(0)
		if weights != nil {
			weights = weights.Squeeze(0)
		}
	}
	return out, weights
}

// forward is Forward on batch-first [B, L, E] inputs.
func (m *MultiHeadAttention) forward(query, key, value *tensor.Tensor, opt AttentionOptions) (out, weights *tensor.Tensor) {
	E, H := m.EmbedDim, m.NumHeads
	if query.Dim() != 3 || key.Dim() != 3 || value.Dim() != 3 ||
		query.Size(2) != E || key.Size(2) != E || value.Size(2) != E ||
		key.Size(0) != query.Size(0) || value.Size(0) != query.Size(0) || key.Size(1) != value.Size(1) {
		panic(fmt.Sprintf("nn: MultiHeadAttention(embed %d): want query [B, L, %d], key and value [B, S, %d], got %v, %v, %v",
			E, E, E, query.Shape(), key.Shape(), value.Shape()))
	}
	w, b := m.InProjWeight, m.InProjBias
	rows := func(t *tensor.Tensor, from, n int) *tensor.Tensor {
		if t == nil {
			return nil
		}
		return t.Narrow(0, from, n)
	}
	var src [3]*tensor.Tensor
	var off [3]int
	switch {
	case query == key && key == value:
		qkv := tensor.Linear(query, w, b)
		src, off = [3]*tensor.Tensor{qkv, qkv, qkv}, [3]int{0, E, 2 * E}
	case key == value:
		q := tensor.Linear(query, rows(w, 0, E), rows(b, 0, E))
		kv := tensor.Linear(key, rows(w, E, 2*E), rows(b, E, 2*E))
		src, off = [3]*tensor.Tensor{q, kv, kv}, [3]int{0, 0, E}
	default:
		src = [3]*tensor.Tensor{
			tensor.Linear(query, rows(w, 0, E), rows(b, 0, E)),
			tensor.Linear(key, rows(w, E, E), rows(b, E, E)),
			tensor.Linear(value, rows(w, 2*E, E), rows(b, 2*E, E)),
		}
	}
	B, L, S := query.Size(0), query.Size(1), key.Size(1)
	if S == 0 {
		panic(fmt.Sprintf("nn: MultiHeadAttention: key of shape %v has no positions to attend to", key.Shape()))
	}
	a := attnCore{B: B, H: H, L: L, S: S, D: E / H, opt: &opt, prec: w.Precision()}
	if m.Training() && m.Dropout > 0 {
		a.dropP, a.rng = m.Dropout, m.next()
	}
	o, weights := a.run(src, off)
	return m.OutProj.Forward(o), weights
}

// unsqueezeSame adds a batch dimension to q, k and v, keeping the identity
// relations (q == k, k == v) that select the packed projections.
func unsqueezeSame(q, k, v *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor) {
	return mapSame(q, k, v, func(t *tensor.Tensor) *tensor.Tensor { return t.Unsqueeze(0) })
}

// mapSame applies f to q, k and v once each, keeping the identity
// relations (q == k, k == v) that select the packed projections.
func mapSame(q, k, v *tensor.Tensor, f func(*tensor.Tensor) *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor) {
	q2 := f(q)
	k2 := q2
	if k != q {
		k2 = f(k)
	}
	v2 := k2
	if v != k {
		v2 = f(v)
	}
	return q2, k2, v2
}

// attnCore is one call of the fused scaled-dot-product attention: the
// geometry, the masks and the dropout state.
type attnCore struct {
	B, H, L, S, D int
	opt           *AttentionOptions
	dropP         float32
	rng           interface{ IntN(int) int }
	addMask       []float32 // opt.AttnMask's values, read once per call

	prec tensor.Precision // of the score and weighted-sum products (SetPrecision)
}

// run computes attention for queries, keys and values that live in the
// contiguous tensors src[0..2] (rows of width src[i].Size(-1), batch-major),
// head h of operand i starting at column off[i] + h·D. Equal tensors in src
// are one input of the recorded op, whose gradient buffer receives each
// operand's gradient in its own columns. It returns the output [B, L, H·D]
// and, when asked, the detached weights.
func (a *attnCore) run(src [3]*tensor.Tensor, off [3]int) (*tensor.Tensor, *tensor.Tensor) {
	B, H, L, S, D := a.B, a.H, a.L, a.S, a.D
	E := H * D
	// Distinct inputs (made contiguous once each) and which of them each
	// operand reads.
	var inputs, orig []*tensor.Tensor
	var which [3]int
	for i, t := range src {
		which[i] = -1
		for j, u := range orig {
			if u == t {
				which[i] = j
				break
			}
		}
		if which[i] < 0 {
			which[i] = len(inputs)
			orig = append(orig, t)
			inputs = append(inputs, t.Contiguous())
		}
		src[i] = inputs[which[i]]
	}
	var data [3][]float32
	var ld [3]int
	for i, t := range src {
		data[i], ld[i] = t.Data(), t.Size(-1)
	}
	a.checkMasks()
	gemm := a.prec.Gemm

	track := tensor.NeedsGrad(inputs...)
	// saved holds P (softmax probabilities) and, with dropout, P' (the
	// dropped and rescaled probabilities that multiply V).
	n := B * H * L * S
	drop := a.dropP > 0
	nSaved := n
	if drop {
		nSaved = 2 * n
	}
	saved := tensor.Empty(nSaved)
	sd := saved.Data()
	P, Pd := sd[:n], sd[:n]
	var seeds []uint64
	if drop {
		Pd = sd[n:]
		// One generator seed per (batch, head) pair, drawn in order, so the
		// masks do not depend on how the parallel loop below is split.
		seeds = make([]uint64, B*H)
		for i := range seeds {
			seeds[i] = uint64(a.rng.IntN(1 << 62))
		}
	}
	out := tensor.Empty(B, L, E)
	od := out.Data()
	scale := float32(1 / math.Sqrt(float64(D)))
	q, k, v := data[0], data[1], data[2]
	ldq, ldk, ldv := ld[0], ld[1], ld[2]

	kernel.Parallel(B*H, a.grain(), func(lo, hi int) {
		for bh := lo; bh < hi; bh++ {
			b, h := bh/H, bh%H
			qb := q[b*L*ldq+off[0]+h*D:]
			kb := k[b*S*ldk+off[1]+h*D:]
			vb := v[b*S*ldv+off[2]+h*D:]
			pb := P[bh*L*S : (bh+1)*L*S]
			// Scores = Q·Kᵀ/√d, then masks and a row softmax in place.
			gemm(false, true, L, S, D, scale, qb, ldq, kb, ldk, 0, pb, S)
			a.maskSoftmax(pb, b, bh)
			pdb := pb
			if drop {
				pdb = Pd[bh*L*S : (bh+1)*L*S]
				dropoutInto(pdb, pb, a.dropP, seeds[bh])
			}
			gemm(false, false, L, D, S, 1, pdb, S, vb, ldv, 0, od[b*L*E+h*D:], E)
		}
	})

	var weights *tensor.Tensor
	if a.opt.NeedWeights {
		weights = a.weights(Pd)
	}
	if !track {
		saved.Release()
		return out, weights
	}
	// saved joins the graph as an extra input of the output so that
	// FreeGraph returns its buffer to the pool with the other
	// intermediates. It is recorded as an op of the real inputs (so that
	// the engine treats it as a non-leaf); no gradient ever reaches it, so
	// its backward never runs.
	tensor.Record(saved, "MultiHeadAttention.saved", inputs, func(*tensor.Tensor, []*tensor.Tensor) {})
	recIn := append(inputs[:len(inputs):len(inputs)], saved)
	return tensor.Record(out, "ScaledDotProductAttention", recIn, func(g *tensor.Tensor, grads []*tensor.Tensor) {
		g = g.Contiguous()
		gd := g.Data()
		// Gradient buffers, one per distinct input, at the input's layout.
		var gbuf [3][]float32
		for j, t := range inputs {
			if !t.RequiresGrad() {
				continue
			}
			used := 0
			for i := range src {
				if which[i] == j {
					used += E
				}
			}
			if used == t.Size(-1) { // every column is written below
				grads[j] = tensor.Empty(t.Shape()...)
			} else {
				grads[j] = tensor.Zeros(t.Shape()...)
			}
			gbuf[j] = grads[j].Data()
		}
		dq, dk, dv := gbuf[which[0]], gbuf[which[1]], gbuf[which[2]]
		var scratch *tensor.Tensor
		var sc []float32
		if dq != nil || dk != nil {
			scratch = tensor.Empty(n)
			sc = scratch.Data()
		}
		keep := float32(1)
		if drop {
			keep = 1 / (1 - a.dropP)
		}
		kernel.Parallel(B*H, a.grain(), func(lo, hi int) {
			for bh := lo; bh < hi; bh++ {
				b, h := bh/H, bh%H
				qo := b*L*ldq + off[0] + h*D
				ko := b*S*ldk + off[1] + h*D
				vo := b*S*ldv + off[2] + h*D
				gb := gd[b*L*E+h*D:]
				pb := P[bh*L*S : (bh+1)*L*S]
				pdb := Pd[bh*L*S : (bh+1)*L*S]
				if dv != nil { // dV = P'ᵀ·dO
					gemm(true, false, S, D, L, 1, pdb, S, gb, E, 0, dv[vo:], ldv)
				}
				if dq == nil && dk == nil {
					continue
				}
				// dP' = dO·Vᵀ; through dropout; dS = P⊙(dP − rowsum(dP⊙P)).
				ds := sc[bh*L*S : (bh+1)*L*S]
				gemm(false, true, L, S, D, 1, gb, E, v[vo:], ldv, 0, ds, S)
				if drop {
					for i, x := range pdb {
						if x == 0 {
							ds[i] = 0
						} else {
							ds[i] *= keep
						}
					}
				}
				for i := 0; i < L; i++ {
					pr, dr := pb[i*S:(i+1)*S], ds[i*S:(i+1)*S]
					c := kernel.Dot(dr, pr)
					for j, p := range pr {
						dr[j] = p * (dr[j] - c)
					}
				}
				if dq != nil { // dQ = dS·K/√d
					gemm(false, false, L, D, S, scale, ds, S, k[ko:], ldk, 0, dq[qo:], ldq)
				}
				if dk != nil { // dK = dSᵀ·Q/√d
					gemm(true, false, S, D, L, scale, ds, S, q[qo:], ldq, 0, dk[ko:], ldk)
				}
			}
		})
		scratch.Release()
	}), weights
}

// grain is the number of (batch, head) pairs worth one parallel chunk:
// about 64K multiply-adds, so the pool's wake-up cost stays small.
func (a *attnCore) grain() int {
	return max(1, (1<<16)/max(1, a.L*a.S*(a.D+4)))
}

// checkMasks panics when a mask does not fit the call's shapes, and reads
// the additive mask's values.
func (a *attnCore) checkMasks() {
	o := a.opt
	if o.KeyPaddingMask != nil && len(o.KeyPaddingMask) != a.B*a.S {
		panic(fmt.Sprintf("nn: attention: KeyPaddingMask has %d entries, want B·S = %d·%d", len(o.KeyPaddingMask), a.B, a.S))
	}
	if o.AttnMaskBool != nil && len(o.AttnMaskBool) != a.L*a.S {
		panic(fmt.Sprintf("nn: attention: AttnMaskBool has %d entries, want L·S = %d·%d", len(o.AttnMaskBool), a.L, a.S))
	}
	if m := o.AttnMask; m != nil {
		s := m.Shape()
		ok := (len(s) == 2 && s[0] == a.L && s[1] == a.S) ||
			(len(s) == 3 && s[0] == a.B*a.H && s[1] == a.L && s[2] == a.S)
		if !ok {
			panic(fmt.Sprintf("nn: attention: AttnMask has shape %v, want [%d, %d] or [%d, %d, %d]", s, a.L, a.S, a.B*a.H, a.L, a.S))
		}
		a.addMask = m.Detach().Data()
	}
}

// maskSoftmax applies the masks to the L×S scores of pair (b, bh) and
// replaces each row by its softmax.
func (a *attnCore) maskSoftmax(pb []float32, b, bh int) {
	L, S, o := a.L, a.S, a.opt
	add := a.addMask
	if len(add) > L*S {
		add = add[bh*L*S : (bh+1)*L*S]
	}
	var kpm []bool
	if o.KeyPaddingMask != nil {
		kpm = o.KeyPaddingMask[b*S : (b+1)*S]
	}
	ninf := float32(math.Inf(-1))
	for i := 0; i < L; i++ {
		row := pb[i*S : (i+1)*S]
		if add != nil {
			kernel.Add(row, row, add[i*S:(i+1)*S])
		}
		for j, m := range kpm {
			if m {
				row[j] = ninf
			}
		}
		if o.AttnMaskBool != nil {
			for j, m := range o.AttnMaskBool[i*S : (i+1)*S] {
				if m {
					row[j] = ninf
				}
			}
		}
		if o.Causal {
			for j := i + 1; j < S; j++ {
				row[j] = ninf
			}
		}
		attnSoftmaxRow(row)
	}
}

// attnSoftmaxRow replaces row by its softmax with the vector kernel; a row
// that is all -Inf (every key masked) becomes NaN, as in PyTorch.
func attnSoftmaxRow(row []float32) { kernel.SoftmaxRow(row, row) }

// weights returns the attention weights P' as [B, L, S] averaged over the
// heads, or [B, H, L, S] per head, without history.
func (a *attnCore) weights(pd []float32) *tensor.Tensor {
	B, H, L, S := a.B, a.H, a.L, a.S
	if a.opt.PerHeadWeights {
		w := tensor.Empty(B, H, L, S)
		copy(w.Data(), pd)
		return w
	}
	w := tensor.Zeros(B, L, S)
	wd := w.Data()
	inv := 1 / float32(H)
	kernel.Parallel(B, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			dst := wd[b*L*S : (b+1)*L*S]
			for h := 0; h < H; h++ {
				kernel.Axpy(inv, pd[(b*H+h)*L*S:(b*H+h+1)*L*S], dst)
			}
		}
	})
	return w
}
