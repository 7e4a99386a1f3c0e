package onnx

import (
	"fmt"
	"math"
)

func init() {
	register(buildReshape, "Reshape")
	register(buildFlatten, "Flatten")
	register(buildTranspose, "Transpose")
	register(buildSqueeze, "Squeeze", "Unsqueeze")
	register(buildConcat, "Concat")
	register(buildSplit, "Split")
	register(buildSlice, "Slice")
	register(buildGather, "Gather")
	register(buildShape, "Shape", "Size")
	register(buildConstant, "Constant")
	register(buildConstantOfShape, "ConstantOfShape")
	register(buildExpand, "Expand")
	register(buildTile, "Tile")
	register(buildPad, "Pad")
	register(buildRange, "Range")
}

// stridedCopy writes into dst (already set to shape) the elements of src
// found at base + sum(idx[d]*st[d]).
func stridedCopy(p *bcastPlan, dst, src *Tensor, base int, shape, st []int) {
	p.shape = append(p.shape[:0], shape...)
	if len(p.st) < 1 {
		p.st = append(p.st, nil)
	}
	p.st = p.st[:1]
	p.st[0] = append(p.st[0][:0], st...)
	if cap(p.offs) < 1 {
		p.offs = make([]int, 1)
	}
	p.offs = p.offs[:1]
	if cap(p.idx) < len(shape) {
		p.idx = make([]int, len(shape))
	}
	p.idx = p.idx[:len(shape)]
	s := 0
	if len(shape) > 0 {
		s = st[len(shape)-1]
	}
	p.rows(func(o int, offs []int, n int) {
		j := base + offs[0]
		if src.DType.isFloat() {
			d := dst.F[o : o+n]
			if s == 1 {
				copy(d, src.F[j:j+n])
				return
			}
			for i := range d {
				d[i] = src.F[j]
				j += s
			}
			return
		}
		d := dst.I[o : o+n]
		for i := range d {
			d[i] = src.I[j]
			j += s
		}
	})
}

// copyRange copies n elements of src from si to dst at di.
func copyRange(dst *Tensor, di int, src *Tensor, si, n int) {
	if src.DType.isFloat() {
		copy(dst.F[di:di+n], src.F[si:si+n])
	} else {
		copy(dst.I[di:di+n], src.I[si:si+n])
	}
}

// intsInput returns an int64 input (shape, axes, pads, ...) as ints in
// scratch k; ok is false when the input is absent.
func intsInput(x *exec, k int, t *Tensor) ([]int, bool) {
	if t == nil {
		return nil, false
	}
	if t.DType.isFloat() {
		out := x.ints(k, len(t.F))
		for i, v := range t.F {
			out[i] = int(v)
		}
		return out, true
	}
	out := x.ints(k, len(t.I))
	for i, v := range t.I {
		out[i] = int(v)
	}
	return out, true
}

func buildReshape(n *node) (opFunc, error) {
	allowZero := n.attr.int("allowzero", 0) != 0
	attrShape := n.attr.ints("shape") // opset < 5
	return func(x *exec, in, out []*Tensor) error {
		shape, ok := intsInput(x, 0, get(in, 1))
		if !ok {
			shape = append(x.ints(0, 0), attrShape...)
		}
		shape, err := reshapeDims(shape, in[0].Shape, allowZero)
		if err != nil {
			return err
		}
		out[0].alias(in[0], shape)
		return nil
	}, nil
}

// reshapeDims resolves 0 (copy) and -1 (infer) entries of shape for data
// of shape from, in place.
func reshapeDims(shape, from []int, allowZero bool) ([]int, error) {
	total, known, infer := numel(from), 1, -1
	for i, d := range shape {
		switch {
		case d == 0 && !allowZero:
			if i >= len(from) {
				return nil, fmt.Errorf("shape %v copies dimension %d of %v", shape, i, from)
			}
			shape[i] = from[i]
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has more than one -1", shape)
			}
			infer = i
			continue
		case d < 0:
			return nil, fmt.Errorf("shape %v has a negative dimension", shape)
		}
		known *= shape[i]
	}
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v into %v", from, shape)
		}
		shape[infer] = total / known
	} else if known != total {
		return nil, fmt.Errorf("cannot reshape %v (%d elements) into %v", from, total, shape)
	}
	return shape, nil
}

func get(in []*Tensor, i int) *Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}

func buildFlatten(n *node) (opFunc, error) {
	axis := n.attr.int("axis", 1)
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		ax := axis
		if ax < 0 {
			ax += len(a.Shape)
		}
		if ax < 0 || ax > len(a.Shape) {
			return fmt.Errorf("axis %d out of range for %v", axis, a.Shape)
		}
		shape := x.ints(0, 2)
		shape[0], shape[1] = numel(a.Shape[:ax]), numel(a.Shape[ax:])
		out[0].alias(a, shape)
		return nil
	}, nil
}

func buildTranspose(n *node) (opFunc, error) {
	perm := n.attr.ints("perm")
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		r := len(a.Shape)
		p := perm
		if p == nil {
			p = x.ints(0, r)
			for i := range p {
				p[i] = r - 1 - i
			}
		}
		if len(p) != r {
			return fmt.Errorf("perm %v for rank %d", p, r)
		}
		src := strides(x.ints(1, r), a.Shape)
		shape, st := x.ints(2, r), x.ints(3, r)
		for i, d := range p {
			if d < 0 || d >= r {
				return fmt.Errorf("perm %v out of range", p)
			}
			shape[i], st[i] = a.Shape[d], src[d]
		}
		out[0].set(a.DType, shape)
		stridedCopy(&x.bp, out[0], a, 0, shape, st)
		return nil
	}, nil
}

func buildSqueeze(n *node) (opFunc, error) {
	attrAxes := n.attr.ints("axes")
	unsq := n.op == "Unsqueeze"
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		axes, ok := intsInput(x, 0, get(in, 1))
		if !ok {
			axes = attrAxes
		}
		var shape []int
		if unsq {
			r := len(a.Shape) + len(axes)
			mark := x.ints(1, r)
			for i := range mark {
				mark[i] = 0
			}
			for _, ax := range axes {
				ax, err := normAxis(ax, r)
				if err != nil {
					return err
				}
				mark[ax] = 1
			}
			shape = x.ints(2, 0)
			j := 0
			for i := 0; i < r; i++ {
				if mark[i] == 1 {
					shape = append(shape, 1)
				} else if j < len(a.Shape) {
					shape = append(shape, a.Shape[j])
					j++
				}
			}
			if len(shape) != r {
				return fmt.Errorf("repeated axes %v", axes)
			}
		} else {
			r := len(a.Shape)
			mark := x.ints(1, r)
			for i := range mark {
				mark[i] = 0
				if len(axes) == 0 && a.Shape[i] == 1 {
					mark[i] = 1
				}
			}
			for _, ax := range axes {
				ax, err := normAxis(ax, r)
				if err != nil {
					return err
				}
				if a.Shape[ax] != 1 {
					return fmt.Errorf("cannot squeeze axis %d of shape %v", ax, a.Shape)
				}
				mark[ax] = 1
			}
			shape = x.ints(2, 0)
			for i, d := range a.Shape {
				if mark[i] == 0 {
					shape = append(shape, d)
				}
			}
		}
		x.i[2] = shape
		out[0].alias(a, shape)
		return nil
	}, nil
}

func buildConcat(n *node) (opFunc, error) {
	axis := n.attr.int("axis", 0)
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		ax, err := normAxis(axis, len(a.Shape))
		if err != nil {
			return err
		}
		shape := append(x.ints(0, 0), a.Shape...)
		shape[ax] = 0
		for _, t := range in {
			if len(t.Shape) != len(shape) {
				return fmt.Errorf("inputs of ranks %d and %d", len(a.Shape), len(t.Shape))
			}
			for d := range shape {
				if d != ax && t.Shape[d] != a.Shape[d] {
					return fmt.Errorf("shapes %v and %v differ off axis %d", a.Shape, t.Shape, ax)
				}
			}
			shape[ax] += t.Shape[ax]
		}
		x.i[0] = shape
		out[0].set(a.DType, shape)
		outer, inner := numel(shape[:ax]), numel(shape[ax+1:])
		row := shape[ax] * inner
		off := 0
		for _, t := range in {
			w := t.Shape[ax] * inner
			for o := 0; o < outer; o++ {
				copyRange(out[0], o*row+off, t, o*w, w)
			}
			off += w
		}
		return nil
	}, nil
}

func buildSplit(n *node) (opFunc, error) {
	axis := n.attr.int("axis", 0)
	attrSplit := n.attr.ints("split")
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		ax, err := normAxis(axis, len(a.Shape))
		if err != nil {
			return err
		}
		split, ok := intsInput(x, 0, get(in, 1))
		if !ok {
			split = attrSplit
		}
		if len(split) == 0 {
			split = x.ints(0, len(out))
			d := a.Shape[ax]
			chunk := (d + len(out) - 1) / len(out)
			for i := range split {
				split[i] = max(0, min(chunk, d-i*chunk))
			}
		}
		if len(split) != len(out) {
			return fmt.Errorf("%d split sizes for %d outputs", len(split), len(out))
		}
		total := 0
		for _, s := range split {
			total += s
		}
		if total != a.Shape[ax] {
			return fmt.Errorf("split %v does not sum to dimension %d of %v", split, ax, a.Shape)
		}
		outer, inner := numel(a.Shape[:ax]), numel(a.Shape[ax+1:])
		row := a.Shape[ax] * inner
		shape := append(x.ints(1, 0), a.Shape...)
		off := 0
		for k, s := range split {
			shape[ax] = s
			out[k].set(a.DType, shape)
			w := s * inner
			for o := 0; o < outer; o++ {
				copyRange(out[k], o*w, a, o*row+off, w)
			}
			off += w
		}
		return nil
	}, nil
}

func buildSlice(n *node) (opFunc, error) {
	aStarts, aEnds, aAxes := n.attr.ints("starts"), n.attr.ints("ends"), n.attr.ints("axes")
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		r := len(a.Shape)
		starts, ok := intsInput(x, 0, get(in, 1))
		if !ok {
			starts = aStarts
		}
		ends, ok := intsInput(x, 1, get(in, 2))
		if !ok {
			ends = aEnds
		}
		axes, ok := intsInput(x, 2, get(in, 3))
		if !ok {
			axes = aAxes
		}
		steps, _ := intsInput(x, 3, get(in, 4))
		if len(starts) != len(ends) || (axes != nil && len(axes) != len(starts)) || (steps != nil && len(steps) != len(starts)) {
			return fmt.Errorf("starts, ends, axes and steps differ in length")
		}
		shape, st := append(x.ints(4, 0), a.Shape...), x.ints(5, r)
		src := strides(x.ints(6, r), a.Shape)
		copy(st, src)
		base := 0
		for i := range starts {
			ax := i
			if axes != nil {
				var err error
				if ax, err = normAxis(axes[i], r); err != nil {
					return err
				}
			}
			step := 1
			if steps != nil {
				step = steps[i]
			}
			if step == 0 {
				return fmt.Errorf("slice step 0")
			}
			lo, cnt := sliceRange(starts[i], ends[i], step, a.Shape[ax])
			shape[ax] = cnt
			base += lo * src[ax]
			st[ax] = step * src[ax]
		}
		x.i[4] = shape
		out[0].set(a.DType, shape)
		stridedCopy(&x.bp, out[0], a, base, shape, st)
		return nil
	}, nil
}

// sliceRange clamps a numpy-style slice of a dimension of size d and
// returns its first index and element count.
func sliceRange(start, end, step, d int) (int, int) {
	if start < 0 {
		start += d
	}
	if end < 0 {
		end += d
	}
	if step > 0 {
		start, end = max(0, min(start, d)), max(0, min(end, d))
		if end <= start {
			return 0, 0
		}
		return start, (end - start + step - 1) / step
	}
	start, end = max(-1, min(start, d-1)), max(-1, min(end, d-1))
	if start <= end {
		return 0, 0
	}
	return start, (start - end - step - 1) / -step
}

func buildGather(n *node) (opFunc, error) {
	axis := n.attr.int("axis", 0)
	return func(x *exec, in, out []*Tensor) error {
		a, idx := in[0], in[1]
		ax, err := normAxis(axis, len(a.Shape))
		if err != nil {
			return err
		}
		shape := append(append(append(x.ints(0, 0), a.Shape[:ax]...), idx.Shape...), a.Shape[ax+1:]...)
		x.i[0] = shape
		out[0].set(a.DType, shape)
		outer, inner, d := numel(a.Shape[:ax]), numel(a.Shape[ax+1:]), a.Shape[ax]
		ni := idx.Len()
		for o := 0; o < outer; o++ {
			for j := 0; j < ni; j++ {
				k := int(idx.I[j])
				if k < 0 {
					k += d
				}
				if k < 0 || k >= d {
					return fmt.Errorf("index %d out of range for dimension %d of size %d", idx.I[j], ax, d)
				}
				copyRange(out[0], (o*ni+j)*inner, a, (o*d+k)*inner, inner)
			}
		}
		return nil
	}, nil
}

func buildShape(n *node) (opFunc, error) {
	start, end := n.attr.int("start", 0), n.attr.int("end", math.MaxInt32)
	size := n.op == "Size"
	return func(x *exec, in, out []*Tensor) error {
		s := in[0].Shape
		if size {
			out[0].set(Int64, nil)
			out[0].I[0] = int64(numel(s))
			return nil
		}
		r := len(s)
		lo, hi := start, end
		if lo < 0 {
			lo += r
		}
		if hi < 0 {
			hi += r
		}
		lo, hi = max(0, min(lo, r)), max(0, min(hi, r))
		hi = max(hi, lo)
		dims := x.ints(0, 1)
		dims[0] = hi - lo
		out[0].set(Int64, dims)
		for i := lo; i < hi; i++ {
			out[0].I[i-lo] = int64(s[i])
		}
		return nil
	}, nil
}

func buildConstant(n *node) (opFunc, error) {
	var v *Tensor
	switch {
	case n.attr.has("value"):
		var err error
		if v, err = n.attr.tensor("value"); err != nil {
			return nil, err
		}
	case n.attr.has("value_float"):
		v = NewFloat([]float32{n.attr.float("value_float", 0)})
	case n.attr.has("value_floats"):
		f := append([]float32(nil), n.attr.floats("value_floats")...)
		v = NewFloat(f, len(f))
	case n.attr.has("value_int"):
		v = NewInt64([]int64{int64(n.attr.int("value_int", 0))})
	case n.attr.has("value_ints"):
		is := n.attr["value_ints"].Ints
		v = NewInt64(append([]int64(nil), is...), len(is))
	default:
		return nil, fmt.Errorf("no supported value attribute (sparse and string values are not supported)")
	}
	return func(x *exec, in, out []*Tensor) error {
		out[0].copyFrom(v)
		return nil
	}, nil
}

func buildConstantOfShape(n *node) (opFunc, error) {
	v := NewFloat([]float32{0}, 1)
	if n.attr.has("value") {
		var err error
		if v, err = n.attr.tensor("value"); err != nil {
			return nil, err
		}
		if v.Len() != 1 {
			return nil, fmt.Errorf("value has %d elements, want 1", v.Len())
		}
	}
	return func(x *exec, in, out []*Tensor) error {
		shape, _ := intsInput(x, 0, in[0])
		if err := x.checkSize(shape); err != nil {
			return err
		}
		out[0].set(v.DType, shape)
		if v.DType.isFloat() {
			for i := range out[0].F {
				out[0].F[i] = v.F[0]
			}
		} else {
			for i := range out[0].I {
				out[0].I[i] = v.I[0]
			}
		}
		return nil
	}, nil
}

func buildExpand(n *node) (opFunc, error) {
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		to, _ := intsInput(x, 0, in[1])
		shape, err := broadcastShape(x.ints(1, 0), a.Shape, to)
		if err != nil {
			return err
		}
		x.i[1] = shape
		if err := x.checkSize(shape); err != nil {
			return err
		}
		out[0].set(a.DType, shape)
		st := bstrides(x.ints(2, 0), a.Shape, len(shape))
		x.i[2] = st
		stridedCopy(&x.bp, out[0], a, 0, shape, st)
		return nil
	}, nil
}

// forEachIndex calls fn with every multi-index of shape in row-major order.
func forEachIndex(idx, shape []int, fn func(o int, idx []int)) {
	for i := range idx {
		idx[i] = 0
	}
	total := numel(shape)
	for o := 0; o < total; o++ {
		fn(o, idx)
		for d := len(shape) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
}

func buildTile(n *node) (opFunc, error) {
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		reps, _ := intsInput(x, 0, in[1])
		r := len(a.Shape)
		if len(reps) != r {
			return fmt.Errorf("%d repeats for rank %d", len(reps), r)
		}
		shape := x.ints(1, r)
		for i := range shape {
			if reps[i] < 0 {
				return fmt.Errorf("negative repeat %d", reps[i])
			}
			shape[i] = a.Shape[i] * reps[i]
		}
		if err := x.checkSize(shape); err != nil {
			return err
		}
		out[0].set(a.DType, shape)
		src := strides(x.ints(2, r), a.Shape)
		forEachIndex(x.ints(3, r), shape, func(o int, idx []int) {
			j := 0
			for d, v := range idx {
				j += (v % a.Shape[d]) * src[d]
			}
			copyRange(out[0], o, a, j, 1)
		})
		return nil
	}, nil
}

func buildPad(n *node) (opFunc, error) {
	mode := n.attr.str("mode", "constant")
	attrPads := n.attr.ints("pads")
	if attrPads == nil {
		attrPads = n.attr.ints("paddings") // opset 1
	}
	attrValue := n.attr.float("value", 0)
	if mode != "constant" && mode != "reflect" && mode != "edge" {
		return nil, fmt.Errorf("pad mode %q is not supported", mode)
	}
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		r := len(a.Shape)
		pads, ok := intsInput(x, 0, get(in, 1))
		if !ok {
			pads = attrPads
		}
		cv := float64(attrValue)
		if c := get(in, 2); c != nil && c.Len() > 0 {
			cv = c.scalarF(0)
		}
		if axes, ok := intsInput(x, 1, get(in, 3)); ok { // opset 18 axes
			full := x.ints(2, 2*r)
			for i := range full {
				full[i] = 0
			}
			for i, ax := range axes {
				ax, err := normAxis(ax, r)
				if err != nil {
					return err
				}
				full[ax], full[ax+r] = pads[i], pads[i+len(axes)]
			}
			pads = full
		}
		if len(pads) != 2*r {
			return fmt.Errorf("%d pads for rank %d", len(pads), r)
		}
		shape := x.ints(3, r)
		for i := range shape {
			shape[i] = a.Shape[i] + pads[i] + pads[i+r]
			if shape[i] < 0 {
				return fmt.Errorf("pads %v remove more than shape %v", pads, a.Shape)
			}
		}
		if err := x.checkSize(shape); err != nil {
			return err
		}
		out[0].set(a.DType, shape)
		src := strides(x.ints(4, r), a.Shape)
		var bad error
		forEachIndex(x.ints(5, r), shape, func(o int, idx []int) {
			j, inside := 0, true
			for d, v := range idx {
				s := v - pads[d]
				n := a.Shape[d]
				if s < 0 || s >= n {
					inside = false
					switch mode {
					case "edge":
						s = max(0, min(s, n-1))
					case "reflect":
						if n == 1 {
							s = 0
						} else {
							period := 2 * (n - 1)
							s = ((s % period) + period) % period
							if s >= n {
								s = period - s
							}
						}
					}
				}
				j += s * src[d]
			}
			if inside || mode != "constant" {
				if a.Len() == 0 {
					bad = fmt.Errorf("cannot %s-pad an empty tensor", mode)
					return
				}
				copyRange(out[0], o, a, j, 1)
			} else if a.DType.isFloat() {
				out[0].F[o] = float32(cv)
			} else {
				out[0].I[o] = int64(cv)
			}
		})
		return bad
	}, nil
}

func buildRange(n *node) (opFunc, error) {
	return func(x *exec, in, out []*Tensor) error {
		start, limit, delta := in[0].scalarF(0), in[1].scalarF(0), in[2].scalarF(0)
		if delta == 0 {
			return fmt.Errorf("delta is 0")
		}
		cnt := int(max(0, math.Ceil((limit-start)/delta)))
		if int64(cnt) > x.lim.MaxElements {
			return fmt.Errorf("a range of %d elements is over the limit", cnt)
		}
		dims := x.ints(0, 1)
		dims[0] = cnt
		out[0].set(in[0].DType, dims)
		for i := 0; i < cnt; i++ {
			if in[0].DType.isFloat() {
				out[0].F[i] = float32(start + float64(i)*delta)
			} else {
				out[0].I[i] = int64(start) + int64(i)*int64(delta)
			}
		}
		return nil
	}, nil
}

func init() { register(buildTrilu, "Trilu") }

// buildTrilu keeps the upper (or lower) triangle of the last two axes,
// shifted by the optional diagonal offset k.
func buildTrilu(n *node) (opFunc, error) {
	upper := n.attr.int("upper", 1) != 0
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		if len(a.Shape) < 2 {
			return fmt.Errorf("input %v has fewer than 2 axes", a.Shape)
		}
		k := 0
		if t := get(in, 1); t != nil {
			k = int(t.I[0])
		}
		out[0].copyFrom(a)
		r, c := a.Shape[len(a.Shape)-2], a.Shape[len(a.Shape)-1]
		for m := 0; m < numel(a.Shape[:len(a.Shape)-2]); m++ {
			for i := 0; i < r; i++ {
				for j := 0; j < c; j++ {
					keep := j-i >= k
					if !upper {
						keep = j-i <= k
					}
					if !keep {
						o := (m*r+i)*c + j
						if a.DType.isFloat() {
							out[0].F[o] = 0
						} else {
							out[0].I[o] = 0
						}
					}
				}
			}
		}
		return nil
	}, nil
}
