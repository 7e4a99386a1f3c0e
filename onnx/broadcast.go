package onnx

import "fmt"

// broadcastShape returns the numpy-style broadcast of shapes.
func broadcastShape(dst []int, shapes ...[]int) ([]int, error) {
	rank := 0
	for _, s := range shapes {
		rank = max(rank, len(s))
	}
	dst = dst[:0]
	for i := 0; i < rank; i++ {
		d := 1
		for _, s := range shapes {
			j := i - (rank - len(s))
			if j < 0 || s[j] == 1 {
				continue
			}
			if d != 1 && d != s[j] {
				// A copy, so that shapes itself does not escape to the heap.
				return nil, fmt.Errorf("shapes %v do not broadcast", append([][]int(nil), shapes...))
			}
			d = s[j]
		}
		dst = append(dst, d)
	}
	return dst, nil
}

// bstrides returns the strides of shape s aligned right to rank dims, with
// 0 where s broadcasts.
func bstrides(dst []int, s []int, rank int) []int {
	dst = dst[:0]
	for range rank {
		dst = append(dst, 0)
	}
	st := 1
	for i := len(s) - 1; i >= 0; i-- {
		j := i + rank - len(s)
		if s[i] != 1 {
			dst[j] = st
		}
		st *= s[i]
	}
	return dst
}

// rowsBroadcast calls fn once per innermost row of the output shape out,
// with the offsets of the row in the output and in each of the inputs
// whose broadcast strides are given, plus the row length and the inputs'
// inner strides (0 or 1 for a broadcast or contiguous axis).
// offs and idx are scratch.
func rowsBroadcast(out []int, st [][]int, offs, idx []int, fn func(o int, offs []int, n int)) {
	r := len(out)
	if r == 0 {
		for k := range offs {
			offs[k] = 0
		}
		fn(0, offs, 1)
		return
	}
	n := out[r-1]
	total := numel(out)
	if total == 0 {
		return
	}
	for i := range idx[:r] {
		idx[i] = 0
	}
	for k := range offs {
		offs[k] = 0
	}
	for o := 0; o < total; o += n {
		fn(o, offs, n)
		// advance the outer counter
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			for k := range offs {
				offs[k] += st[k][d]
			}
			if idx[d] < out[d] {
				break
			}
			for k := range offs {
				offs[k] -= st[k][d] * out[d]
			}
			idx[d] = 0
		}
	}
}

// bcastPlan is the scratch a broadcasting op keeps between calls.
type bcastPlan struct {
	shape []int
	st    [][]int
	offs  []int
	idx   []int
}

// plan computes the output shape and strides for ins.
func (p *bcastPlan) plan(ins ...*Tensor) error {
	shapes := make([][]int, 0, 3)
	for _, t := range ins {
		shapes = append(shapes, t.Shape)
	}
	var err error
	if p.shape, err = broadcastShape(p.shape, shapes...); err != nil {
		return err
	}
	for len(p.st) < len(ins) {
		p.st = append(p.st, nil)
	}
	p.st = p.st[:len(ins)]
	for k, t := range ins {
		p.st[k] = bstrides(p.st[k], t.Shape, len(p.shape))
	}
	if cap(p.offs) < len(ins) {
		p.offs = make([]int, len(ins))
	}
	p.offs = p.offs[:len(ins)]
	if cap(p.idx) < len(p.shape) {
		p.idx = make([]int, len(p.shape))
	}
	p.idx = p.idx[:len(p.shape)]
	return nil
}

func (p *bcastPlan) rows(fn func(o int, offs []int, n int)) {
	rowsBroadcast(p.shape, p.st, p.offs, p.idx, fn)
}

// inner returns the innermost stride of input k (0 or 1).
func (p *bcastPlan) inner(k int) int {
	if len(p.shape) == 0 {
		return 0
	}
	return p.st[k][len(p.shape)-1]
}
