package onnx

import (
	"fmt"
)

// More operators of the ONNX node suite outside issue 12's list: index
// scatter/gather variants, OneHot, Compress, EyeLike, Shrink and the
// depth/space rearrangements.

func init() {
	register(buildOneHot, "OneHot")
	register(buildScatterElements, "ScatterElements", "Scatter")
	register(buildCompress, "Compress")
	register(buildEyeLike, "EyeLike")
	register(buildShrink, "Shrink")
	register(buildDepthSpace, "DepthToSpace", "SpaceToDepth")
	register(buildGatherND, "GatherND")
	register(buildScatterND, "ScatterND")
}

func buildOneHot(n *node) (opFunc, error) {
	axis := n.attr.int("axis", -1)
	return func(x *exec, in, out []*Tensor) error {
		idx, depthT, vals := in[0], in[1], in[2]
		depth := int(depthT.scalarF(0))
		if depth <= 0 || vals.Len() != 2 {
			return fmt.Errorf("depth %d and %d values", depth, vals.Len())
		}
		r := len(idx.Shape) + 1
		ax := axis
		if ax < 0 {
			ax += r
		}
		if ax < 0 || ax >= r {
			return fmt.Errorf("axis %d out of range for rank %d", axis, r)
		}
		shape := append(append(append(x.ints(0, 0), idx.Shape[:ax]...), depth), idx.Shape[ax:]...)
		x.i[0] = shape
		if err := x.checkSize(shape); err != nil {
			return err
		}
		out[0].set(vals.DType, shape)
		outer, inner := numel(idx.Shape[:ax]), numel(idx.Shape[ax:])
		for o := 0; o < outer; o++ {
			for d := 0; d < depth; d++ {
				for i := 0; i < inner; i++ {
					k := int(idx.scalarF(o*inner + i))
					if k < 0 {
						k += depth
					}
					pick := 0
					if k == d {
						pick = 1
					}
					copyRange(out[0], (o*depth+d)*inner+i, vals, pick, 1)
				}
			}
		}
		return nil
	}, nil
}

// reduceInto combines v into dst[j] by reduction (none, add, mul, max, min).
func reduceInto(dst *Tensor, j int, src *Tensor, i int, reduction string) {
	if reduction == "none" || reduction == "" {
		copyRange(dst, j, src, i, 1)
		return
	}
	a, b := dst.scalarF(j), src.scalarF(i)
	switch reduction {
	case "add":
		a += b
	case "mul":
		a *= b
	case "max":
		a = max(a, b)
	case "min":
		a = min(a, b)
	}
	if dst.DType.isFloat() {
		dst.F[j] = float32(a)
	} else {
		dst.I[j] = int64(a)
	}
}

func buildScatterElements(n *node) (opFunc, error) {
	axis := n.attr.int("axis", 0)
	reduction := n.attr.str("reduction", "none")
	return func(x *exec, in, out []*Tensor) error {
		a, idx, upd := in[0], in[1], in[2]
		r := len(a.Shape)
		ax, err := normAxis(axis, r)
		if err != nil {
			return err
		}
		if len(idx.Shape) != r || !sameShape(idx.Shape, upd.Shape) {
			return fmt.Errorf("indices %v and updates %v for data %v", idx.Shape, upd.Shape, a.Shape)
		}
		out[0].copyFrom(a)
		st := strides(x.ints(0, r), a.Shape)
		var bad error
		forEachIndex(x.ints(1, r), idx.Shape, func(o int, pos []int) {
			k := int(idx.I[o])
			if k < 0 {
				k += a.Shape[ax]
			}
			if k < 0 || k >= a.Shape[ax] {
				bad = fmt.Errorf("index %d out of range for axis %d", idx.I[o], ax)
				return
			}
			j := 0
			for d, v := range pos {
				if d == ax {
					v = k
				}
				j += v * st[d]
			}
			reduceInto(out[0], j, upd, o, reduction)
		})
		return bad
	}, nil
}

func buildCompress(n *node) (opFunc, error) {
	hasAxis := n.attr.has("axis")
	axis := n.attr.int("axis", 0)
	return func(x *exec, in, out []*Tensor) error {
		a, cond := in[0], in[1]
		if !hasAxis {
			var keep []int
			for i := 0; i < min(cond.Len(), a.Len()); i++ {
				if cond.I[i] != 0 {
					keep = append(keep, i)
				}
			}
			out[0].set(a.DType, []int{len(keep)})
			for o, i := range keep {
				copyRange(out[0], o, a, i, 1)
			}
			return nil
		}
		ax, err := normAxis(axis, len(a.Shape))
		if err != nil {
			return err
		}
		var keep []int
		for i := 0; i < min(cond.Len(), a.Shape[ax]); i++ {
			if cond.I[i] != 0 {
				keep = append(keep, i)
			}
		}
		shape := append([]int(nil), a.Shape...)
		shape[ax] = len(keep)
		out[0].set(a.DType, shape)
		outer, inner := numel(a.Shape[:ax]), numel(a.Shape[ax+1:])
		for o := 0; o < outer; o++ {
			for j, k := range keep {
				copyRange(out[0], (o*len(keep)+j)*inner, a, (o*a.Shape[ax]+k)*inner, inner)
			}
		}
		return nil
	}, nil
}

func buildEyeLike(n *node) (opFunc, error) {
	k := n.attr.int("k", 0)
	dt := DType(n.attr.int("dtype", 0))
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		if len(a.Shape) != 2 {
			return fmt.Errorf("input %v is not a matrix", a.Shape)
		}
		t := dt
		if t == 0 {
			t = a.DType
		}
		out[0].set(t, a.Shape)
		clear(out[0].F)
		clear(out[0].I)
		for i := 0; i < a.Shape[0]; i++ {
			if j := i + k; j >= 0 && j < a.Shape[1] {
				if t.isFloat() {
					out[0].F[i*a.Shape[1]+j] = 1
				} else {
					out[0].I[i*a.Shape[1]+j] = 1
				}
			}
		}
		return nil
	}, nil
}

func buildShrink(n *node) (opFunc, error) {
	lambd, bias := n.attr.float("lambd", 0.5), n.attr.float("bias", 0)
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		out[0].set(a.DType, a.Shape)
		for i := 0; i < a.Len(); i++ {
			v := float32(a.scalarF(i))
			var r float32
			switch {
			case v < -lambd:
				r = v + bias
			case v > lambd:
				r = v - bias
			}
			if a.DType.isFloat() {
				out[0].F[i] = r
			} else {
				out[0].I[i] = int64(r)
			}
		}
		return nil
	}, nil
}

// buildDepthSpace rearranges NCHW blocks as a reshape to 6-d, a
// transpose and a reshape back.
func buildDepthSpace(n *node) (opFunc, error) {
	b := n.attr.int("blocksize", 0)
	if b <= 0 {
		return nil, fmt.Errorf("blocksize %d", b)
	}
	toSpace, crd := n.op == "DepthToSpace", n.attr.str("mode", "DCR") == "CRD"
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		if len(a.Shape) != 4 {
			return fmt.Errorf("input %v is not NCHW", a.Shape)
		}
		N, C, H, W := a.Shape[0], a.Shape[1], a.Shape[2], a.Shape[3]
		var six, perm, final []int
		switch {
		case toSpace && C%(b*b) != 0:
			return fmt.Errorf("%d channels for blocksize %d", C, b)
		case toSpace && crd:
			six, perm = []int{N, C / (b * b), b, b, H, W}, []int{0, 1, 4, 2, 5, 3}
		case toSpace:
			six, perm = []int{N, b, b, C / (b * b), H, W}, []int{0, 3, 4, 1, 5, 2}
		case H%b != 0 || W%b != 0:
			return fmt.Errorf("spatial size %dx%d for blocksize %d", H, W, b)
		default:
			six, perm = []int{N, C, H / b, b, W / b, b}, []int{0, 3, 5, 1, 2, 4}
		}
		if toSpace {
			final = []int{N, C / (b * b), H * b, W * b}
		} else {
			final = []int{N, C * b * b, H / b, W / b}
		}
		src := strides(x.ints(0, 6), six)
		shape, st := x.ints(1, 6), x.ints(2, 6)
		for i, d := range perm {
			shape[i], st[i] = six[d], src[d]
		}
		out[0].set(a.DType, shape)
		stridedCopy(&x.bp, out[0], a, 0, shape, st)
		out[0].Shape = append(out[0].Shape[:0], final...)
		return nil
	}, nil
}

// ndIndex resolves the index tuple at row r of an [.., k] indices tensor
// against dims, returning the flat offset in units of the slice size.
func ndIndex(idx *Tensor, r, k int, dims []int) (int, error) {
	off := 0
	for j := 0; j < k; j++ {
		v := int(idx.I[r*k+j])
		if v < 0 {
			v += dims[j]
		}
		if v < 0 || v >= dims[j] {
			return 0, fmt.Errorf("index %d out of range for a dimension of %d", idx.I[r*k+j], dims[j])
		}
		off = off*dims[j] + v
	}
	return off, nil
}

func buildGatherND(n *node) (opFunc, error) {
	bd := n.attr.int("batch_dims", 0)
	return func(x *exec, in, out []*Tensor) error {
		a, idx := in[0], in[1]
		if len(idx.Shape) < 1 || bd >= len(idx.Shape) || bd >= len(a.Shape) {
			return fmt.Errorf("indices %v for data %v with batch_dims %d", idx.Shape, a.Shape, bd)
		}
		k := idx.Shape[len(idx.Shape)-1]
		if bd+k > len(a.Shape) {
			return fmt.Errorf("index tuples of %d for data %v", k, a.Shape)
		}
		batch := numel(a.Shape[:bd])
		slice := numel(a.Shape[bd+k:])
		per := numel(idx.Shape[bd : len(idx.Shape)-1])
		shape := append(append(x.ints(0, 0), idx.Shape[:len(idx.Shape)-1]...), a.Shape[bd+k:]...)
		x.i[0] = shape
		out[0].set(a.DType, shape)
		dataPer := numel(a.Shape[bd:])
		for b := 0; b < batch; b++ {
			for r := 0; r < per; r++ {
				off, err := ndIndex(idx, b*per+r, k, a.Shape[bd:bd+k])
				if err != nil {
					return err
				}
				copyRange(out[0], (b*per+r)*slice, a, b*dataPer+off*slice, slice)
			}
		}
		return nil
	}, nil
}

func buildScatterND(n *node) (opFunc, error) {
	reduction := n.attr.str("reduction", "none")
	return func(x *exec, in, out []*Tensor) error {
		a, idx, upd := in[0], in[1], in[2]
		if len(idx.Shape) < 1 {
			return fmt.Errorf("indices %v", idx.Shape)
		}
		k := idx.Shape[len(idx.Shape)-1]
		if k > len(a.Shape) {
			return fmt.Errorf("index tuples of %d for data %v", k, a.Shape)
		}
		out[0].copyFrom(a)
		slice := numel(a.Shape[k:])
		rows := numel(idx.Shape[:len(idx.Shape)-1])
		if upd.Len() != rows*slice {
			return fmt.Errorf("updates %v for %d index tuples of slices of %d", upd.Shape, rows, slice)
		}
		for r := 0; r < rows; r++ {
			off, err := ndIndex(idx, r, k, a.Shape[:k])
			if err != nil {
				return err
			}
			for i := 0; i < slice; i++ {
				reduceInto(out[0], off*slice+i, upd, r*slice+i, reduction)
			}
		}
		return nil
	}, nil
}
