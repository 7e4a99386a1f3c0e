package tensor

import (
	"fmt"
	"math"
	"slices"

	"github.com/shenml/shen/internal/kernel"
)

// Indexing ops take their indices as an *IntTensor (int64, contiguous) and
// check every index: an index out of range is a bug in the caller, so it
// panics with a message naming the op, the index and the dimension's size,
// as a Go slice index out of range does.

// checkIndex returns v as an int after checking 0 <= v < size.
func checkIndex(op string, v int64, dim, size int) int {
	if v < 0 || v >= int64(size) {
		panic(fmt.Sprintf("tensor: %s: index %d is out of range for dimension %d of size %d", op, v, dim, size))
	}
	return int(v)
}

// rowMajorStrides returns the contiguous strides of shape.
func rowMajorStrides(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= shape[i]
	}
	return st
}

// withoutAxis returns strides with the entry for dim set to 0: walking an
// index tensor's positions with these strides gives the offset of the
// element that the index then moves along dim.
func withoutAxis(strides []int, dim int) []int {
	s := slices.Clone(strides)
	s[dim] = 0
	return s
}

// checkIndexShape checks the rank and sizes that gather-like ops need:
// idx has t's rank and is no larger than t in every dimension but dim (and
// no larger than src in any dimension, when src is given).
func checkIndexShape(op string, t *Tensor, dim int, idx *IntTensor, src *Tensor) {
	if idx.Dim() != t.Dim() {
		shapePanic(op, "index must have the same number of dimensions as the input", idx.shape, t.shape)
	}
	for d, n := range idx.shape {
		if d != dim && n > t.shape[d] {
			shapePanic(op, fmt.Sprintf("index is larger than the input in dimension %d", d), idx.shape, t.shape)
		}
		if src != nil && n > src.shape[d] {
			shapePanic(op, fmt.Sprintf("index is larger than src in dimension %d", d), idx.shape, src.shape)
		}
	}
}

// Gather picks values along dim by index, like torch.gather(t, dim, idx):
// for a 3-d tensor and dim 1, out[i][j][k] = t[i][idx[i][j][k]][k]. The
// output has idx's shape; idx must have t's rank and fit inside t in the
// other dimensions. The gradient is scattered (added) back into t's shape.
func Gather(t *Tensor, dim int, idx *IntTensor) *Tensor {
	t.live("Gather")
	dim = t.axis(dim, "Gather")
	checkIndexShape("Gather", t, dim, idx, nil)
	out := newTensor(idx.shape, false)
	gatherInto(out.st.data, t.st.data, t.offset, t.strides, t.shape[dim], dim, idx, "Gather")
	return record(out, "Gather", []*Tensor{t}, func(g *Tensor, grads []*Tensor) {
		gd, gtmp := contigData(g)
		gt := newTensor(t.shape, true)
		scatterAddInto(gt.st.data, 0, gt.strides, t.shape[dim], dim, idx, gd, 0, rowMajorStrides(idx.shape), "Gather")
		gtmp.releaseOwned()
		grads[0] = gt
	})
}

// gatherInto writes dst[p] = src[off + idx[p]*strides[dim] + (p's other
// coordinates)·strides] for every position p of idx (dst is contiguous in
// idx's shape).
func gatherInto(dst, src []float32, off int, strides []int, size, dim int, idx *IntTensor, op string) {
	n := rowLen(idx.shape)
	sz := withoutAxis(strides, dim)
	step, sd := lastStride(sz), strides[dim]
	id := idx.data
	walkRows(idx.shape, [][]int{rowMajorStrides(idx.shape), sz}, []int{0, off}, func(o []int) {
		for i := 0; i < n; i++ {
			v := checkIndex(op, id[o[0]+i], dim, size)
			dst[o[0]+i] = src[o[1]+i*step+v*sd]
		}
	})
}

// scatterAddInto adds src[sOff + p·sStrides] into dst[dOff + idx[p]*
// dStrides[dim] + (p's other coordinates)·dStrides] for every position p of idx.
func scatterAddInto(dst []float32, dOff int, dStrides []int, size, dim int, idx *IntTensor, src []float32, sOff int, sStrides []int, op string) {
	n := rowLen(idx.shape)
	dz := withoutAxis(dStrides, dim)
	dstep, dd, sstep := lastStride(dz), dStrides[dim], lastStride(sStrides)
	id := idx.data
	walkRows(idx.shape, [][]int{rowMajorStrides(idx.shape), dz, sStrides}, []int{0, dOff, sOff}, func(o []int) {
		for i := 0; i < n; i++ {
			v := checkIndex(op, id[o[0]+i], dim, size)
			dst[o[1]+i*dstep+v*dd] += src[o[2]+i*sstep]
		}
	})
}

// ScatterAdd returns a copy of t with src's values added at the positions
// idx names along dim, like torch.scatter_add(t, dim, idx, src): for dim 0,
// out[idx[i][j]][j] += src[i][j]. idx must have t's rank, fit inside src
// in every dimension and inside t in all but dim; repeated indices add up.
// The gradient of t is the output gradient; that of src is the output
// gradient gathered at idx (zero where idx does not reach).
func ScatterAdd(t *Tensor, dim int, idx *IntTensor, src *Tensor) *Tensor {
	t.live("ScatterAdd")
	src.live("ScatterAdd")
	dim = t.axis(dim, "ScatterAdd")
	if src.Dim() != t.Dim() {
		shapePanic("ScatterAdd", "src must have the same number of dimensions as the input", src.shape, t.shape)
	}
	checkIndexShape("ScatterAdd", t, dim, idx, src)
	out := newTensor(t.shape, false)
	copyInto(out, t)
	scatterAddInto(out.st.data, 0, out.strides, t.shape[dim], dim, idx, src.st.data, src.offset, src.strides, "ScatterAdd")
	return record(out, "ScatterAdd", []*Tensor{t, src}, func(g *Tensor, grads []*Tensor) {
		grads[0] = g
		if src.requiresGrad {
			gs := newTensor(src.shape, true)
			// Write g's gathered values at idx's positions inside gs.
			n := rowLen(idx.shape)
			gz := withoutAxis(g.strides, dim)
			gstep, gd, sstep := lastStride(gz), g.strides[dim], lastStride(gs.strides)
			gdata, sdata, id := g.st.data, gs.st.data, idx.data
			walkRows(idx.shape, [][]int{rowMajorStrides(idx.shape), gz, gs.strides}, []int{0, g.offset, 0}, func(o []int) {
				for i := 0; i < n; i++ {
					v := int(id[o[0]+i]) // checked by the forward
					sdata[o[2]+i*sstep] = gdata[o[1]+i*gstep+v*gd]
				}
			})
			grads[1] = gs
		}
	})
}

// IndexSelect picks whole slices along dim, like torch.index_select(t, dim,
// idx): the output is t with dimension dim replaced by len(idx), slice j
// being t's slice idx[j]. idx must be 1-d (or 0-d, one index). The gradient
// adds each output slice back into the slice it came from.
func IndexSelect(t *Tensor, dim int, idx *IntTensor) *Tensor {
	t.live("IndexSelect")
	dim = t.axis(dim, "IndexSelect")
	if idx.Dim() > 1 {
		shapePanic("IndexSelect", "index must be 1-d", idx.shape, t.shape)
	}
	outer, n, inner := axisLayout(t.shape, dim)
	m := idx.Numel()
	shape := slices.Clone(t.shape)
	shape[dim] = m
	for _, v := range idx.data {
		checkIndex("IndexSelect", v, dim, n)
	}
	src, tmp := contigData(t)
	out := newTensor(shape, false)
	od := out.st.data
	for o := 0; o < outer; o++ {
		for j, v := range idx.data {
			copy(od[(o*m+j)*inner:(o*m+j+1)*inner], src[(o*n+int(v))*inner:])
		}
	}
	tmp.releaseOwned()
	return record(out, "IndexSelect", []*Tensor{t}, func(g *Tensor, grads []*Tensor) {
		gd, gtmp := contigData(g)
		gt := newTensor(t.shape, true)
		td := gt.st.data
		for o := 0; o < outer; o++ {
			for j, v := range idx.data {
				dst := td[(o*n+int(v))*inner : (o*n+int(v)+1)*inner]
				s := gd[(o*m+j)*inner:]
				for k := range dst {
					dst[k] += s[k]
				}
			}
		}
		gtmp.releaseOwned()
		grads[0] = gt
	})
}

// OneHot returns a float32 tensor of shape idx.Shape()+[numClasses] with 1
// at each index and 0 elsewhere, like torch.nn.functional.one_hot (which
// returns int64; float32 is what losses and layers consume). numClasses < 0
// means max(idx)+1, as PyTorch's -1.
func OneHot(idx *IntTensor, numClasses int) *Tensor {
	if numClasses < 0 {
		numClasses = 0
		for _, v := range idx.data {
			numClasses = max(numClasses, int(v)+1)
		}
	}
	shape := append(slices.Clone(idx.shape), numClasses)
	out := newTensor(shape, true)
	for i, v := range idx.data {
		out.st.data[i*numClasses+checkIndex("OneHot", v, idx.Dim(), numClasses)] = 1
	}
	return out
}

// Embedding looks up rows of weight (shape [num, dim]) by index, like
// torch.nn.functional.embedding(idx, weight, padding_idx): the output has
// shape idx.Shape()+[dim]. The gradient of weight adds each output row
// into the row it came from; rows looked up by paddingIdx get no gradient,
// as in PyTorch. paddingIdx < 0 means no padding row.
func Embedding(idx *IntTensor, weight *Tensor, paddingIdx int) *Tensor {
	weight.live("Embedding")
	if weight.Dim() != 2 {
		shapePanic("Embedding", "weight must be 2-d [num_embeddings, embedding_dim]", idx.shape, weight.shape)
	}
	num, d := weight.shape[0], weight.shape[1]
	for _, v := range idx.data {
		checkIndex("Embedding", v, 0, num)
	}
	src, tmp := contigData(weight)
	out := newTensor(append(slices.Clone(idx.shape), d), false)
	od := out.st.data
	for i, v := range idx.data {
		copy(od[i*d:(i+1)*d], src[int(v)*d:])
	}
	tmp.releaseOwned()
	return record(out, "Embedding", []*Tensor{weight}, func(g *Tensor, grads []*Tensor) {
		gd, gtmp := contigData(g)
		gw := newTensor(weight.shape, true)
		wd := gw.st.data
		for i, v := range idx.data {
			if int(v) == paddingIdx {
				continue
			}
			dst, s := wd[int(v)*d:(int(v)+1)*d], gd[i*d:]
			for k := range dst {
				dst[k] += s[k]
			}
		}
		gtmp.releaseOwned()
		grads[0] = gw
	})
}

// CrossEntropyWithLogits is torch.nn.functional.cross_entropy(logits,
// target, weight, ignore_index=ignoreIndex, reduction=reduction,
// label_smoothing=labelSmoothing) for class-index targets, as PyTorch 1.13
// defines it:
//
//   - logits is [N, C] or [N, C, d1, ...] (or [C] with a 0-d target);
//     target holds class indices of shape [N] or [N, d1, ...].
//   - weight (nil for none) rescales each class: a sample of class y
//     contributes w[y]·(-log p_y).
//   - targets equal to ignoreIndex contribute nothing (PyTorch's default
//     is -100); any other target outside [0, C) panics.
//   - with label smoothing ε the loss is (1-ε)·nll + (ε/C)·Σ_c w_c·(-log p_c).
//   - reduction "mean" divides both parts by the summed weight of the
//     non-ignored targets (their count without weights), so that ignored
//     positions change neither numerator nor denominator (NaN when nothing
//     is left, 0/0 as in PyTorch); "sum" adds; "none" returns one loss per
//     position (0 at ignored ones).
//
// Log-softmax is fused in: no probability tensor is stored, and the
// backward recomputes each row's log-sum-exp and writes
// softmax − target (smoothed and weighted) in one pass over the logits.
func CrossEntropyWithLogits(logits *Tensor, target *IntTensor, weight *Tensor, ignoreIndex int, labelSmoothing float32, reduction string) *Tensor {
	const op = "CrossEntropyWithLogits"
	var n, c, k int
	switch {
	case logits.Dim() == 1:
		n, c, k = 1, logits.shape[0], 1
		if target.Dim() != 0 {
			shapePanic(op, "a 1-d input takes a 0-d target", logits.shape, target.shape)
		}
	case logits.Dim() >= 2:
		n, c, k = logits.shape[0], logits.shape[1], numel(logits.shape[2:])
		want := append([]int{n}, logits.shape[2:]...)
		if !SameShape(target.shape, want) {
			if len(want) == 1 && SameShape(target.shape, []int{n, 1}) {
				shapePanic(op, fmt.Sprintf("target must be class indices of shape [%d], not a [%d, 1] column: reshape it to [%d]", n, n, n), logits.shape, target.shape)
			}
			shapePanic(op, fmt.Sprintf("target must have shape %v", want), logits.shape, target.shape)
		}
	default:
		shapePanic(op, "logits must have at least one dimension", logits.shape, target.shape)
	}
	if weight != nil && (weight.Dim() != 1 || weight.shape[0] != c) {
		shapePanic(op, fmt.Sprintf("weight must be 1-d of %d classes", c), logits.shape, weight.shape)
	}
	if labelSmoothing < 0 || labelSmoothing > 1 {
		panic(fmt.Sprintf("tensor: %s: label smoothing %v must lie in [0, 1]", op, labelSmoothing))
	}
	if reduction != "mean" && reduction != "sum" && reduction != "none" {
		panic(fmt.Sprintf("tensor: %s: reduction %q must be \"mean\", \"sum\" or \"none\"", op, reduction))
	}
	// Class weights in float64, and their total (the smoothing gradient's Σw).
	w := make([]float64, c)
	wsum := 0.0
	if weight != nil {
		wd := weight.Contiguous().Data()
		for i, v := range wd {
			w[i] = float64(v)
			wsum += float64(v)
		}
	} else {
		for i := range w {
			w[i] = 1
		}
		wsum = float64(c)
	}
	tg := target.data
	wTarget := 0.0 // summed weight of the non-ignored targets
	for _, y := range tg {
		if int(y) == ignoreIndex {
			continue
		}
		wTarget += w[checkIndex(op, y, 1, c)]
	}
	eps := float64(labelSmoothing)
	// Per-position coefficients of the nll and smoothing parts.
	a, b := 1-eps, eps/float64(c)
	if reduction == "mean" {
		a /= wTarget
		b /= wTarget
	}

	x, xtmp := contigData(logits)
	var out *Tensor
	if reduction == "none" {
		out = newTensor(target.shape, false)
	} else {
		out = newTensor(nil, false)
	}
	od := out.st.data
	total := 0.0
	for s, y := range tg {
		base := (s/k)*c*k + s%k
		if int(y) == ignoreIndex {
			if reduction == "none" {
				od[s] = 0
			}
			continue
		}
		lse := lineLogSumExp(x, base, c, k)
		loss := a * w[y] * (lse - float64(x[base+int(y)*k]))
		if eps > 0 {
			sm := 0.0
			for j := 0; j < c; j++ {
				sm += w[j] * (lse - float64(x[base+j*k]))
			}
			loss += b * sm
		}
		if reduction == "none" {
			od[s] = float32(loss)
		} else {
			total += loss
		}
	}
	if reduction != "none" {
		if reduction == "mean" && wTarget == 0 {
			total = math.NaN() // no weight to divide by: 0/0, as in PyTorch
		}
		od[0] = float32(total)
	}
	xtmp.releaseOwned()

	return record(out, op, []*Tensor{logits}, func(g *Tensor, grads []*Tensor) {
		gd, gtmp := contigData(g)
		x, xtmp := contigData(logits)
		dx := newTensor(logits.shape, true)
		dd := dx.st.data
		for s, y := range tg {
			if int(y) == ignoreIndex {
				continue
			}
			gs := float64(gd[0])
			if reduction == "none" {
				gs = float64(gd[s])
			}
			base := (s/k)*c*k + s%k
			// d/dx_j of a·w_y·(-log p_y) + b·Σ w_i·(-log p_i)
			//   = a·w_y·(p_j - [j=y]) + b·(p_j·Σw - w_j).
			an, bs := gs*a*w[y], gs*b
			if k == 1 {
				// A contiguous row (the usual [N, C] logits): the vector
				// kernel writes e^(x_j - max) into dx and returns their
				// sum, so p_j is one multiply away.
				row, drow := x[base:base+c], dd[base:base+c]
				inv := 1 / float64(kernel.ExpSum(drow, row, rowShift(row)))
				for j, e := range drow {
					p := float64(e) * inv
					d := an*p + bs*(p*wsum-w[j])
					if j == int(y) {
						d -= an
					}
					drow[j] = float32(d)
				}
				continue
			}
			lse := lineLogSumExp(x, base, c, k)
			for j := 0; j < c; j++ {
				p := math.Exp(float64(x[base+j*k]) - lse)
				d := an*p + bs*(p*wsum-w[j])
				if j == int(y) {
					d -= an
				}
				dd[base+j*k] = float32(d)
			}
		}
		gtmp.releaseOwned()
		xtmp.releaseOwned()
		grads[0] = dx
	})
}

// lineLogSumExp returns log Σ exp(x[b+j*s]) over j < n, max subtracted first.
func lineLogSumExp(x []float32, b, n, s int) float64 {
	if s == 1 && n > 0 {
		// Contiguous: the max and the sum of exponentials in the vector
		// kernels (float32 terms, within 2 ulps each), the log in float64.
		row := x[b : b+n]
		m := rowShift(row)
		return float64(m) + math.Log(float64(kernel.SumExp(row, m)))
	}
	m := math.Inf(-1)
	for j := 0; j < n; j++ {
		if v := float64(x[b+j*s]); v > m || v != v {
			m = v
		}
	}
	if math.IsInf(m, 0) {
		m = 0
	}
	sum := 0.0
	for j := 0; j < n; j++ {
		sum += math.Exp(float64(x[b+j*s]) - m)
	}
	return m + math.Log(sum)
}

// rowShift is the maximum of a non-empty row, or 0 when that is infinite
// (as lineLogSumExp treats it). A NaN that the vector max skips still makes
// the sum of exponentials NaN.
func rowShift(row []float32) float32 {
	m := kernel.Max(row)
	if math.IsInf(float64(m), 0) {
		return 0
	}
	return m
}
