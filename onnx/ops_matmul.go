package onnx

import (
	"fmt"

	"github.com/shenml/shen/internal/kernel"
)

func init() {
	register(buildMatMul, "MatMul")
	register(buildGemm, "Gemm")
}

func buildMatMul(n *node) (opFunc, error) {
	return func(x *exec, in, out []*Tensor) error {
		return matmul(x, in[0], in[1], nil, out[0])
	}, nil
}

// matmul computes numpy matmul(a, b) (+ bias broadcast over the result
// when bias is not nil) into out with one SGEMM per batch entry, or a
// single SGEMM when b is a plain matrix (the weights of a linear layer).
func matmul(x *exec, a, b, bias *Tensor, out *Tensor) error {
	if !a.DType.isFloat() || !b.DType.isFloat() {
		return fmt.Errorf("MatMul of %s and %s is not supported", a.DType, b.DType)
	}
	as, bs := a.Shape, b.Shape
	if len(as) == 0 || len(bs) == 0 {
		return fmt.Errorf("MatMul of a scalar")
	}
	// Promote 1-D operands as numpy does; their unit axes are dropped below.
	if len(as) == 1 {
		as = append(x.ints(0, 0), 1, as[0])
		x.i[0] = as
	}
	if len(bs) == 1 {
		bs = append(x.ints(1, 0), bs[0], 1)
		x.i[1] = bs
	}
	m, k, k2, nn := as[len(as)-2], as[len(as)-1], bs[len(bs)-2], bs[len(bs)-1]
	if k != k2 {
		return fmt.Errorf("MatMul shapes %v and %v do not match", a.Shape, b.Shape)
	}
	batch, err := broadcastShape(x.ints(2, 0), as[:len(as)-2], bs[:len(bs)-2])
	if err != nil {
		return err
	}
	x.i[2] = batch
	shape := append(append(x.ints(3, 0), batch...), m, nn)
	x.i[3] = shape
	final := shape
	if len(a.Shape) == 1 || len(b.Shape) == 1 {
		final = append(x.ints(4, 0), batch...)
		if len(a.Shape) > 1 {
			final = append(final, m)
		}
		if len(b.Shape) > 1 {
			final = append(final, nn)
		}
		x.i[4] = final
	}
	beta := float32(0)
	out.set(Float, shape)
	if bias != nil {
		if err := fillBroadcast(x, out, bias); err != nil {
			return err
		}
		beta = 1
	}
	if len(bs) == 2 {
		// (batch*m) x k times k x n: one call covers every batch entry.
		kernel.Sgemm(false, false, numel(batch)*m, nn, k, 1, a.F, k, b.F, nn, beta, out.F, nn)
	} else {
		ast := bstrides(x.ints(5, 0), as[:len(as)-2], len(batch))
		bst := bstrides(x.ints(6, 0), bs[:len(bs)-2], len(batch))
		x.i[5], x.i[6] = ast, bst
		j := x.job()
		j.mm = batchedMatMul{a: a.F, b: b.F, c: out.F, batch: batch, ast: ast, bst: bst, m: m, n: nn, k: k, beta: beta}
		j.op = "matmul"
		// Attention's per-head products are small: split the entries, not each SGEMM.
		kernel.Parallel(numel(batch), max(1, 32768/max(1, m*nn*k)), j.fn)
	}
	out.Shape = append(out.Shape[:0], final...)
	return nil
}

// fillBroadcast sets every element of out (already shaped) from src
// broadcast to out's shape.
func fillBroadcast(x *exec, out, src *Tensor) error {
	shape, err := broadcastShape(x.ints(8, 0), out.Shape, src.Shape)
	if err != nil {
		return err
	}
	x.i[8] = shape
	st := bstrides(x.ints(9, 0), src.Shape, len(out.Shape))
	x.i[9] = st
	stridedCopy(&x.bp, out, src, 0, out.Shape, st)
	return nil
}

func buildGemm(n *node) (opFunc, error) {
	alpha, beta := n.attr.float("alpha", 1), n.attr.float("beta", 1)
	ta, tb := n.attr.int("transA", 0) != 0, n.attr.int("transB", 0) != 0
	return func(x *exec, in, out []*Tensor) error {
		a, b := in[0], in[1]
		c := get(in, 2)
		if len(a.Shape) != 2 || len(b.Shape) != 2 {
			return fmt.Errorf("inputs must be matrices, got %v and %v", a.Shape, b.Shape)
		}
		m, k := a.Shape[0], a.Shape[1]
		if ta {
			m, k = k, m
		}
		k2, nn := b.Shape[0], b.Shape[1]
		if tb {
			k2, nn = nn, k2
		}
		if k != k2 {
			return fmt.Errorf("shapes %v and %v do not match (transA=%v, transB=%v)", a.Shape, b.Shape, ta, tb)
		}
		shape := x.ints(0, 2)
		shape[0], shape[1] = m, nn
		out[0].set(Float, shape)
		bt := float32(0)
		if c != nil && beta != 0 {
			if err := fillBroadcast(x, out[0], c); err != nil {
				return err
			}
			if beta != 1 {
				kernel.Scale(out[0].F, beta, out[0].F)
			}
			bt = 1
		}
		kernel.Sgemm(ta, tb, m, nn, k, alpha, a.F, a.Shape[1], b.F, b.Shape[1], bt, out[0].F, nn)
		return nil
	}, nil
}

// batchedMatMul is the argument block of a parallel batched MatMul.
type batchedMatMul struct {
	a, b, c  []float32
	batch    []int
	ast, bst []int
	m, n, k  int
	beta     float32
}

// entries runs batch entries lo..hi, one SGEMM each.
func (p *batchedMatMul) entries(lo, hi int) {
	mk, kn, mn := p.m*p.k, p.k*p.n, p.m*p.n
	for o := lo; o < hi; o++ {
		ai, bi, rem := 0, 0, o
		for d := len(p.batch) - 1; d >= 0; d-- {
			v := rem % p.batch[d]
			rem /= p.batch[d]
			ai += v * p.ast[d]
			bi += v * p.bst[d]
		}
		kernel.Sgemm(false, false, p.m, p.n, p.k, 1, p.a[ai*mk:], p.k, p.b[bi*kn:], p.n, p.beta, p.c[o*mn:], p.n)
	}
}
