package tensor

import (
	"fmt"

	"github.com/shenml/shen/internal/kernel"
)

// mat says how kernel.Sgemm reads one matrix operand of a (batched) product
// straight out of a tensor's storage. Strided views whose rows or columns are
// unit-stride (a plain matrix, a transposed view, a slice of rows) need no
// copy: a transposed view is simply handed to Sgemm with its transpose flag.
type mat struct {
	data       []float32 // the whole storage; element (i, j) of batch b is below
	off        int       // offset of the first element of batch 0
	rows, cols int       // shape of op(X), the logical matrix
	ld         int       // row stride of the stored matrix
	trans      bool      // stored transposed: (i, j) is at off + j*ld + i, else off + i*ld + j
	bstr       []int     // element strides over the product's batch dims; 0 = broadcast
}

// T returns the operand read as its transpose (no data moves).
func (m mat) T() mat {
	m.rows, m.cols = m.cols, m.rows
	m.trans = !m.trans
	return m
}

// storedRows is the number of rows of the matrix as laid out in memory.
func (m mat) storedRows() int {
	if m.trans {
		return m.cols
	}
	return m.rows
}

// asMat describes the last two dims of t as a matrix operand, with t's
// leading dims aligned to the right of batch (missing or size-1 dims
// broadcast). When t's layout cannot be read by Sgemm (both inner strides
// non-unit, or overlapping rows as after Expand), it reads a contiguous copy
// instead and returns that copy, which the caller must Release once Sgemm is
// done with it.
func asMat(t *Tensor, batch []int) (mat, *Tensor) {
	t.live("Matmul")
	nd := t.Dim()
	r, c := t.shape[nd-2], t.shape[nd-1]
	sr, sc := t.strides[nd-2], t.strides[nd-1]
	m := mat{data: t.st.data, off: t.offset, rows: r, cols: c}
	switch {
	case r == 0 || c == 0:
		m.ld = max(c, 1) // nothing is read
	case (c == 1 || sc == 1) && (r == 1 || sr >= max(c, 1)):
		m.ld = max(c, 1)
		if r > 1 {
			m.ld = sr
		}
	case (r == 1 || sr == 1) && (c == 1 || sc >= max(r, 1)):
		m.trans = true
		m.ld = max(r, 1)
		if c > 1 {
			m.ld = sc
		}
	default:
		tmp := newTensor(t.shape, false)
		copyInto(tmp, t)
		m, _ = asMat(tmp, batch)
		return m, tmp
	}
	m.bstr = make([]int, len(batch))
	lead := len(batch) - (nd - 2)
	for i := 0; i < nd-2; i++ {
		if t.shape[i] != 1 {
			m.bstr[lead+i] = t.strides[i]
		}
	}
	return m, nil
}

// foldable reports whether m's batch of matrices lies in memory as one
// taller stored matrix (batch strides chain with the stored rows), so a
// batch of products can run as a single GEMM.
func (m mat) foldable(batch []int) bool {
	want := m.storedRows() * m.ld
	for i := len(batch) - 1; i >= 0; i-- {
		if batch[i] == 1 {
			continue
		}
		if m.bstr[i] != want {
			return false
		}
		want *= batch[i]
	}
	return true
}

// broadcastOnly reports whether the batch strides are all zero (the same
// matrix for every batch entry).
func broadcastOnly(bstr, batch []int) bool {
	for i, s := range bstr {
		if batch[i] != 1 && s != 0 {
			return false
		}
	}
	return true
}

// batchOffset returns the element offset of linear batch index i.
func batchOffset(i int, batch, bstr []int) int {
	off := 0
	for d := len(batch) - 1; d >= 0; d-- {
		off += (i % batch[d]) * bstr[d]
		i /= batch[d]
	}
	return off
}

// contiguousBatchStrides returns the strides of a contiguous tensor whose
// leading dims are shape (aligned to the right of batch) followed by a
// matrix of matSize elements, with 0 where shape broadcasts over batch.
func contiguousBatchStrides(shape, batch []int, matSize int) []int {
	st := make([]int, len(batch))
	lead := len(batch) - len(shape)
	s := matSize
	for i := len(shape) - 1; i >= 0; i-- {
		if shape[i] != 1 {
			st[lead+i] = s
		}
		s *= shape[i]
	}
	return st
}

// gemmWork is the multiply-adds a parallel chunk of small products should
// carry to repay the pool's wake-up cost (a few microseconds).
const gemmWork = 1 << 19

// batchedGemm computes C[b] = op(A[b])·op(B[b]) (m×n, inner k) for every
// index b of batch, where C is a contiguous m×n-matrix array addressed by
// cbstr. A zero in cbstr over a dim of size >1 means that dim is summed
// (the gradient of a broadcast operand): those products accumulate into C.
// Batches that lie in memory as one tall matrix run as a single GEMM.
// prec is the precision of every product.
func batchedGemm(prec Precision, batch []int, a, b mat, c []float32, cbstr []int, m, n, k int) {
	nb := numel(batch)
	cm := mat{rows: m, cols: n, ld: n, bstr: cbstr}
	shared := broadcastOnly(cbstr, batch) // every product lands on the one C
	reduce := false                       // some products share a C
	for i, s := range cbstr {
		reduce = reduce || (s == 0 && batch[i] != 1)
	}
	switch {
	case m == 0 || n == 0:
		return
	case nb == 0:
		clear(c)
		return
	case nb == 1:
		prec.sgemm(a.trans, b.trans, m, n, k, a.data[a.off:], a.ld, b.data[b.off:], b.ld, 0, c, n)
		return
	case broadcastOnly(b.bstr, batch) && !a.trans && a.foldable(batch) && cm.foldable(batch):
		// (batch·m)×k times one k×n: stack the batch into the rows of A.
		prec.sgemm(false, b.trans, nb*m, n, k, a.data[a.off:], a.ld, b.data[b.off:], b.ld, 0, c, n)
		return
	case shared && a.trans && a.foldable(batch) && !b.trans && b.foldable(batch):
		// Σ_b A_bᵀ·B_b: the batch becomes the inner dimension of one product.
		prec.sgemm(true, false, m, n, nb*k, a.data[a.off:], a.ld, b.data[b.off:], b.ld, 0, c, n)
		return
	case reduce:
		// Several products land on the same C: accumulate serially.
		clear(c)
		for i := 0; i < nb; i++ {
			ao, bo, co := a.off+batchOffset(i, batch, a.bstr), b.off+batchOffset(i, batch, b.bstr), batchOffset(i, batch, cbstr)
			prec.sgemm(a.trans, b.trans, m, n, k, a.data[ao:], a.ld, b.data[bo:], b.ld, 1, c[co:], n)
		}
		return
	}
	one := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			ao, bo, co := a.off+batchOffset(i, batch, a.bstr), b.off+batchOffset(i, batch, b.bstr), batchOffset(i, batch, cbstr)
			prec.sgemm(a.trans, b.trans, m, n, k, a.data[ao:], a.ld, b.data[bo:], b.ld, 0, c[co:], n)
		}
	}
	per := max(m*n*k, 1)
	if per >= gemmWork {
		one(0, nb) // each product is big enough for Sgemm's own threads
		return
	}
	kernel.Parallel(nb, (gemmWork+per-1)/per, one)
}

// sgemm is kernel.Sgemm (kernel.SgemmBF16 for BF16) with alpha 1 that
// skips empty outputs, whose leading dimension may legitimately be 0
// (Sgemm rejects that).
func (p Precision) sgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	p.Gemm(transA, transB, m, n, k, 1, a, max(lda, 1), b, max(ldb, 1), beta, c, ldc)
}

// Matmul returns the matrix product of a and b with torch.matmul semantics:
// two 1-d tensors give their dot product (0-d); 2-d times 2-d is the matrix
// product; a 1-d operand is promoted to a matrix (a row on the left, a
// column on the right) and that dimension is removed from the result; with
// more dims, the leading (batch) dims broadcast and the last two multiply.
//
// Cost: 2·batch·m·n·k flops through kernel.Sgemm. Transposed or row-sliced
// views are read in place through Sgemm's transpose flags and strides, not
// copied; only layouts Sgemm cannot address (e.g. Expand along a matrix dim)
// are copied to a temporary. A 2-d right operand against a contiguous batch
// runs as one GEMM. Backward costs two more products of the same size
// (fewer when only one operand requires grad). When either operand is
// marked BF16 (SetPrecision), all of them round their operands to bfloat16.
func Matmul(a, b *Tensor) *Tensor {
	if a.Dim() == 0 || b.Dim() == 0 {
		shapePanic("Matmul", "both operands need at least one dimension", a.shape, b.shape)
	}
	av, bv := a, b
	if a.Dim() == 1 {
		av = a.view([]int{1, a.shape[0]}, []int{0, a.strides[0]}, a.offset)
	}
	if b.Dim() == 1 {
		bv = b.view([]int{b.shape[0], 1}, []int{b.strides[0], 1}, b.offset)
	}
	m, k := av.shape[av.Dim()-2], av.shape[av.Dim()-1]
	k2, n := bv.shape[bv.Dim()-2], bv.shape[bv.Dim()-1]
	if k != k2 {
		shapePanic("Matmul", fmt.Sprintf("inner dimensions differ (%d vs %d)", k, k2), a.shape, b.shape)
	}
	batch := BroadcastShapes("Matmul", av.shape[:av.Dim()-2], bv.shape[:bv.Dim()-2])
	shape := append([]int{}, batch...)
	if a.Dim() > 1 {
		shape = append(shape, m)
	}
	if b.Dim() > 1 {
		shape = append(shape, n)
	}
	out := newTensor(shape, false)
	prec := productPrecision(a, b)
	am, at := asMat(av, batch)
	bm, bt := asMat(bv, batch)
	batchedGemm(prec, batch, am, bm, out.st.data, contiguousBatchStrides(batch, batch, m*n), m, n, k)
	at.Release()
	bt.Release()

	return record(out, "Matmul", []*Tensor{a, b}, func(g *Tensor, grads []*Tensor) {
		gc := g
		if !g.IsContiguous() {
			gc = newTensor(g.shape, false)
			copyInto(gc, g)
			defer gc.Release()
		}
		gv := gc.view(append(append([]int{}, batch...), m, n), nil, gc.offset)
		gv.setContiguousStrides()
		gm, _ := asMat(gv, batch)
		if a.requiresGrad {
			// dA = dC·op(B)ᵀ, summed over the batch dims A was broadcast along.
			bm, bt := asMat(bv, batch)
			ga := newTensor(a.shape, false)
			abatch := av.shape[:av.Dim()-2]
			batchedGemm(prec, batch, gm, bm.T(), ga.st.data, contiguousBatchStrides(abatch, batch, m*k), m, k, n)
			bt.Release()
			grads[0] = ga
		}
		if b.requiresGrad {
			// dB = op(A)ᵀ·dC, summed over the batch dims B was broadcast along.
			am, at := asMat(av, batch)
			gb := newTensor(b.shape, false)
			bbatch := bv.shape[:bv.Dim()-2]
			batchedGemm(prec, batch, am.T(), gm, gb.st.data, contiguousBatchStrides(bbatch, batch, k*n), k, n, m)
			at.Release()
			grads[1] = gb
		}
	})
}

// asRows describes t (rank >= 1, last dim cols) as one rows×cols matrix,
// folding leading dims into rows when the layout allows, else reading a
// contiguous copy that the caller must Release.
func asRows(t *Tensor) (mat, *Tensor) {
	if t.Dim() == 1 {
		return asMat(t.view([]int{1, t.shape[0]}, []int{0, t.strides[0]}, t.offset), nil)
	}
	lead := t.shape[:t.Dim()-2]
	m, tmp := asMat(t, lead)
	if nb := numel(lead); nb != 1 {
		if m.trans || !m.foldable(lead) {
			tmp.Release()
			tmp = newTensor(t.shape, false)
			copyInto(tmp, t)
			m, _ = asMat(tmp, lead)
		}
		m.rows *= nb
	}
	m.bstr = nil
	return m, tmp
}

// Linear returns x·wᵀ + b, torch.nn.functional.linear: x has any rank >= 1
// with last dim in_features, w is (out_features, in_features), b is
// (out_features) or nil. The result has x's shape with the last dim
// replaced by out_features.
//
// Cost: one GEMM of 2·N·in·out flops (N = rows of x), with the bias
// pre-broadcast into the output so the GEMM adds onto it (beta=1) instead
// of a second pass. Backward is one GEMM each for dX = dY·W and dW = dYᵀ·X
// and a column sum for db, each only when that input requires grad;
// transposed views of x, w or dY are read in place, not copied. When x or
// w is marked BF16 (SetPrecision), the three products round their
// operands to bfloat16; the bias and its gradient stay float32.
func Linear(x, w, b *Tensor) *Tensor {
	if w.Dim() != 2 || x.Dim() == 0 || x.shape[x.Dim()-1] != w.shape[1] {
		shapePanic("Linear", "want x (..., in) and w (out, in)", x.shape, w.shape)
	}
	outF, inF := w.shape[0], w.shape[1]
	if b != nil && (b.Dim() != 1 || b.shape[0] != outF) {
		shapePanic("Linear", fmt.Sprintf("bias must be (%d)", outF), b.shape, w.shape)
	}
	shape := append(append([]int{}, x.shape[:x.Dim()-1]...), outF)
	out := newTensor(shape, false)
	prec := productPrecision(x, w)
	y := out.st.data
	rows := numel(shape[:len(shape)-1])
	beta := float32(0)
	if b != nil && outF > 0 {
		bd := b.Data()
		for i := 0; i < rows; i++ {
			copy(y[i*outF:(i+1)*outF], bd)
		}
		beta = 1
	}
	xm, xt := asRows(x)
	wm, wt := asMat(w, nil)
	wm = wm.T() // op = wᵀ, in×out
	prec.sgemm(xm.trans, wm.trans, rows, outF, inF, xm.data[xm.off:], xm.ld, wm.data[wm.off:], wm.ld, beta, y, outF)
	xt.Release()
	wt.Release()

	inputs := []*Tensor{x, w, b}
	return record(out, "Linear", inputs, func(g *Tensor, grads []*Tensor) {
		gm, gt := asRows(g)
		defer gt.Release()
		if x.requiresGrad {
			// dX (N×in) = dY (N×out) · W (out×in)
			wm, wt := asMat(w, nil)
			dx := newTensor(x.shape, false)
			prec.sgemm(gm.trans, wm.trans, rows, inF, outF, gm.data[gm.off:], gm.ld, wm.data[wm.off:], wm.ld, 0, dx.st.data, inF)
			wt.Release()
			grads[0] = dx
		}
		if w.requiresGrad {
			// dW (out×in) = dYᵀ (out×N) · X (N×in)
			xm, xt := asRows(x)
			gT := gm.T()
			dw, beta := leafGradInto(w)
			if dw == nil {
				dw, beta = newTensor(w.shape, false), 0
			}
			prec.sgemm(gT.trans, xm.trans, outF, inF, rows, gT.data[gT.off:], gT.ld, xm.data[xm.off:], xm.ld, beta, dw.st.data[dw.offset:], inF)
			xt.Release()
			grads[1] = dw
		}
		if b != nil && b.requiresGrad {
			db := newTensor(b.shape, true)
			colSums(db.st.data, gm)
			grads[2] = db
		}
	})
}

// colSums writes the column sums of the rows×cols operand m into dst.
func colSums(dst []float32, m mat) {
	if m.trans { // stored cols×rows: each stored row is one column
		for j := range dst {
			dst[j] = kernel.Sum(m.data[m.off+j*m.ld : m.off+j*m.ld+m.rows])
		}
		return
	}
	for i := 0; i < m.rows; i++ {
		row := m.data[m.off+i*m.ld : m.off+i*m.ld+m.cols]
		kernel.Axpy(1, row, dst)
	}
}
