package onnx

import "fmt"

// Plan-time shape inference. Every value gets a shape with -1 for a size
// known only at run time (the batch) or nil when even its rank is
// unknown. Shapes let Compile reject mismatched static dimensions before
// any call, and they resolve the shape arithmetic exporters write
// (Shape -> Gather -> Unsqueeze -> Concat -> Reshape): integer values
// built from static dimensions are tracked element by element ("partial
// values", -1 where unknown) and become constants as soon as every
// element is known, so the nodes computing them disappear from the plan.

// shapeState is the inference of one pass over the nodes.
type shapeState struct {
	mod     *Model
	shapes  [][]int
	partial [][]int64 // known elements of small int64 vectors; -1 unknown (see partialUnknown)
}

// partialUnknown marks an unknown element of a partial value. Real shape
// values are never this negative.
const partialUnknown = -1 << 62

// inferShapes computes every value's shape, turns fully known shape
// arithmetic into constants and reports whether any node was removed.
func (mod *Model) inferShapes() (bool, error) {
	st := &shapeState{mod: mod, shapes: make([][]int, len(mod.slotNames)), partial: make([][]int64, len(mod.slotNames))}
	for s, c := range mod.consts {
		if c != nil {
			st.shapes[s] = append([]int{}, c.Shape...) // non-nil: a scalar has a known rank
		}
	}
	for i, s := range mod.inputSlots {
		if d := mod.Inputs[i].Dims; d != nil {
			st.shapes[s] = d
		}
	}
	removed := false
	kept := mod.nodes[:0]
	for _, n := range mod.nodes {
		if err := st.node(n); err != nil {
			return false, fmt.Errorf("onnx: %v: %w", n, err)
		}
		if st.resolved(n) {
			removed = true
			continue
		}
		kept = append(kept, n)
	}
	mod.nodes = kept
	mod.shapes = st.shapes
	return removed, nil
}

// resolved turns the outputs of n into constants when their values are
// fully known, and reports whether n can be dropped.
func (st *shapeState) resolved(n *node) bool {
	if len(n.out) != 1 || n.out[0] < 0 {
		return false
	}
	s := n.out[0]
	p := st.partial[s]
	if p == nil || st.shapes[s] == nil || len(st.shapes[s]) > 1 {
		return false
	}
	for _, v := range p {
		if v == partialUnknown {
			return false
		}
	}
	st.mod.consts[s] = &Tensor{DType: Int64, Shape: append([]int(nil), st.shapes[s]...), I: append([]int64(nil), p...)}
	return true
}

func (st *shapeState) in(n *node, i int) []int {
	if i >= len(n.in) || n.in[i] < 0 {
		return nil
	}
	return st.shapes[n.in[i]]
}

func (st *shapeState) set(n *node, i int, shape []int) {
	if i < len(n.out) && n.out[i] >= 0 {
		st.shapes[n.out[i]] = shape
	}
}

// constInts returns input i as ints when it is a constant.
func (st *shapeState) constInts(n *node, i int) ([]int, bool) {
	if i >= len(n.in) || n.in[i] < 0 {
		return nil, false
	}
	c := st.mod.consts[n.in[i]]
	if c == nil || c.DType.isFloat() || c.DType == String {
		return nil, false
	}
	out := make([]int, len(c.I))
	for j, v := range c.I {
		out[j] = int(v)
	}
	return out, true
}

// value returns input i's known elements: a constant's values or a
// partial value.
func (st *shapeState) value(n *node, i int) []int64 {
	if i >= len(n.in) || n.in[i] < 0 {
		return nil
	}
	s := n.in[i]
	if c := st.mod.consts[s]; c != nil && !c.DType.isFloat() && c.DType != String && c.Len() <= 64 {
		return c.I
	}
	return st.partial[s]
}

// node infers the outputs of one node; an error is a static mismatch.
func (st *shapeState) node(n *node) error {
	a := st.in(n, 0)
	switch n.op {
	case "Shape":
		if a != nil {
			lo, hi := clampRange(n.attr.int("start", 0), n.attr.int("end", len(a)), len(a))
			v := make([]int64, hi-lo)
			for j := range v {
				v[j] = int64(a[lo+j])
				if a[lo+j] < 0 {
					v[j] = partialUnknown
				}
			}
			st.set(n, 0, []int{hi - lo})
			st.partial[n.out[0]] = v
		}
	case "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast", "Add", "Sub", "Mul", "Div":
		if err := st.shapeOnly(n, a); err != nil {
			return err
		}
		st.partialOp(n)
	default:
		return st.shapeOnly(n, a)
	}
	return nil
}

func clampRange(lo, hi, r int) (int, int) {
	if lo < 0 {
		lo += r
	}
	if hi < 0 {
		hi += r
	}
	lo, hi = max(0, min(lo, r)), max(0, min(hi, r))
	return lo, max(lo, hi)
}

// partialOp propagates partial values through the ops of shape arithmetic.
func (st *shapeState) partialOp(n *node) {
	v := st.value(n, 0)
	if v == nil || n.out[0] < 0 {
		return
	}
	var out []int64
	switch n.op {
	case "Unsqueeze", "Squeeze", "Cast":
		if n.op == "Cast" && DType(n.attr.int("to", 0)).isFloat() {
			return
		}
		out = append([]int64(nil), v...)
	case "Gather":
		idx := st.value(n, 1)
		if idx == nil || n.attr.int("axis", 0) != 0 {
			return
		}
		for _, k := range idx {
			if k < 0 {
				k += int64(len(v))
			}
			if k < 0 || k >= int64(len(v)) {
				return
			}
			out = append(out, v[k])
		}
	case "Add", "Sub", "Mul", "Div":
		w := st.value(n, 1)
		if w == nil || (len(v) != len(w) && len(v) != 1 && len(w) != 1) {
			return
		}
		for i := range max(len(v), len(w)) {
			x, y := v[min(i, len(v)-1)], w[min(i, len(w)-1)]
			if x == partialUnknown || y == partialUnknown {
				out = append(out, partialUnknown)
				continue
			}
			switch n.op {
			case "Add":
				x += y
			case "Sub":
				x -= y
			case "Mul":
				x *= y
			default:
				if y == 0 {
					return
				}
				x /= y
			}
			out = append(out, x)
		}
	case "Concat":
		for i := range n.in {
			p := st.value(n, i)
			if p == nil || len(st.in(n, i)) != 1 {
				return
			}
			out = append(out, p...)
		}
	}
	st.partial[n.out[0]] = out
}

// prune drops nodes whose outputs nothing reads: what is left of shape
// arithmetic once its results became constants.
func (mod *Model) prune() {
	live := make([]bool, len(mod.slotNames))
	for _, s := range mod.outputSlots {
		live[s] = true
	}
	keep := make([]bool, len(mod.nodes))
	for i := len(mod.nodes) - 1; i >= 0; i-- {
		n := mod.nodes[i]
		for _, s := range n.out {
			if s >= 0 && live[s] {
				keep[i] = true
			}
		}
		if keep[i] {
			for _, s := range n.in {
				if s >= 0 {
					live[s] = true
				}
			}
		}
	}
	kept := mod.nodes[:0]
	for i, n := range mod.nodes {
		if keep[i] {
			kept = append(kept, n)
		}
	}
	mod.nodes = kept
}
