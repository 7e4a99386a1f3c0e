package tensor

import (
	"fmt"
	"slices"
)

// view returns a header sharing t's storage with the given layout. It
// records no history; callers that need gradients use record.
func (t *Tensor) view(shape, strides []int, offset int) *Tensor {
	t.live("a view")
	v := &Tensor{st: t.st, offset: offset, prec: t.prec}
	v.setShape(shape)
	copy(v.strides, strides)
	return v
}

// Contiguous returns t itself when it is already contiguous (the same
// tensor, so the same buffer), otherwise a row-major copy.
func (t *Tensor) Contiguous() *Tensor {
	if t.IsContiguous() {
		return t
	}
	out := newTensor(t.shape, false)
	copyInto(out, t)
	return record(out, "Contiguous", []*Tensor{t}, func(g *Tensor, grads []*Tensor) {
		grads[0] = g
	})
}

// Clone returns a contiguous copy of t that records history.
func (t *Tensor) Clone() *Tensor {
	out := newTensor(t.shape, false)
	copyInto(out, t)
	return record(out, "Clone", []*Tensor{t}, func(g *Tensor, grads []*Tensor) { grads[0] = g })
}

// Reshape returns a tensor with the same elements in a new shape; one
// dimension may be -1 and is inferred. It is a view when t is contiguous
// and a copy otherwise.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	shape = inferShape(shape, t.Numel(), t.shape)
	src := t
	if !t.IsContiguous() {
		src = t.Contiguous()
	}
	v := src.view(shape, nil, src.offset)
	v.setContiguousStrides()
	in := src.shape
	return record(v, "Reshape", []*Tensor{src}, func(g *Tensor, grads []*Tensor) {
		grads[0] = g.Reshape(in...)
	})
}

// Flatten reshapes dims [start, end] (inclusive; negatives count from the
// end) into one, like torch.flatten(t, start, end). A view when t is
// contiguous, a copy otherwise (as Reshape).
func (t *Tensor) Flatten(start, end int) *Tensor {
	if t.Dim() == 0 {
		return t.Reshape(1)
	}
	start, end = t.axis(start, "Flatten"), t.axis(end, "Flatten")
	shape := slices.Clone(t.shape[:start])
	shape = append(shape, numel(t.shape[start:end+1]))
	shape = append(shape, t.shape[end+1:]...)
	return t.Reshape(shape...)
}

func inferShape(shape []int, n int, from []int) []int {
	shape = slices.Clone(shape)
	infer := -1
	known := 1
	for i, d := range shape {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			shapePanic("Reshape", "invalid target dimension", from, shape)
		default:
			known *= d
		}
	}
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			shapePanic("Reshape", "cannot infer the -1 dimension", from, shape)
		}
		shape[infer] = n / known
	} else if known != n {
		shapePanic("Reshape", fmt.Sprintf("%d elements cannot take the new shape", n), from, shape)
	}
	return shape
}

// Permute reorders dimensions: result dim i is t's dim perm[i]. A view.
func (t *Tensor) Permute(perm ...int) *Tensor {
	if len(perm) != t.Dim() {
		shapePanic("Permute", fmt.Sprintf("permutation %v has the wrong length", perm), t.shape)
	}
	shape := make([]int, len(perm))
	strides := make([]int, len(perm))
	seen := make([]bool, len(perm))
	for i, p := range perm {
		p = t.axis(p, "Permute")
		if seen[p] {
			shapePanic("Permute", fmt.Sprintf("permutation %v repeats an axis", perm), t.shape)
		}
		seen[p] = true
		shape[i], strides[i] = t.shape[p], t.strides[p]
	}
	inv := make([]int, len(perm))
	for i, p := range perm {
		inv[normAxis(p, len(perm), "Permute", t.shape)] = i
	}
	return record(t.view(shape, strides, t.offset), "Permute", []*Tensor{t}, func(g *Tensor, grads []*Tensor) {
		grads[0] = g.Permute(inv...)
	})
}

// Transpose swaps dimensions a and b. A view.
func (t *Tensor) Transpose(a, b int) *Tensor {
	perm := make([]int, t.Dim())
	for i := range perm {
		perm[i] = i
	}
	a, b = t.axis(a, "Transpose"), t.axis(b, "Transpose")
	perm[a], perm[b] = perm[b], perm[a]
	return t.Permute(perm...)
}

// T transposes a 2-d tensor. A view.
func (t *Tensor) T() *Tensor {
	if t.Dim() != 2 {
		shapePanic("T", "needs a 2-d tensor", t.shape)
	}
	return t.Transpose(0, 1)
}

// Slice returns elements start, start+step, ... before end along dim, like
// t[..., start:end:step, ...]. Negative start/end count from the end and
// are clamped like Python slices; step must be positive. A view.
func (t *Tensor) Slice(dim, start, end, step int) *Tensor {
	dim = t.axis(dim, "Slice")
	if step <= 0 {
		panic(fmt.Sprintf("tensor: Slice: step %d must be positive", step))
	}
	n := t.shape[dim]
	start, end = clampIndex(start, n), clampIndex(end, n)
	count := 0
	if end > start {
		count = (end - start + step - 1) / step
	}
	shape := slices.Clone(t.shape)
	strides := slices.Clone(t.strides)
	shape[dim] = count
	strides[dim] *= step
	in := t.shape
	return record(t.view(shape, strides, t.offset+start*t.strides[dim]), "Slice", []*Tensor{t}, func(g *Tensor, grads []*Tensor) {
		full := newTensor(in, true)
		copyInto(full.Slice(dim, start, end, step), g)
		grads[0] = full
	})
}

// Narrow returns length elements from start along dim. A view.
func (t *Tensor) Narrow(dim, start, length int) *Tensor {
	return t.Slice(dim, start, start+length, 1)
}

// Index selects position i along dim and removes that dimension. A view.
func (t *Tensor) Index(dim, i int) *Tensor {
	dim = t.axis(dim, "Index")
	if i < 0 {
		i += t.shape[dim]
	}
	if i < 0 || i >= t.shape[dim] {
		panic(fmt.Sprintf("tensor: Index %d out of range for dim %d of shape %v", i, dim, t.shape))
	}
	return t.Slice(dim, i, i+1, 1).Squeeze(dim)
}

func clampIndex(i, n int) int {
	if i < 0 {
		i += n
	}
	return min(max(i, 0), n)
}

// Squeeze removes the given size-1 dimensions, or all of them when none are given. A view.
func (t *Tensor) Squeeze(dims ...int) *Tensor {
	drop := make([]bool, t.Dim())
	if len(dims) == 0 {
		for i, d := range t.shape {
			drop[i] = d == 1
		}
	}
	for _, d := range dims {
		d = t.axis(d, "Squeeze")
		drop[d] = t.shape[d] == 1 // PyTorch leaves a non-1 dim alone
	}
	var shape, strides []int
	for i := range t.shape {
		if !drop[i] {
			shape = append(shape, t.shape[i])
			strides = append(strides, t.strides[i])
		}
	}
	in := t.shape
	return record(t.view(shape, strides, t.offset), "Squeeze", []*Tensor{t}, func(g *Tensor, grads []*Tensor) {
		grads[0] = g.Reshape(in...)
	})
}

// Unsqueeze inserts a size-1 dimension at dim (which may equal Dim()). A view.
func (t *Tensor) Unsqueeze(dim int) *Tensor {
	dim = normAxis(dim, t.Dim()+1, "Unsqueeze", t.shape)
	shape := slices.Insert(slices.Clone(t.shape), dim, 1)
	st := 1
	if dim < t.Dim() {
		st = t.strides[dim] * t.shape[dim]
	}
	strides := slices.Insert(slices.Clone(t.strides), dim, st)
	in := t.shape
	return record(t.view(shape, strides, t.offset), "Unsqueeze", []*Tensor{t}, func(g *Tensor, grads []*Tensor) {
		grads[0] = g.Reshape(in...)
	})
}

// Expand broadcasts t to shape without copying (stride 0 on expanded
// dimensions); -1 keeps a dimension. A view: writing into it is undefined.
func (t *Tensor) Expand(shape ...int) *Tensor {
	shape = slices.Clone(shape)
	if len(shape) < t.Dim() {
		shapePanic("Expand", "target has fewer dimensions", t.shape, shape)
	}
	off := len(shape) - t.Dim()
	for i := range t.shape {
		if shape[off+i] == -1 {
			shape[off+i] = t.shape[i]
		}
		if t.shape[i] != 1 && t.shape[i] != shape[off+i] {
			shapePanic("Expand", fmt.Sprintf("dimension %d of size %d cannot expand", i, t.shape[i]), t.shape, shape)
		}
	}
	in := t.shape
	return record(t.view(shape, broadcastStrides(t, shape), t.offset), "Expand", []*Tensor{t}, func(g *Tensor, grads []*Tensor) {
		grads[0] = SumToShape(g, in)
	})
}

// Concat joins tensors along dim; all other dimensions must match.
func Concat(ts []*Tensor, dim int) *Tensor {
	if len(ts) == 0 {
		panic("tensor: Concat of no tensors")
	}
	dim = ts[0].axis(dim, "Concat")
	shape := slices.Clone(ts[0].shape)
	shape[dim] = 0
	for _, x := range ts {
		if x.Dim() != len(shape) {
			shapePanic("Concat", "ranks differ", ts[0].shape, x.shape)
		}
		for i := range shape {
			if i != dim && x.shape[i] != shape[i] {
				shapePanic("Concat", fmt.Sprintf("dimension %d differs", i), ts[0].shape, x.shape)
			}
		}
		shape[dim] += x.shape[dim]
	}
	out := newTensor(shape, false)
	at := 0
	for _, x := range ts {
		copyInto(out.Narrow(dim, at, x.shape[dim]), x)
		at += x.shape[dim]
	}
	inputs := slices.Clone(ts)
	return record(out, "Concat", inputs, func(g *Tensor, grads []*Tensor) {
		at := 0
		for i, x := range inputs {
			if x.requiresGrad {
				grads[i] = g.Narrow(dim, at, x.shape[dim])
			}
			at += x.shape[dim]
		}
	})
}

// Stack joins same-shaped tensors along a new dimension dim.
func Stack(ts []*Tensor, dim int) *Tensor {
	if len(ts) == 0 {
		panic("tensor: Stack of no tensors")
	}
	dim = normAxis(dim, ts[0].Dim()+1, "Stack", ts[0].shape)
	us := make([]*Tensor, len(ts))
	for i, x := range ts {
		if !SameShape(x.shape, ts[0].shape) {
			shapePanic("Stack", "all tensors must have the same shape", ts[0].shape, x.shape)
		}
		us[i] = x.Unsqueeze(dim)
	}
	return Concat(us, dim)
}

// Split cuts t along dim into pieces of the given sizes (views).
func (t *Tensor) Split(dim int, sizes ...int) []*Tensor {
	dim = t.axis(dim, "Split")
	total := 0
	for _, s := range sizes {
		total += s
	}
	if total != t.shape[dim] {
		shapePanic("Split", fmt.Sprintf("sizes %v do not add up to dimension %d", sizes, dim), t.shape)
	}
	out := make([]*Tensor, len(sizes))
	at := 0
	for i, s := range sizes {
		out[i] = t.Narrow(dim, at, s)
		at += s
	}
	return out
}

// Chunk cuts t along dim into n nearly equal views (the last may be smaller), like torch.chunk.
func (t *Tensor) Chunk(n, dim int) []*Tensor {
	dim = t.axis(dim, "Chunk")
	size := (t.shape[dim] + n - 1) / n
	var sizes []int
	for left := t.shape[dim]; left > 0; left -= size {
		sizes = append(sizes, min(size, left))
	}
	return t.Split(dim, sizes...)
}
