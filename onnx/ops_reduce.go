package onnx

import (
	"fmt"
	"math"
	"sort"

	"github.com/shenml/shen/internal/kernel"
)

func init() {
	register(buildReduce, "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd",
		"ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare")
	register(buildSoftmax, "Softmax", "LogSoftmax")
	register(buildArgMax, "ArgMax", "ArgMin")
	register(buildTopK, "TopK")
}

// reduceAxesFromInput reports whether the op takes axes as an input at this opset.
func reduceAxesFromInput(op string, opset int) bool {
	return (op == "ReduceSum" && opset >= 13) || opset >= 18
}

func buildReduce(n *node) (opFunc, error) {
	op := n.op
	keep := n.attr.int("keepdims", 1) != 0
	noopEmpty := n.attr.int("noop_with_empty_axes", 0) != 0
	attrAxes := n.attr.ints("axes")
	fromInput := reduceAxesFromInput(op, n.opset)
	var run opFunc
	run = func(x *exec, in, out []*Tensor) error {
		a := in[0]
		if !a.DType.isFloat() {
			return reduceInt(x, run, in, out[0])
		}
		axes := attrAxes
		if fromInput {
			axes, _ = intsInput(x, 0, get(in, 1))
		}
		r := len(a.Shape)
		if len(axes) == 0 && noopEmpty {
			out[0].copyFrom(a)
			return nil
		}
		red := x.ints(1, r) // 1 on reduced axes
		for i := range red {
			red[i] = 0
			if len(axes) == 0 {
				red[i] = 1
			}
		}
		for _, ax := range axes {
			ax, err := normAxis(ax, r)
			if err != nil {
				return err
			}
			red[ax] = 1
		}
		full, shape := x.ints(2, r), x.ints(3, 0) // output shape with kept dims, final shape
		count := 1
		for i, d := range a.Shape {
			full[i] = d
			if red[i] == 1 {
				full[i] = 1
				count *= d
			}
			if red[i] == 0 || keep {
				shape = append(shape, full[i])
			}
		}
		x.i[3] = shape
		acc := x.tensor(0)
		acc.set(Float, full)
		init := float32(0)
		switch op {
		case "ReduceMax":
			init = float32(math.Inf(-1))
		case "ReduceMin":
			init = float32(math.Inf(1))
		case "ReduceProd":
			init = 1
		}
		for i := range acc.F {
			acc.F[i] = init
		}
		st := bstrides(x.ints(4, 0), full, r)
		x.i[4] = st
		p := &x.bp
		p.shape = append(p.shape[:0], a.Shape...)
		p.st = append(p.st[:0], st)
		p.offs = append(p.offs[:0], 0)
		if cap(p.idx) < r {
			p.idx = make([]int, r)
		}
		p.idx = p.idx[:r]
		p.rows(func(o int, offs []int, n int) {
			s := p.inner(0)
			accumulate(op, acc.F, offs[0], s, a.F[o:o+n])
		})
		finishReduce(op, acc.F, count)
		out[0].set(a.DType, shape)
		copy(out[0].F, acc.F)
		return nil
	}
	return run, nil
}

// accumulate folds row into acc[j], acc[j+s], ... (s is 0 when the inner
// axis is reduced).
func accumulate(op string, acc []float32, j, s int, row []float32) {
	if s == 0 {
		switch op {
		case "ReduceSum", "ReduceMean":
			acc[j] += kernel.Sum(row)
			return
		}
	}
	for _, v := range row {
		a := acc[j]
		switch op {
		case "ReduceSum", "ReduceMean", "ReduceLogSum":
			a += v
		case "ReduceMax":
			if v > a || v != v {
				a = v
			}
		case "ReduceMin":
			if v < a || v != v {
				a = v
			}
		case "ReduceProd":
			a *= v
		case "ReduceL1":
			a += float32(math.Abs(float64(v)))
		case "ReduceL2", "ReduceSumSquare":
			a += v * v
		case "ReduceLogSumExp":
			a += float32(math.Exp(float64(v)))
		}
		acc[j] = a
		j += s
	}
}

func finishReduce(op string, acc []float32, count int) {
	for i, v := range acc {
		switch op {
		case "ReduceMean":
			v /= float32(count)
		case "ReduceL2":
			v = float32(math.Sqrt(float64(v)))
		case "ReduceLogSum", "ReduceLogSumExp":
			v = float32(math.Log(float64(v)))
		}
		acc[i] = v
	}
}

// reduceInt runs the float reduction run on an integer tensor (shape
// arithmetic), exact while the values stay within float32's 2^24.
func reduceInt(x *exec, run opFunc, in []*Tensor, out *Tensor) error {
	a := in[0]
	for _, v := range a.I {
		if v > 1<<24 || v < -(1<<24) {
			return fmt.Errorf("integer reduction of values past 2^24 is not supported")
		}
	}
	f, r := x.tensor(1), x.tensor(2)
	if err := castTo(a, f, Float); err != nil {
		return err
	}
	fin := append([]*Tensor{f}, in[1:]...)
	if err := run(x, fin, []*Tensor{r}); err != nil {
		return err
	}
	for i, v := range r.F {
		r.F[i] = float32(math.Round(float64(v)))
	}
	return castTo(r, out, a.DType)
}

// softmaxGeom returns outer, axis length and inner sizes of a softmax:
// before opset 13 the input is flattened to 2-D at axis.
func softmaxGeom(shape []int, axis, opset int) (int, int, int, error) {
	r := len(shape)
	if axis < 0 {
		axis += r
	}
	if axis < 0 || axis >= max(r, 1) {
		return 0, 0, 0, fmt.Errorf("axis out of range for shape %v", shape)
	}
	if opset < 13 {
		return numel(shape[:axis]), numel(shape[axis:]), 1, nil
	}
	return numel(shape[:axis]), shape[axis], numel(shape[axis+1:]), nil
}

func buildSoftmax(n *node) (opFunc, error) {
	def := 1
	if n.opset >= 13 {
		def = -1
	}
	axis := n.attr.int("axis", def)
	logsm := n.op == "LogSoftmax"
	opset := n.opset
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		outer, d, inner, err := softmaxGeom(a.Shape, axis, opset)
		if err != nil {
			return err
		}
		out[0].set(Float, a.Shape)
		row := func(dst, src []float32) {
			if logsm {
				kernel.LogSoftmaxRow(dst, src)
			} else {
				kernel.SoftmaxRow(dst, src)
			}
		}
		if inner == 1 {
			for o := 0; o < outer; o++ {
				row(out[0].F[o*d:(o+1)*d], a.F[o*d:(o+1)*d])
			}
			return nil
		}
		src, dst := x.floats(0, d), x.floats(1, d)
		for o := 0; o < outer; o++ {
			for i := 0; i < inner; i++ {
				base := o*d*inner + i
				for k := 0; k < d; k++ {
					src[k] = a.F[base+k*inner]
				}
				row(dst, src)
				for k := 0; k < d; k++ {
					out[0].F[base+k*inner] = dst[k]
				}
			}
		}
		return nil
	}, nil
}

func buildArgMax(n *node) (opFunc, error) {
	axis := n.attr.int("axis", 0)
	keep := n.attr.int("keepdims", 1) != 0
	last := n.attr.int("select_last_index", 0) != 0
	isMax := n.op == "ArgMax"
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		ax, err := normAxis(axis, len(a.Shape))
		if err != nil {
			return err
		}
		outer, d, inner := numel(a.Shape[:ax]), a.Shape[ax], numel(a.Shape[ax+1:])
		shape := append(x.ints(0, 0), a.Shape[:ax]...)
		if keep {
			shape = append(shape, 1)
		}
		shape = append(shape, a.Shape[ax+1:]...)
		x.i[0] = shape
		out[0].set(Int64, shape)
		for o := 0; o < outer; o++ {
			for i := 0; i < inner; i++ {
				best, bi := 0.0, 0
				for k := 0; k < d; k++ {
					v := a.scalarF((o*d+k)*inner + i)
					better := v > best
					if !isMax {
						better = v < best
					}
					if k == 0 || better || (last && v == best) {
						best, bi = v, k
					}
				}
				out[0].I[o*inner+i] = int64(bi)
			}
		}
		return nil
	}, nil
}

func buildTopK(n *node) (opFunc, error) {
	axis := n.attr.int("axis", -1)
	attrK := n.attr.int("k", -1)
	largest := n.attr.int("largest", 1) != 0
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		k := attrK
		if t := get(in, 1); t != nil {
			k = int(t.I[0])
		}
		ax, err := normAxis(axis, len(a.Shape))
		if err != nil {
			return err
		}
		outer, d, inner := numel(a.Shape[:ax]), a.Shape[ax], numel(a.Shape[ax+1:])
		if k < 0 || k > d {
			return fmt.Errorf("k=%d for an axis of %d", k, d)
		}
		shape := append(x.ints(0, 0), a.Shape...)
		shape[ax] = k
		x.i[0] = shape
		out[0].set(a.DType, shape)
		out[1].set(Int64, shape)
		order := x.ints(1, d)
		for o := 0; o < outer; o++ {
			for i := 0; i < inner; i++ {
				at := func(j int) float64 { return a.scalarF((o*d+j)*inner + i) }
				for j := range order {
					order[j] = j
				}
				sort.SliceStable(order, func(p, q int) bool {
					if largest {
						return at(order[p]) > at(order[q])
					}
					return at(order[p]) < at(order[q])
				})
				for j := 0; j < k; j++ {
					dst := (o*k+j)*inner + i
					copyRange(out[0], dst, a, (o*d+order[j])*inner+i, 1)
					out[1].I[dst] = int64(order[j])
				}
			}
		}
		return nil
	}, nil
}
