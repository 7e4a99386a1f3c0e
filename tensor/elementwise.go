package tensor

import (
	"math"

	"github.com/shenml/shen/internal/kernel"
)

// binOp names an elementwise binary operation for the shared broadcasting loop.
type binOp uint8

const (
	opAdd binOp = iota
	opSub
	opMul
	opDiv
	opPow
	opMaximum
	opMinimum
	opEq
	opNe
	opLt
	opLe
	opGt
	opGe
)

var binOpNames = [...]string{"Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum", "Eq", "Ne", "Lt", "Le", "Gt", "Ge"}

func b2f(c bool) float32 {
	if c {
		return 1
	}
	return 0
}

// binRow applies op to n elements: dst[i] = a[ai+i*as] op b[bi+i*bs].
// The switch sits outside the loops so each loop is a tight one the
// compiler can bounds-check-eliminate.
func binRow(op binOp, dst []float32, a []float32, ai, as int, b []float32, bi, bs int) {
	n := len(dst)
	if as == 1 && bs == 1 {
		a, b := a[ai:ai+n], b[bi:bi+n]
		switch op {
		case opAdd:
			kernel.Add(dst, a, b)
			return
		case opSub:
			for i := range dst {
				dst[i] = a[i] - b[i]
			}
			return
		case opMul:
			kernel.Mul(dst, a, b)
			return
		case opDiv:
			for i := range dst {
				dst[i] = a[i] / b[i]
			}
			return
		}
	}
	if as == 1 && bs == 0 {
		a, s := a[ai:ai+n], b[bi]
		switch op {
		case opAdd:
			kernel.AddScalar(dst, s, a)
			return
		case opSub:
			for i := range dst {
				dst[i] = a[i] - s
			}
			return
		case opMul:
			kernel.Scale(dst, s, a)
			return
		case opDiv:
			for i := range dst {
				dst[i] = a[i] / s
			}
			return
		}
	}
	for i := range dst {
		x, y := a[ai+i*as], b[bi+i*bs]
		var r float32
		switch op {
		case opAdd:
			r = x + y
		case opSub:
			r = x - y
		case opMul:
			r = x * y
		case opDiv:
			r = x / y
		case opPow:
			r = powf(x, y)
		case opMaximum:
			r = maxNaN(x, y)
		case opMinimum:
			r = minNaN(x, y)
		case opEq:
			r = b2f(x == y)
		case opNe:
			r = b2f(x != y)
		case opLt:
			r = b2f(x < y)
		case opLe:
			r = b2f(x <= y)
		case opGt:
			r = b2f(x > y)
		case opGe:
			r = b2f(x >= y)
		}
		dst[i] = r
	}
}

func powf(x, y float32) float32 {
	if y == 2 {
		return x * x
	}
	return float32(math.Pow(float64(x), float64(y)))
}

// maxNaN and minNaN propagate NaN as torch.maximum/minimum do.
func maxNaN(x, y float32) float32 {
	if x != x || x > y {
		return x
	}
	return y
}

func minNaN(x, y float32) float32 {
	if x != x || x < y {
		return x
	}
	return y
}

// binary computes op over the broadcast of a and b into a new tensor.
func binary(op binOp, a, b *Tensor) *Tensor {
	a.live(binOpNames[op])
	b.live(binOpNames[op])
	shape := BroadcastShapes(binOpNames[op], a.shape, b.shape)
	out := newTensor(shape, false)
	binaryInto(op, out, a, b)
	return out
}

// binaryInto writes op(a, b) into the contiguous out of the broadcast shape.
func binaryInto(op binOp, out, a, b *Tensor) {
	od := out.st.data[out.offset : out.offset+out.Numel()]
	if SameShape(a.shape, b.shape) && a.IsContiguous() && b.IsContiguous() {
		binRow(op, od, a.st.data, a.offset, 1, b.st.data, b.offset, 1)
		return
	}
	sa, sb := broadcastStrides(a, out.shape), broadcastStrides(b, out.shape)
	n := rowLen(out.shape)
	ia, ib := lastStride(sa), lastStride(sb)
	walkRows(out.shape, [][]int{out.strides, sa, sb}, []int{0, a.offset, b.offset}, func(o []int) {
		binRow(op, od[o[0]:o[0]+n], a.st.data, o[1], ia, b.st.data, o[2], ib)
	})
}

// Add returns a + b with broadcasting.
func Add(a, b *Tensor) *Tensor {
	out := binary(opAdd, a, b)
	return record(out, "Add", []*Tensor{a, b}, func(g *Tensor, grads []*Tensor) {
		grads[0] = SumToShape(g, a.shape)
		grads[1] = SumToShape(g, b.shape)
	})
}

// Sub returns a - b with broadcasting.
func Sub(a, b *Tensor) *Tensor {
	out := binary(opSub, a, b)
	return record(out, "Sub", []*Tensor{a, b}, func(g *Tensor, grads []*Tensor) {
		grads[0] = SumToShape(g, a.shape)
		if b.requiresGrad {
			grads[1] = SumToShape(Neg(g), b.shape)
		}
	})
}

// Mul returns a * b elementwise with broadcasting.
func Mul(a, b *Tensor) *Tensor {
	out := binary(opMul, a, b)
	return record(out, "Mul", []*Tensor{a, b}, func(g *Tensor, grads []*Tensor) {
		if a.requiresGrad {
			grads[0] = SumToShape(binary(opMul, g, b), a.shape)
		}
		if b.requiresGrad {
			grads[1] = SumToShape(binary(opMul, g, a), b.shape)
		}
	})
}

// Div returns a / b elementwise with broadcasting.
func Div(a, b *Tensor) *Tensor {
	out := binary(opDiv, a, b)
	return record(out, "Div", []*Tensor{a, b}, func(g *Tensor, grads []*Tensor) {
		if a.requiresGrad {
			grads[0] = SumToShape(binary(opDiv, g, b), a.shape)
		}
		if b.requiresGrad {
			// d(a/b)/db = -a/b² = -out/b
			t := binary(opDiv, binary(opMul, g, out), b)
			grads[1] = SumToShape(Neg(t), b.shape)
		}
	})
}

// Pow returns a raised to b elementwise with broadcasting.
func Pow(a, b *Tensor) *Tensor {
	out := binary(opPow, a, b)
	return record(out, "Pow", []*Tensor{a, b}, func(g *Tensor, grads []*Tensor) {
		if a.requiresGrad {
			// b * a^(b-1)
			d := mapBinary(a, b, func(x, y float32) float32 {
				if y == 0 {
					return 0
				}
				return y * float32(math.Pow(float64(x), float64(y-1)))
			})
			grads[0] = SumToShape(binary(opMul, g, d), a.shape)
		}
		if b.requiresGrad {
			// a^b * ln a (0 where a == 0, as PyTorch masks it)
			d := mapBinary(a, out, func(x, p float32) float32 {
				if x == 0 {
					return 0
				}
				return p * float32(math.Log(float64(x)))
			})
			grads[1] = SumToShape(binary(opMul, g, d), b.shape)
		}
	})
}

// PowScalar returns t raised to the constant p.
func PowScalar(t *Tensor, p float32) *Tensor {
	out := mapUnary(t, func(x float32) float32 { return powf(x, p) })
	return record(out, "Pow", []*Tensor{t}, func(g *Tensor, grads []*Tensor) {
		d := mapUnary(t, func(x float32) float32 {
			if p == 0 {
				return 0
			}
			return p * powf(x, p-1)
		})
		grads[0] = binary(opMul, g, d)
	})
}

// Maximum returns the elementwise larger of a and b (NaN propagates). At
// ties the gradient is split evenly, as in PyTorch.
func Maximum(a, b *Tensor) *Tensor { return minmax(opMaximum, a, b) }

// Minimum returns the elementwise smaller of a and b (NaN propagates).
func Minimum(a, b *Tensor) *Tensor { return minmax(opMinimum, a, b) }

func minmax(op binOp, a, b *Tensor) *Tensor {
	out := binary(op, a, b)
	return record(out, binOpNames[op], []*Tensor{a, b}, func(g *Tensor, grads []*Tensor) {
		// Weight for a: 1 where a wins, 0.5 at ties, 0 where b wins.
		wa := mapBinary(a, b, func(x, y float32) float32 {
			switch {
			case x == y:
				return 0.5
			case (op == opMaximum) == (x > y):
				return 1
			}
			return 0
		})
		if a.requiresGrad {
			grads[0] = SumToShape(binary(opMul, g, wa), a.shape)
		}
		if b.requiresGrad {
			wb := mapUnary(wa, func(w float32) float32 { return 1 - w })
			grads[1] = SumToShape(binary(opMul, g, wb), b.shape)
		}
	})
}

// Comparisons return 1 where the relation holds and 0 elsewhere; they carry no gradient.

// Eq returns a == b elementwise as 0/1.
func Eq(a, b *Tensor) *Tensor { return binary(opEq, a, b) }

// Ne returns a != b elementwise as 0/1.
func Ne(a, b *Tensor) *Tensor { return binary(opNe, a, b) }

// Lt returns a < b elementwise as 0/1.
func Lt(a, b *Tensor) *Tensor { return binary(opLt, a, b) }

// Le returns a <= b elementwise as 0/1.
func Le(a, b *Tensor) *Tensor { return binary(opLe, a, b) }

// Gt returns a > b elementwise as 0/1.
func Gt(a, b *Tensor) *Tensor { return binary(opGt, a, b) }

// Ge returns a >= b elementwise as 0/1.
func Ge(a, b *Tensor) *Tensor { return binary(opGe, a, b) }

// Where returns a where cond is nonzero and b elsewhere, broadcasting all three.
func Where(cond, a, b *Tensor) *Tensor {
	shape := BroadcastShapes("Where", BroadcastShapes("Where", cond.shape, a.shape), b.shape)
	c := cond.Expand(shape...).Contiguous()
	ae := a.Expand(shape...).Contiguous()
	be := b.Expand(shape...).Contiguous()
	out := newTensor(shape, false)
	cd, ad, bd, od := c.Data(), ae.Data(), be.Data(), out.st.data
	for i := range od {
		if cd[i] != 0 {
			od[i] = ad[i]
		} else {
			od[i] = bd[i]
		}
	}
	return record(out, "Where", []*Tensor{a, b}, func(g *Tensor, grads []*Tensor) {
		if a.requiresGrad {
			grads[0] = SumToShape(binary(opMul, g, binary(opNe, c, Scalar(0))), a.shape)
		}
		if b.requiresGrad {
			grads[1] = SumToShape(binary(opMul, g, binary(opEq, c, Scalar(0))), b.shape)
		}
	})
}

// mapUnary applies f to every element into a new contiguous tensor (no history).
func mapUnary(t *Tensor, f func(float32) float32) *Tensor {
	t.live("an elementwise op")
	out := newTensor(t.shape, false)
	od := out.st.data
	if t.IsContiguous() {
		src := t.st.data[t.offset : t.offset+len(od)]
		for i, v := range src {
			od[i] = f(v)
		}
		return out
	}
	n := rowLen(t.shape)
	s := lastStride(t.strides)
	walkRows(t.shape, [][]int{out.strides, t.strides}, []int{0, t.offset}, func(o []int) {
		for i := 0; i < n; i++ {
			od[o[0]+i] = f(t.st.data[o[1]+i*s])
		}
	})
	return out
}

// mapBinary applies f over the broadcast of a and b (no history).
func mapBinary(a, b *Tensor, f func(x, y float32) float32) *Tensor {
	shape := BroadcastShapes("map", a.shape, b.shape)
	ae, be := a.Expand(shape...), b.Expand(shape...)
	if !ae.IsContiguous() {
		ae = ae.Contiguous()
	}
	if !be.IsContiguous() {
		be = be.Contiguous()
	}
	out := newTensor(shape, false)
	ad, bd := ae.Data(), be.Data()
	for i := range out.st.data {
		out.st.data[i] = f(ad[i], bd[i])
	}
	return out
}

// unaryOp builds a differentiable elementwise op from f and its derivative
// df(x, y) where y = f(x).
func unaryOp(name string, t *Tensor, f func(float32) float32, df func(x, y float32) float32) *Tensor {
	out := mapUnary(t, f)
	return record(out, name, []*Tensor{t}, func(g *Tensor, grads []*Tensor) {
		d := mapBinary(t, out, df)
		grads[0] = binary(opMul, g, d)
		d.releaseOwned()
	})
}

// Neg returns -t.
func Neg(t *Tensor) *Tensor {
	out := mapUnary(t, func(x float32) float32 { return -x })
	return record(out, "Neg", []*Tensor{t}, func(g *Tensor, grads []*Tensor) {
		grads[0] = mapUnary(g, func(x float32) float32 { return -x })
	})
}

// Sqrt returns the elementwise square root.
func Sqrt(t *Tensor) *Tensor {
	return unaryOp("Sqrt", t, func(x float32) float32 { return float32(math.Sqrt(float64(x))) },
		func(_, y float32) float32 { return 0.5 / y })
}

// Exp returns e raised to each element.
func Exp(t *Tensor) *Tensor {
	return unaryOp("Exp", t, func(x float32) float32 { return float32(math.Exp(float64(x))) },
		func(_, y float32) float32 { return y })
}

// Log returns the natural logarithm of each element.
func Log(t *Tensor) *Tensor {
	return unaryOp("Log", t, func(x float32) float32 { return float32(math.Log(float64(x))) },
		func(x, _ float32) float32 { return 1 / x })
}

// Abs returns |t|; its gradient at 0 is 0, as in PyTorch.
func Abs(t *Tensor) *Tensor {
	return unaryOp("Abs", t, func(x float32) float32 { return float32(math.Abs(float64(x))) },
		func(x, _ float32) float32 { return sign(x) })
}

func sign(x float32) float32 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// Clamp limits every element to [lo, hi]; the gradient passes where the
// element lies inside (bounds included), as in PyTorch.
func Clamp(t *Tensor, lo, hi float32) *Tensor {
	return unaryOp("Clamp", t, func(x float32) float32 {
		if x < lo {
			return lo
		}
		if x > hi {
			return hi
		}
		return x
	}, func(x, _ float32) float32 { return b2f(x >= lo && x <= hi) })
}

// AddScalar returns t + s.
func AddScalar(t *Tensor, s float32) *Tensor {
	out := mapUnary(t, func(x float32) float32 { return x + s })
	return record(out, "AddScalar", []*Tensor{t}, func(g *Tensor, grads []*Tensor) { grads[0] = g })
}

// MulScalar returns t * s.
func MulScalar(t *Tensor, s float32) *Tensor {
	out := mapUnary(t, func(x float32) float32 { return x * s })
	return record(out, "MulScalar", []*Tensor{t}, func(g *Tensor, grads []*Tensor) {
		grads[0] = mapUnary(g, func(x float32) float32 { return x * s })
	})
}

// addNoGrad returns a + b (same shape) without recording history.
func addNoGrad(a, b *Tensor) *Tensor { return binary(opAdd, a, b) }

// addInto adds src into dst in place (same shape, dst contiguous).
func addInto(dst, src *Tensor) {
	if !SameShape(dst.shape, src.shape) {
		shapePanic("addInto", "shapes must match", dst.shape, src.shape)
	}
	binaryInto(opAdd, dst, dst, src)
}
