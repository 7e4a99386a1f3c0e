package onnx

import (
	"fmt"
	"math"
	"sort"
)

// LRN, ReverseSequence, Det and Unique: more of the ONNX node suite.

func init() {
	register(buildLRN, "LRN")
	register(buildReverseSequence, "ReverseSequence")
	register(buildDet, "Det")
	register(buildUnique, "Unique")
}

func buildLRN(n *node) (opFunc, error) {
	size := n.attr.int("size", 0)
	if size <= 0 {
		return nil, fmt.Errorf("size %d", size)
	}
	alpha, beta, bias := float64(n.attr.float("alpha", 1e-4)), float64(n.attr.float("beta", 0.75)), float64(n.attr.float("bias", 1))
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		if len(a.Shape) < 2 {
			return fmt.Errorf("input %v has no channel axis", a.Shape)
		}
		nb, c, inner := a.Shape[0], a.Shape[1], numel(a.Shape[2:])
		out[0].set(Float, a.Shape)
		lo, hi := (size-1)/2, (size-1)-(size-1)/2
		for b := 0; b < nb; b++ {
			for ch := 0; ch < c; ch++ {
				for i := 0; i < inner; i++ {
					var ss float64
					for k := max(0, ch-lo); k <= min(c-1, ch+hi); k++ {
						v := float64(a.F[(b*c+k)*inner+i])
						ss += v * v
					}
					j := (b*c+ch)*inner + i
					out[0].F[j] = float32(float64(a.F[j]) / math.Pow(bias+alpha/float64(size)*ss, beta))
				}
			}
		}
		return nil
	}, nil
}

func buildReverseSequence(n *node) (opFunc, error) {
	batchAxis, timeAxis := n.attr.int("batch_axis", 1), n.attr.int("time_axis", 0)
	if (batchAxis != 0 && batchAxis != 1) || (timeAxis != 0 && timeAxis != 1) || batchAxis == timeAxis {
		return nil, fmt.Errorf("batch_axis %d and time_axis %d must be 0 and 1", batchAxis, timeAxis)
	}
	return func(x *exec, in, out []*Tensor) error {
		a, lens := in[0], in[1]
		if len(a.Shape) < 2 {
			return fmt.Errorf("input %v has fewer than 2 axes", a.Shape)
		}
		out[0].copyFrom(a)
		inner := numel(a.Shape[2:])
		nb, nt := a.Shape[batchAxis], a.Shape[timeAxis]
		if lens.Len() != nb {
			return fmt.Errorf("%d sequence lengths for a batch of %d", lens.Len(), nb)
		}
		at := func(b, t int) int {
			if timeAxis == 0 {
				return (t*nb + b) * inner
			}
			return (b*nt + t) * inner
		}
		for b := 0; b < nb; b++ {
			l := int(lens.I[b])
			if l < 0 || l > nt {
				return fmt.Errorf("sequence length %d outside [0, %d]", l, nt)
			}
			for t := 0; t < l; t++ {
				copyRange(out[0], at(b, t), a, at(b, l-1-t), inner)
			}
		}
		return nil
	}, nil
}

// buildDet computes determinants of the trailing square matrices by LU
// decomposition with partial pivoting in float64.
func buildDet(n *node) (opFunc, error) {
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		r := len(a.Shape)
		if r < 2 || a.Shape[r-1] != a.Shape[r-2] {
			return fmt.Errorf("input %v is not a stack of square matrices", a.Shape)
		}
		m := a.Shape[r-1]
		out[0].set(Float, a.Shape[:r-2])
		lu := make([]float64, m*m)
		for k := range out[0].F {
			for i := range lu {
				lu[i] = float64(a.F[k*m*m+i])
			}
			det := 1.0
			for c := 0; c < m; c++ {
				p := c
				for i := c + 1; i < m; i++ {
					if math.Abs(lu[i*m+c]) > math.Abs(lu[p*m+c]) {
						p = i
					}
				}
				if lu[p*m+c] == 0 {
					det = 0
					break
				}
				if p != c {
					for j := 0; j < m; j++ {
						lu[c*m+j], lu[p*m+j] = lu[p*m+j], lu[c*m+j]
					}
					det = -det
				}
				det *= lu[c*m+c]
				for i := c + 1; i < m; i++ {
					f := lu[i*m+c] / lu[c*m+c]
					for j := c; j < m; j++ {
						lu[i*m+j] -= f * lu[c*m+j]
					}
				}
			}
			out[0].F[k] = float32(det)
		}
		return nil
	}, nil
}

// buildUnique finds the distinct elements (or slices along axis) with
// their first indices, the inverse mapping and counts, sorted or in order
// of first appearance.
func buildUnique(n *node) (opFunc, error) {
	hasAxis := n.attr.has("axis")
	axis := n.attr.int("axis", 0)
	sorted := n.attr.int("sorted", 1) != 0
	return func(x *exec, in, outs []*Tensor) error {
		a := in[0]
		shape := a.Shape
		ax := 0
		if !hasAxis {
			shape = []int{a.Len()}
		} else {
			var err error
			if ax, err = normAxis(axis, len(a.Shape)); err != nil {
				return err
			}
		}
		outer, d, inner := numel(shape[:ax]), shape[ax], numel(shape[ax+1:])
		slice := func(k int) []float64 { // the k-th slice along the axis
			v := make([]float64, 0, outer*inner)
			for o := 0; o < outer; o++ {
				for i := 0; i < inner; i++ {
					v = append(v, a.scalarF((o*d+k)*inner+i))
				}
			}
			return v
		}
		less := func(p, q []float64) bool {
			for i := range p {
				if p[i] != q[i] {
					return p[i] < q[i]
				}
			}
			return false
		}
		var uniq [][]float64
		var first, counts []int64
		inverse := make([]int64, d)
		seen := map[string]int{}
		for k := 0; k < d; k++ {
			s := slice(k)
			key := fmt.Sprint(s)
			j, ok := seen[key]
			if !ok {
				j = len(uniq)
				seen[key] = j
				uniq = append(uniq, s)
				first = append(first, int64(k))
				counts = append(counts, 0)
			}
			counts[j]++
			inverse[k] = int64(j)
		}
		order := make([]int, len(uniq))
		for i := range order {
			order[i] = i
		}
		if sorted {
			sort.SliceStable(order, func(i, j int) bool { return less(uniq[order[i]], uniq[order[j]]) })
		}
		rank := make([]int64, len(order))
		for pos, j := range order {
			rank[j] = int64(pos)
		}
		yShape := append([]int(nil), shape...)
		yShape[ax] = len(order)
		y := outs[0]
		y.set(a.DType, yShape)
		for pos, j := range order {
			for o := 0; o < outer; o++ {
				for i := 0; i < inner; i++ {
					v := uniq[j][o*inner+i]
					if a.DType.isFloat() {
						y.F[(o*len(order)+pos)*inner+i] = float32(v)
					} else {
						y.I[(o*len(order)+pos)*inner+i] = int64(v)
					}
				}
			}
		}
		vecs := [][]int64{nil, make([]int64, len(order)), make([]int64, d), make([]int64, len(order))}
		for pos, j := range order {
			vecs[1][pos], vecs[3][pos] = first[j], counts[j]
		}
		for k := range inverse {
			vecs[2][k] = rank[inverse[k]]
		}
		for i := 1; i < len(outs) && i < 4; i++ {
			if outs[i] != nil {
				outs[i].set(Int64, []int{len(vecs[i])})
				copy(outs[i].I, vecs[i])
			}
		}
		return nil
	}, nil
}
