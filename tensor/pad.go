package tensor

import (
	"fmt"
	"slices"
)

// Pad adds zeros around the last dimensions of t, like
// torch.nn.functional.pad(t, pads) in constant mode: pads holds
// (before, after) pairs starting from the last dimension, so
// Pad(x, left, right, top, bottom) pads width then height. Pads must be
// non-negative. Its gradient is the matching slice of the output's.
func Pad(t *Tensor, pads ...int) *Tensor {
	if len(pads)%2 != 0 || len(pads)/2 > t.Dim() {
		panic(fmt.Sprintf("tensor: Pad: %d pad values for a tensor of shape %v; want (before, after) pairs for at most %d dimensions", len(pads), t.shape, t.Dim()))
	}
	shape := slices.Clone(t.shape)
	for i := 0; i < len(pads); i += 2 {
		d := t.Dim() - 1 - i/2
		if pads[i] < 0 || pads[i+1] < 0 {
			panic(fmt.Sprintf("tensor: Pad: negative padding %v", pads))
		}
		shape[d] += pads[i] + pads[i+1]
	}
	out := newTensor(shape, true)
	inner := out
	for i := 0; i < len(pads); i += 2 {
		d := t.Dim() - 1 - i/2
		inner = inner.view(inner.shape, inner.strides, inner.offset).Narrow(d, pads[i], t.shape[d])
	}
	copyInto(inner, t)
	in := t.shape
	return record(out, "Pad", []*Tensor{t}, func(g *Tensor, grads []*Tensor) {
		v := g
		for i := 0; i < len(pads); i += 2 {
			d := len(in) - 1 - i/2
			v = v.Narrow(d, pads[i], in[d])
		}
		grads[0] = v
	})
}
