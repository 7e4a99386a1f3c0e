package onnx

import (
	"fmt"
	"strings"
)

// sameShapeOps give an output shaped as their first input.
var sameShapeOps = map[string]bool{}

func init() {
	for _, op := range []string{"Relu", "LeakyRelu", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid", "HardSwish",
		"Tanh", "Erf", "Sqrt", "Exp", "Log", "Neg", "Abs", "Reciprocal", "Floor", "Ceil", "Round", "Sign",
		"Softplus", "Softsign", "ThresholdedRelu", "Mish", "Sin", "Cos", "Gelu", "Identity", "Dropout", "Not",
		"IsNaN", "IsInf", "Clip", "Cast", "CastLike", "Softmax", "LogSoftmax", "BatchNormalization",
		"InstanceNormalization", "LayerNormalization", "Trilu"} {
		sameShapeOps[op] = true
	}
}

// unify returns the broadcast of two partially known shapes, or an error
// when two known sizes disagree.
func unify(a, b []int) ([]int, error) {
	if a == nil || b == nil {
		return nil, nil
	}
	r := max(len(a), len(b))
	out := make([]int, r)
	for i := range out {
		x, y := 1, 1
		if j := i - (r - len(a)); j >= 0 {
			x = a[j]
		}
		if j := i - (r - len(b)); j >= 0 {
			y = b[j]
		}
		switch {
		case x == 1:
			out[i] = y
		case y == 1:
			out[i] = x
		case x < 0 || y < 0:
			out[i] = max(x, y) // the known one, or -1
			if x >= 0 && y < 0 || y >= 0 && x < 0 {
				out[i] = -1 // the unknown one may be 1
			}
		case x != y:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		default:
			out[i] = x
		}
	}
	return out, nil
}

// shapeOnly infers output shapes of the ops whose shapes matter downstream
// (and checks static mismatches); other outputs stay unknown.
func (st *shapeState) shapeOnly(n *node, a []int) error {
	switch {
	case sameShapeOps[n.op]:
		st.set(n, 0, a)
		return nil
	case binaryFloat[n.op] != nil || compareFloat[n.op] != nil || n.op == "Where" || n.op == "Max" ||
		n.op == "Min" || n.op == "Sum" || n.op == "Mean" || n.op == "And" || n.op == "Or":
		out := a
		for i := 1; i < len(n.in); i++ {
			var err error
			if out, err = unify(out, st.in(n, i)); err != nil {
				return err
			}
		}
		st.set(n, 0, out)
		return nil
	}
	return st.structural(n, a)
}

// structural infers the ops that move or combine axes.
func (st *shapeState) structural(n *node, a []int) error {
	switch n.op {
	case "MatMul", "MatMul+Add":
		return st.matmulShape(n, a, st.in(n, 1))
	case "Gemm":
		b := st.in(n, 1)
		if len(a) == 2 && len(b) == 2 {
			m, k := a[0], a[1]
			if n.attr.int("transA", 0) != 0 {
				m, k = k, m
			}
			k2, nn := b[0], b[1]
			if n.attr.int("transB", 0) != 0 {
				k2, nn = nn, k2
			}
			if k >= 0 && k2 >= 0 && k != k2 {
				return fmt.Errorf("inner dimensions %d and %d differ (shapes %v, %v)", k, k2, a, b)
			}
			st.set(n, 0, []int{m, nn})
		}
	case "Conv", "Conv+Relu":
		return st.convShape(n, a, st.in(n, 1))
	case "Reshape":
		if shape, ok := st.reshapeTarget(n); ok {
			st.set(n, 0, shape)
		}
	case "Flatten":
		if a != nil {
			ax := n.attr.int("axis", 1)
			if ax < 0 {
				ax += len(a)
			}
			if ax >= 0 && ax <= len(a) {
				st.set(n, 0, []int{knownProd(a[:ax]), knownProd(a[ax:])})
			}
		}
	case "Transpose":
		if a != nil {
			perm := n.attr.ints("perm")
			out := make([]int, len(a))
			for i := range out {
				j := len(a) - 1 - i
				if perm != nil && i < len(perm) {
					j = perm[i]
				}
				if j < 0 || j >= len(a) {
					return fmt.Errorf("perm %v for rank %d", perm, len(a))
				}
				out[i] = a[j]
			}
			st.set(n, 0, out)
		}
	case "Gather":
		idx := st.in(n, 1)
		if a != nil && idx != nil {
			ax, err := normAxis(n.attr.int("axis", 0), len(a))
			if err != nil {
				return err
			}
			st.set(n, 0, append(append(append([]int{}, a[:ax]...), idx...), a[ax+1:]...))
		}
	case "Unsqueeze", "Squeeze":
		st.squeezeShape(n, a)
	case "Slice":
		st.sliceShape(n, a)
	case "Concat":
		st.concatShape(n)
	case "LSTM", "GRU", "RNN":
		if len(a) == 3 {
			dirs := 1
			if n.attr.str("direction", "forward") == "bidirectional" {
				dirs = 2
			}
			h := n.attr.int("hidden_size", -1)
			t, b := a[0], a[1]
			if n.attr.int("layout", 0) != 0 {
				t, b = b, t
				st.set(n, 0, []int{b, t, dirs, h})
				st.set(n, 1, []int{b, dirs, h})
				st.set(n, 2, []int{b, dirs, h})
			} else {
				st.set(n, 0, []int{t, dirs, b, h})
				st.set(n, 1, []int{dirs, b, h})
				st.set(n, 2, []int{dirs, b, h})
			}
		}
	case "GlobalAveragePool", "GlobalMaxPool":
		if len(a) >= 2 {
			out := append([]int{a[0], a[1]}, make([]int, len(a)-2)...)
			for i := 2; i < len(out); i++ {
				out[i] = 1
			}
			st.set(n, 0, out)
		}
	default:
		return st.moreShapes(n, a)
	}
	return nil
}

// knownProd is the product of dims, or -1 when one is unknown.
func knownProd(d []int) int {
	p := 1
	for _, v := range d {
		if v < 0 {
			return -1
		}
		p *= v
	}
	return p
}

func (st *shapeState) matmulShape(n *node, a, b []int) error {
	if len(a) < 2 || len(b) < 2 {
		return nil
	}
	k, k2 := a[len(a)-1], b[len(b)-2]
	if k >= 0 && k2 >= 0 && k != k2 {
		return fmt.Errorf("inner dimensions %d and %d differ (shapes %v, %v)", k, k2, a, b)
	}
	batch, err := unify(a[:len(a)-2], b[:len(b)-2])
	if err != nil {
		return err
	}
	st.set(n, 0, append(batch, a[len(a)-2], b[len(b)-1]))
	return nil
}

func (st *shapeState) convShape(n *node, a, w []int) error {
	if len(a) < 3 || len(w) != len(a) {
		return nil
	}
	g := n.attr.int("group", 1)
	if a[1] >= 0 && w[1] >= 0 && a[1] != w[1]*g {
		return fmt.Errorf("input has %d channels, the weight %v with %d groups takes %d", a[1], w, g, w[1]*g)
	}
	out := []int{a[0], w[0]}
	if knownProd(a[2:]) < 0 {
		for range a[2:] {
			out = append(out, -1)
		}
		st.set(n, 0, out)
		return nil
	}
	wa := readWindowAttrs(n)
	geo, err := wa.makeGeom(a[2:], w[2:])
	if err != nil {
		return err
	}
	st.set(n, 0, append(out, geo.out[3-len(w[2:]):]...))
	return nil
}

// reshapeTarget resolves a Reshape's target from a constant or partial
// shape input.
func (st *shapeState) reshapeTarget(n *node) ([]int, bool) {
	v := st.value(n, 1)
	if v == nil {
		return nil, false
	}
	a := st.in(n, 0)
	out := make([]int, len(v))
	infer := -1
	for i, d := range v {
		switch {
		case d == partialUnknown:
			out[i] = -1
		case d == 0 && n.attr.int("allowzero", 0) == 0:
			out[i] = -1
			if i < len(a) {
				out[i] = a[i]
			}
		case d == -1:
			infer = i
			out[i] = -1
		default:
			out[i] = int(d)
		}
	}
	if infer >= 0 {
		total, rest := knownProd(a), 1
		for i, d := range out {
			if i != infer {
				if d < 0 {
					rest = -1
					break
				}
				rest *= d
			}
		}
		if total >= 0 && rest > 0 && total%rest == 0 {
			out[infer] = total / rest
		}
	}
	return out, true
}

func (st *shapeState) squeezeShape(n *node, a []int) {
	if a == nil {
		return
	}
	axes, ok := st.constInts(n, 1)
	if !ok {
		axes = n.attr.ints("axes")
	}
	if n.op == "Unsqueeze" {
		r := len(a) + len(axes)
		mark := make([]bool, r)
		for _, ax := range axes {
			if ax < 0 {
				ax += r
			}
			if ax < 0 || ax >= r {
				return
			}
			mark[ax] = true
		}
		out, j := make([]int, 0, r), 0
		for i := 0; i < r; i++ {
			if mark[i] {
				out = append(out, 1)
			} else if j < len(a) {
				out = append(out, a[j])
				j++
			}
		}
		st.set(n, 0, out)
		return
	}
	if len(axes) == 0 {
		return // squeezes whatever is 1 at run time
	}
	drop := map[int]bool{}
	for _, ax := range axes {
		if ax < 0 {
			ax += len(a)
		}
		drop[ax] = true
	}
	var out []int
	for i, d := range a {
		if !drop[i] {
			out = append(out, d)
		}
	}
	st.set(n, 0, out)
}

func (st *shapeState) concatShape(n *node) {
	var out []int
	for i := range n.in {
		s := st.in(n, i)
		if s == nil {
			return
		}
		if out == nil {
			out = append([]int(nil), s...)
			continue
		}
		ax := n.attr.int("axis", 0)
		if ax < 0 {
			ax += len(out)
		}
		if ax < 0 || ax >= len(out) || len(s) != len(out) {
			return
		}
		if out[ax] >= 0 && s[ax] >= 0 {
			out[ax] += s[ax]
		} else {
			out[ax] = -1
		}
	}
	st.set(n, 0, out)
}

// sliceShape infers a Slice whose starts, ends, axes and steps are known.
func (st *shapeState) sliceShape(n *node, a []int) {
	if a == nil || n.opset < 10 {
		return
	}
	starts, ok1 := st.constInts(n, 1)
	ends, ok2 := st.constInts(n, 2)
	if !ok1 || !ok2 || len(starts) != len(ends) {
		return
	}
	axes, ok := st.constInts(n, 3)
	if !ok {
		axes = make([]int, len(starts))
		for i := range axes {
			axes[i] = i
		}
	}
	steps, ok := st.constInts(n, 4)
	if !ok {
		steps = make([]int, len(starts))
		for i := range steps {
			steps[i] = 1
		}
	}
	if len(axes) != len(starts) || len(steps) != len(starts) {
		return
	}
	out := append([]int(nil), a...)
	for i, ax := range axes {
		if ax < 0 {
			ax += len(a)
		}
		if ax < 0 || ax >= len(a) || steps[i] == 0 {
			return
		}
		if a[ax] < 0 {
			out[ax] = -1
			continue
		}
		_, out[ax] = sliceRange(starts[i], ends[i], steps[i], a[ax])
	}
	st.set(n, 0, out)
}

// moreShapes covers reductions, Expand, Split, ConstantOfShape, pools and Pad.
func (st *shapeState) moreShapes(n *node, a []int) error {
	switch {
	case strings.HasPrefix(n.op, "Reduce") || n.op == "ArgMax" || n.op == "ArgMin":
		st.reduceShape(n, a)
	case n.op == "Expand":
		if v := st.value(n, 1); v != nil && a != nil {
			to := make([]int, len(v))
			for i, d := range v {
				to[i] = int(d)
				if d == partialUnknown {
					to[i] = -1
				}
			}
			out, err := unify(a, to)
			if err != nil {
				return err
			}
			st.set(n, 0, out)
		}
	case n.op == "ConstantOfShape":
		if v := st.value(n, 0); v != nil {
			out := make([]int, len(v))
			for i, d := range v {
				out[i] = int(max(d, -1))
			}
			st.set(n, 0, out)
		}
	case n.op == "Split":
		st.splitShape(n, a)
	case n.op == "MaxPool" || n.op == "AveragePool":
		w := readWindowAttrs(n)
		if len(a) == len(w.kernel)+2 && knownProd(a[2:]) >= 0 {
			geo, err := w.makeGeom(a[2:], w.kernel)
			if err != nil {
				return err
			}
			out := append([]int{a[0], a[1]}, geo.out[3-len(w.kernel):]...)
			st.set(n, 0, out)
			st.set(n, 1, out)
		}
	}
	return nil
}

func (st *shapeState) reduceShape(n *node, a []int) {
	if a == nil {
		return
	}
	axes := n.attr.ints("axes")
	if n.op == "ArgMax" || n.op == "ArgMin" {
		axes = []int{n.attr.int("axis", 0)}
	} else if reduceAxesFromInput(n.op, n.opset) {
		var ok bool
		if axes, ok = st.constInts(n, 1); !ok && len(n.in) > 1 && n.in[1] >= 0 {
			return
		}
	}
	if len(axes) == 0 && n.attr.int("noop_with_empty_axes", 0) != 0 {
		st.set(n, 0, a)
		return
	}
	red := make([]bool, len(a))
	for _, ax := range axes {
		if ax < 0 {
			ax += len(a)
		}
		if ax < 0 || ax >= len(a) {
			return
		}
		red[ax] = true
	}
	keep := n.attr.int("keepdims", 1) != 0
	out := []int{}
	for i, d := range a {
		switch {
		case len(axes) > 0 && !red[i]:
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	st.set(n, 0, out)
}

func (st *shapeState) splitShape(n *node, a []int) {
	if a == nil {
		return
	}
	ax := n.attr.int("axis", 0)
	if ax < 0 {
		ax += len(a)
	}
	if ax < 0 || ax >= len(a) {
		return
	}
	split, ok := st.constInts(n, 1)
	if !ok {
		split = n.attr.ints("split")
	}
	if len(split) == 0 {
		if a[ax] < 0 || a[ax]%len(n.out) != 0 {
			return
		}
		for range n.out {
			split = append(split, a[ax]/len(n.out))
		}
	}
	if len(split) != len(n.out) {
		return
	}
	for i, sz := range split {
		out := append([]int(nil), a...)
		out[ax] = sz
		st.set(n, i, out)
	}
}
