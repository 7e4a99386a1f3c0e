package onnx

import (
	"fmt"
	"math"

	"github.com/shenml/shen/internal/kernel"
)

// Operators beyond issue 12's list that the ONNX node suite exercises
// and that take a few lines each: the two classification losses,
// GatherElements, CumSum and Hardmax.

func init() {
	register(buildNLLLoss, "NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss")
	register(buildGatherElements, "GatherElements")
	register(buildCumSum, "CumSum")
	register(buildHardmax, "Hardmax")
}

// buildNLLLoss is NegativeLogLikelihoodLoss (input already log
// probabilities) and SoftmaxCrossEntropyLoss (scores, LogSoftmax over
// axis 1 first, which it can also output): loss[n,d] =
// -w[t]*logp[n,t,d] with t = target[n,d], zero where t is ignore_index,
// reduced by none, sum or mean (the sum over the weights of the kept
// targets).
func buildNLLLoss(n *node) (opFunc, error) {
	reduction := n.attr.str("reduction", "mean")
	if reduction != "none" && reduction != "sum" && reduction != "mean" {
		return nil, fmt.Errorf("reduction %q", reduction)
	}
	hasIgnore := n.attr.has("ignore_index")
	ignore := int64(n.attr.int("ignore_index", 0))
	softmax := n.op == "SoftmaxCrossEntropyLoss"
	return func(x *exec, in, out []*Tensor) error {
		a, target, weight := in[0], in[1], get(in, 2)
		if len(a.Shape) < 2 || len(target.Shape) != len(a.Shape)-1 {
			return fmt.Errorf("input %v and target %v", a.Shape, target.Shape)
		}
		nb, c, inner := a.Shape[0], a.Shape[1], numel(a.Shape[2:])
		logp := a
		if softmax {
			logp = x.tensor(0)
			logp.set(Float, a.Shape)
			logSoftmaxAxis1(x, a.F, logp.F, nb, c, inner)
			if len(out) > 1 && out[1] != nil {
				out[1].copyFrom(logp)
			}
		}
		losses := x.floats(1, nb*inner)
		var total, wsum float64
		for b := 0; b < nb; b++ {
			for i := 0; i < inner; i++ {
				t := target.I[b*inner+i]
				if hasIgnore && t == ignore {
					losses[b*inner+i] = 0
					continue
				}
				if t < 0 || t >= int64(c) {
					return fmt.Errorf("target %d outside [0, %d)", t, c)
				}
				w := float32(1)
				if weight != nil {
					w = weight.F[t]
				}
				l := -w * logp.F[(b*c+int(t))*inner+i]
				losses[b*inner+i] = l
				total += float64(l)
				wsum += float64(w)
			}
		}
		switch reduction {
		case "none":
			out[0].set(Float, target.Shape)
			copy(out[0].F, losses)
		case "sum":
			out[0].set(Float, nil)
			out[0].F[0] = float32(total)
		default:
			out[0].set(Float, nil)
			out[0].F[0] = float32(total / wsum)
		}
		return nil
	}, nil
}

// logSoftmaxAxis1 is LogSoftmax over axis 1 of an [nb, c, inner] tensor.
func logSoftmaxAxis1(x *exec, src, dst []float32, nb, c, inner int) {
	row, res := x.floats(2, c), x.floats(3, c)
	for b := 0; b < nb; b++ {
		for i := 0; i < inner; i++ {
			for k := 0; k < c; k++ {
				row[k] = src[(b*c+k)*inner+i]
			}
			kernel.LogSoftmaxRow(res, row)
			for k := 0; k < c; k++ {
				dst[(b*c+k)*inner+i] = res[k]
			}
		}
	}
}

func buildGatherElements(n *node) (opFunc, error) {
	axis := n.attr.int("axis", 0)
	return func(x *exec, in, out []*Tensor) error {
		a, idx := in[0], in[1]
		r := len(a.Shape)
		ax, err := normAxis(axis, r)
		if err != nil {
			return err
		}
		if len(idx.Shape) != r {
			return fmt.Errorf("indices %v and data %v differ in rank", idx.Shape, a.Shape)
		}
		out[0].set(a.DType, idx.Shape)
		st := strides(x.ints(0, r), a.Shape)
		var bad error
		forEachIndex(x.ints(1, r), idx.Shape, func(o int, pos []int) {
			k := int(idx.I[o])
			if k < 0 {
				k += a.Shape[ax]
			}
			if k < 0 || k >= a.Shape[ax] {
				bad = fmt.Errorf("index %d out of range for axis %d of size %d", idx.I[o], ax, a.Shape[ax])
				return
			}
			j := 0
			for d, v := range pos {
				if d == ax {
					v = k
				}
				j += v * st[d]
			}
			copyRange(out[0], o, a, j, 1)
		})
		return bad
	}, nil
}

func buildCumSum(n *node) (opFunc, error) {
	exclusive, reverse := n.attr.int("exclusive", 0) != 0, n.attr.int("reverse", 0) != 0
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		ax, err := normAxis(int(in[1].scalarF(0)), len(a.Shape))
		if err != nil {
			return err
		}
		out[0].set(a.DType, a.Shape)
		outer, d, inner := numel(a.Shape[:ax]), a.Shape[ax], numel(a.Shape[ax+1:])
		for o := 0; o < outer; o++ {
			for i := 0; i < inner; i++ {
				var acc float64
				for s := 0; s < d; s++ {
					k := s
					if reverse {
						k = d - 1 - s
					}
					j := (o*d+k)*inner + i
					v := a.scalarF(j)
					if !exclusive {
						acc += v
					}
					if a.DType.isFloat() {
						out[0].F[j] = float32(acc)
					} else {
						out[0].I[j] = int64(acc)
					}
					if exclusive {
						acc += v
					}
				}
			}
		}
		return nil
	}, nil
}

func buildHardmax(n *node) (opFunc, error) {
	def := 1
	if n.opset >= 13 {
		def = -1
	}
	axis := n.attr.int("axis", def)
	opset := n.opset
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		outer, d, inner, err := softmaxGeom(a.Shape, axis, opset)
		if err != nil {
			return err
		}
		out[0].set(Float, a.Shape)
		clear(out[0].F)
		for o := 0; o < outer; o++ {
			for i := 0; i < inner; i++ {
				best, bi := float32(math.Inf(-1)), 0
				for k := 0; k < d; k++ {
					if v := a.F[(o*d+k)*inner+i]; v > best {
						best, bi = v, k
					}
				}
				out[0].F[(o*d+bi)*inner+i] = 1
			}
		}
		return nil
	}, nil
}
