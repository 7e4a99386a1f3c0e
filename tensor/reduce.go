package tensor

import (
	"fmt"
	"math"
	"slices"
)

// reduceKind selects what reduceAxes accumulates.
type reduceKind uint8

const (
	reduceSum reduceKind = iota
	reduceMax
	reduceMin
)

// reduceAxesList resolves axes (none means all) into a sorted, deduplicated
// list and a mask over t's dimensions.
func reduceAxesList(t *Tensor, axes []int, op string) ([]int, []bool) {
	mask := make([]bool, t.Dim())
	if len(axes) == 0 {
		for i := range mask {
			mask[i] = true
		}
	}
	for _, a := range axes {
		a = t.axis(a, op)
		if mask[a] && len(axes) > 0 {
			panic(fmt.Sprintf("tensor: %s: axis %d repeats in %v", op, a, axes))
		}
		mask[a] = true
	}
	var list []int
	for i, m := range mask {
		if m {
			list = append(list, i)
		}
	}
	return list, mask
}

// reducedShape returns t's shape with reduced axes set to 1 (keep) or removed.
func reducedShape(shape []int, mask []bool, keepdim bool) []int {
	out := make([]int, 0, len(shape))
	for i, d := range shape {
		switch {
		case !mask[i]:
			out = append(out, d)
		case keepdim:
			out = append(out, 1)
		}
	}
	return out
}

// reduce accumulates t over the masked axes in float64 (so long sums keep
// float32 accuracy) and returns a contiguous tensor of the keepdim shape.
func reduce(kind reduceKind, t *Tensor, mask []bool) *Tensor {
	t.live("a reduction")
	keep := reducedShape(t.shape, mask, true)
	out := newTensor(keep, false)
	acc := make([]float64, len(out.st.data))
	init := 0.0
	switch kind {
	case reduceMax:
		init = math.Inf(-1)
	case reduceMin:
		init = math.Inf(1)
	}
	for i := range acc {
		acc[i] = init
	}
	// Output strides with 0 on reduced axes map every input element onto
	// its output slot.
	ostr := make([]int, len(keep))
	s := 1
	for i := len(keep) - 1; i >= 0; i-- {
		if !mask[i] {
			ostr[i] = s
		}
		s *= keep[i]
	}
	n := rowLen(t.shape)
	is, os := lastStride(t.strides), lastStride(ostr)
	data := t.st.data
	walkRows(t.shape, [][]int{ostr, t.strides}, []int{0, t.offset}, func(o []int) {
		oi, ii := o[0], o[1]
		if os == 0 { // the row itself is reduced into one slot
			a := acc[oi]
			switch kind {
			case reduceSum:
				for i := 0; i < n; i++ {
					a += float64(data[ii+i*is])
				}
			case reduceMax:
				for i := 0; i < n; i++ {
					if v := float64(data[ii+i*is]); v > a || v != v {
						a = v
					}
				}
			case reduceMin:
				for i := 0; i < n; i++ {
					if v := float64(data[ii+i*is]); v < a || v != v {
						a = v
					}
				}
			}
			acc[oi] = a
			return
		}
		for i := 0; i < n; i++ {
			v := float64(data[ii+i*is])
			p := &acc[oi+i*os]
			switch kind {
			case reduceSum:
				*p += v
			case reduceMax:
				if v > *p || v != v {
					*p = v
				}
			case reduceMin:
				if v < *p || v != v {
					*p = v
				}
			}
		}
	})
	for i, v := range acc {
		out.st.data[i] = float32(v)
	}
	return out
}

// squeezeTo reshapes a keepdim result to the final shape (a view).
func squeezeTo(t *Tensor, shape []int) *Tensor {
	v := t.view(shape, nil, t.offset)
	v.setContiguousStrides()
	v.owner = t.owner
	t.owner = false
	return v
}

// Sum adds t's elements over the given axes (all when none), removing them
// unless keepdim. Accumulates in float64. Note the order: keepdim comes
// before the axes, so torch's t.sum(dim=(1, 2), keepdim=True) is
// Sum(t, true, 1, 2).
func Sum(t *Tensor, keepdim bool, axes ...int) *Tensor {
	_, mask := reduceAxesList(t, axes, "Sum")
	out := squeezeTo(reduce(reduceSum, t, mask), reducedShape(t.shape, mask, keepdim))
	in := t.shape
	keep := reducedShape(t.shape, mask, true)
	return record(out, "Sum", []*Tensor{t}, func(g *Tensor, grads []*Tensor) {
		grads[0] = broadcastTo(g.Reshape(keep...), in)
	})
}

// Mean averages t over the given axes (all when none), removing them unless
// keepdim. Note the order: keepdim comes before the axes, so torch's
// t.mean(dim=-1, keepdim=True) is Mean(t, true, -1) and t.mean() is
// Mean(t, false).
func Mean(t *Tensor, keepdim bool, axes ...int) *Tensor {
	_, mask := reduceAxesList(t, axes, "Mean")
	count := 1
	for i, m := range mask {
		if m {
			count *= t.shape[i]
		}
	}
	sum := reduce(reduceSum, t, mask)
	scale := 1 / float32(count)
	for i := range sum.st.data {
		sum.st.data[i] *= scale
	}
	out := squeezeTo(sum, reducedShape(t.shape, mask, keepdim))
	in := t.shape
	keep := reducedShape(t.shape, mask, true)
	return record(out, "Mean", []*Tensor{t}, func(g *Tensor, grads []*Tensor) {
		grads[0] = broadcastTo(MulScalar(g, scale).Reshape(keep...), in)
	})
}

// Max returns the largest element over the given axes (all when none), like
// torch.amax(t, dim=axes, keepdim=keepdim) (keepdim before the axes, as in
// Sum): at ties the gradient is shared evenly. For indices use Argmax.
func Max(t *Tensor, keepdim bool, axes ...int) *Tensor {
	return extreme(reduceMax, "Max", t, keepdim, axes)
}

// Min returns the smallest element over the given axes (all when none), like
// torch.amin(t, dim=axes, keepdim=keepdim) (keepdim before the axes).
func Min(t *Tensor, keepdim bool, axes ...int) *Tensor {
	return extreme(reduceMin, "Min", t, keepdim, axes)
}

func extreme(kind reduceKind, name string, t *Tensor, keepdim bool, axes []int) *Tensor {
	_, mask := reduceAxesList(t, axes, name)
	keepT := reduce(kind, t, mask)
	out := squeezeTo(keepT, reducedShape(t.shape, mask, keepdim))
	return record(out, name, []*Tensor{t}, func(g *Tensor, grads []*Tensor) {
		hit := binary(opEq, t, keepT) // 1 where the element is the extreme
		count := reduce(reduceSum, hit, mask)
		w := binary(opDiv, hit, count)
		grads[0] = binary(opMul, w, g.Reshape(keepT.shape...))
	})
}

// broadcastTo returns a contiguous copy of t broadcast to shape.
func broadcastTo(t *Tensor, shape []int) *Tensor {
	out := newTensor(shape, false)
	copyInto(out, t.view(shape, broadcastStrides(t, shape), t.offset))
	return out
}

// SumToShape sums t down to shape, the inverse of broadcasting shape up to
// t's shape: the gradient of a broadcast operand. It returns t itself when
// the shapes already match.
func SumToShape(t *Tensor, shape []int) *Tensor {
	if SameShape(t.shape, shape) {
		return t
	}
	lead := t.Dim() - len(shape)
	if lead < 0 {
		shapePanic("SumToShape", "target has more dimensions", t.shape, shape)
	}
	mask := make([]bool, t.Dim())
	for i := range t.shape {
		j := i - lead
		switch {
		case j < 0:
			mask[i] = true
		case shape[j] == 1 && t.shape[i] != 1:
			mask[i] = true
		case shape[j] != t.shape[i]:
			shapePanic("SumToShape", "shapes are not broadcast-compatible", t.shape, shape)
		}
	}
	r := reduce(reduceSum, t, mask)
	return squeezeTo(r, slices.Clone(shape))
}
