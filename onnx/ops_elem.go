package onnx

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/shenml/shen/internal/kernel"
)

func init() {
	register(buildBinary, "Add", "Sub", "Mul", "Div", "Pow", "Mod",
		"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "PRelu", "BitShift")
	register(buildVariadic, "Sum", "Max", "Min", "Mean")
	register(buildUnary, "Relu", "LeakyRelu", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid", "HardSwish",
		"Tanh", "Erf", "Sqrt", "Exp", "Log", "Neg", "Abs", "Reciprocal", "Floor", "Ceil", "Round", "Sign",
		"Softplus", "Softsign", "ThresholdedRelu", "Mish", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan",
		"Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Gelu")
	register(buildIdentity, "Identity", "Dropout")
	register(buildNot, "Not")
	register(buildIsX, "IsNaN", "IsInf")
	register(buildWhere, "Where")
	register(buildClip, "Clip")
	register(buildCast, "Cast", "CastLike")
	register(buildScaler, "ai.onnx.ml.Scaler")
}

// buildScaler is ai.onnx.ml's Scaler: (x - offset) * scale per feature
// (last axis), or one value for all.
func buildScaler(n *node) (opFunc, error) {
	off, scale := n.attr.floats("offset"), n.attr.floats("scale")
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		if err := castTo(a, out[0], Float); err != nil {
			return err
		}
		d := 1
		if len(a.Shape) > 0 {
			d = a.Shape[len(a.Shape)-1]
		}
		pick := func(v []float32, j int, def float32) float32 {
			switch len(v) {
			case 0:
				return def
			case 1:
				return v[0]
			}
			return v[j%len(v)]
		}
		if (len(off) > 1 && len(off) != d) || (len(scale) > 1 && len(scale) != d) {
			return fmt.Errorf("%d offsets and %d scales for %d features", len(off), len(scale), d)
		}
		for i, v := range out[0].F {
			j := i % d
			out[0].F[i] = (v - pick(off, j, 0)) * pick(scale, j, 1)
		}
		return nil
	}, nil
}

func buildIdentity(n *node) (opFunc, error) {
	if n.op == "Dropout" && n.opset < 12 && n.attr.int("is_test", 1) == 0 && n.opset < 7 {
		return nil, fmt.Errorf("training-mode Dropout is not supported")
	}
	return func(x *exec, in, out []*Tensor) error {
		ratio := 0.5
		if r := get(in, 1); r != nil && r.Len() == 1 {
			ratio = r.scalarF(0)
		}
		if t := get(in, 2); t != nil && t.Len() == 1 && t.I[0] != 0 && ratio != 0 {
			return fmt.Errorf("training-mode Dropout is random; only inference is supported")
		}
		out[0].alias(in[0], in[0].Shape)
		if len(out) > 1 { // Dropout's mask: all kept in inference
			out[1].set(Bool, in[0].Shape)
			for i := range out[1].I {
				out[1].I[i] = 1
			}
		}
		return nil
	}, nil
}

// binary float operators, as functions for the general path.
var binaryFloat = map[string]func(a, b float32) float32{
	"Add": func(a, b float32) float32 { return a + b },
	"Sub": func(a, b float32) float32 { return a - b },
	"Mul": func(a, b float32) float32 { return a * b },
	"Div": func(a, b float32) float32 { return a / b },
	"Pow": func(a, b float32) float32 { return powf(a, b) },
	"PRelu": func(a, b float32) float32 {
		if a < 0 {
			return a * b
		}
		return a
	},
}

func powf(a, b float32) float32 {
	switch b {
	case 2:
		return a * a
	case 1:
		return a
	case 0.5:
		return float32(math.Sqrt(float64(a)))
	}
	return float32(math.Pow(float64(a), float64(b)))
}

var binaryInt = map[string]func(a, b int64) int64{
	"Add": func(a, b int64) int64 { return a + b },
	"Sub": func(a, b int64) int64 { return a - b },
	"Mul": func(a, b int64) int64 { return a * b },
	"Div": func(a, b int64) int64 {
		if b == 0 {
			return 0
		}
		return a / b
	},
	"Pow": func(a, b int64) int64 { return int64(math.Pow(float64(a), float64(b))) },
	"And": func(a, b int64) int64 { return b2i(a != 0 && b != 0) },
	"Or":  func(a, b int64) int64 { return b2i(a != 0 || b != 0) },
	"Xor": func(a, b int64) int64 { return b2i((a != 0) != (b != 0)) },
}

var compareFloat = map[string]func(a, b float64) bool{
	"Equal":          func(a, b float64) bool { return a == b },
	"Less":           func(a, b float64) bool { return a < b },
	"Greater":        func(a, b float64) bool { return a > b },
	"LessOrEqual":    func(a, b float64) bool { return a <= b },
	"GreaterOrEqual": func(a, b float64) bool { return a >= b },
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func buildBinary(n *node) (opFunc, error) {
	op := n.op
	if n.opset < 7 && n.attr.int("broadcast", 0) != 0 && n.attr.has("axis") {
		return nil, fmt.Errorf("legacy broadcast with axis is not supported (opset %d)", n.opset)
	}
	fmod := n.attr.int("fmod", 0)
	dirRight := n.attr.str("direction", "") == "RIGHT"
	return func(x *exec, in, out []*Tensor) error {
		a, b := in[0], in[1]
		p := &x.bp
		if err := p.plan(a, b); err != nil {
			return err
		}
		if cmp := compareFloat[op]; cmp != nil {
			out[0].set(Bool, p.shape)
			o := out[0].I
			p.rows(func(off int, offs []int, n int) {
				sa, sb := p.inner(0), p.inner(1)
				for i := 0; i < n; i++ {
					o[off+i] = b2i(cmp(a.scalarF(offs[0]+i*sa), b.scalarF(offs[1]+i*sb)))
				}
			})
			return nil
		}
		if a.DType.isFloat() {
			return binaryF(op, fmod, p, a, b, out[0])
		}
		if a.DType.isFloat() != b.DType.isFloat() && op != "Pow" && op != "BitShift" {
			return fmt.Errorf("operand types %s and %s differ", a.DType, b.DType)
		}
		f := binaryInt[op]
		switch op {
		case "Mod":
			f = func(a, b int64) int64 { return imod(a, b, fmod) }
		case "BitShift":
			f = func(a, b int64) int64 {
				if dirRight {
					return int64(uint64(a) >> uint64(b))
				}
				return int64(uint64(a) << uint64(b))
			}
		}
		if f == nil {
			return fmt.Errorf("not defined for %s", a.DType)
		}
		dt := a.DType
		if op == "And" || op == "Or" || op == "Xor" {
			dt = Bool
		}
		out[0].set(dt, p.shape)
		o := out[0].I
		p.rows(func(off int, offs []int, n int) {
			sa, sb := p.inner(0), p.inner(1)
			for i := 0; i < n; i++ {
				bv := b.I
				var bi int64
				if b.DType.isFloat() {
					bi = int64(b.F[offs[1]+i*sb])
				} else {
					bi = bv[offs[1]+i*sb]
				}
				o[off+i] = f(a.I[offs[0]+i*sa], bi)
			}
		})
		return nil
	}, nil
}

func imod(a, b int64, fmod int) int64 {
	if b == 0 {
		return 0
	}
	r := a % b
	if fmod == 0 && r != 0 && (r < 0) != (b < 0) {
		r += b
	}
	return r
}

// binaryF runs a float binary op with fast paths for the contiguous and
// scalar-broadcast rows that bias adds and scalings produce.
func binaryF(op string, fmod int, p *bcastPlan, a, b, out *Tensor) error {
	out.set(a.DType, p.shape)
	o := out.F
	bf := b.F
	if !b.DType.isFloat() { // Pow with an integer exponent
		bf = make([]float32, len(b.I))
		for i, v := range b.I {
			bf[i] = float32(v)
		}
	}
	f := binaryFloat[op]
	if op == "Mod" {
		f = func(x, y float32) float32 {
			r := float32(math.Mod(float64(x), float64(y)))
			if fmod == 0 && r != 0 && (r < 0) != (y < 0) {
				r += y
			}
			return r
		}
	}
	if f == nil {
		return fmt.Errorf("not defined for %s", a.DType)
	}
	p.rows(func(off int, offs []int, n int) {
		sa, sb := p.inner(0), p.inner(1)
		dst := o[off : off+n]
		switch {
		case sa == 1 && sb == 1 && op == "Add":
			kernel.Add(dst, a.F[offs[0]:offs[0]+n], bf[offs[1]:offs[1]+n])
		case sa == 1 && sb == 1 && op == "Mul":
			kernel.Mul(dst, a.F[offs[0]:offs[0]+n], bf[offs[1]:offs[1]+n])
		case sa == 1 && sb == 0 && op == "Add":
			kernel.AddScalar(dst, bf[offs[1]], a.F[offs[0]:offs[0]+n])
		case sa == 1 && sb == 0 && op == "Mul":
			kernel.Scale(dst, bf[offs[1]], a.F[offs[0]:offs[0]+n])
		case sa == 0 && sb == 1 && op == "Add":
			kernel.AddScalar(dst, a.F[offs[0]], bf[offs[1]:offs[1]+n])
		case sa == 0 && sb == 1 && op == "Mul":
			kernel.Scale(dst, a.F[offs[0]], bf[offs[1]:offs[1]+n])
		default:
			ai, bi := offs[0], offs[1]
			for i := range dst {
				dst[i] = f(a.F[ai], bf[bi])
				ai += sa
				bi += sb
			}
		}
	})
	return nil
}

func buildVariadic(n *node) (opFunc, error) {
	op := n.op
	return func(x *exec, in, out []*Tensor) error {
		shapes := make([][]int, len(in))
		for i, t := range in {
			if !t.DType.isFloat() {
				if op == "Max" || op == "Min" {
					return variadicInt(x, op, in, out[0])
				}
				return fmt.Errorf("not defined for %s", t.DType)
			}
			shapes[i] = t.Shape
		}
		shape, err := broadcastShape(nil, shapes...)
		if err != nil {
			return err
		}
		acc := x.tensor(0)
		acc.set(in[0].DType, shape)
		p := &x.bp
		// out = in[0] broadcast, then fold the others in place.
		if err := p.plan(acc, in[0]); err != nil {
			return err
		}
		p.rows(func(off int, offs []int, n int) {
			s := p.inner(1)
			for i := 0; i < n; i++ {
				acc.F[off+i] = in[0].F[offs[1]+i*s]
			}
		})
		for _, t := range in[1:] {
			if err := p.plan(acc, t); err != nil {
				return err
			}
			p.rows(func(off int, offs []int, n int) {
				s := p.inner(1)
				for i := 0; i < n; i++ {
					v, w := acc.F[off+i], t.F[offs[1]+i*s]
					switch op {
					case "Sum", "Mean":
						v += w
					case "Max":
						if w > v || w != w {
							v = w
						}
					case "Min":
						if w < v || w != w {
							v = w
						}
					}
					acc.F[off+i] = v
				}
			})
		}
		if op == "Mean" {
			kernel.Scale(acc.F, 1/float32(len(in)), acc.F)
		}
		out[0].copyFrom(acc)
		return nil
	}, nil
}

// unaryFunc returns the element function of a unary op with its attributes.
func unaryFunc(n *node) (func(float32) float32, error) {
	alpha := n.attr.float("alpha", 0)
	switch n.op {
	case "LeakyRelu":
		a := n.attr.float("alpha", 0.01)
		return func(v float32) float32 {
			if v < 0 {
				return a * v
			}
			return v
		}, nil
	case "Elu":
		a := n.attr.float("alpha", 1)
		return func(v float32) float32 {
			if v < 0 {
				return a * float32(math.Expm1(float64(v)))
			}
			return v
		}, nil
	case "Celu":
		a := n.attr.float("alpha", 1)
		return func(v float32) float32 {
			return max(0, v) + min(0, a*float32(math.Expm1(float64(v/a))))
		}, nil
	case "Selu":
		a := n.attr.float("alpha", 1.67326319217681884765625)
		g := n.attr.float("gamma", 1.05070102214813232421875)
		return func(v float32) float32 {
			if v <= 0 {
				return g * a * float32(math.Expm1(float64(v)))
			}
			return g * v
		}, nil
	case "ThresholdedRelu":
		a := n.attr.float("alpha", 1)
		return func(v float32) float32 {
			if v > a {
				return v
			}
			return 0
		}, nil
	case "HardSigmoid":
		a, b := n.attr.float("alpha", 0.2), n.attr.float("beta", 0.5)
		return func(v float32) float32 { return max(0, min(1, a*v+b)) }, nil
	case "HardSwish":
		return func(v float32) float32 { return v * max(0, min(1, v/6+0.5)) }, nil
	case "Gelu":
		return func(v float32) float32 { return float32(0.5 * float64(v) * (1 + math.Erf(float64(v)/math.Sqrt2))) }, nil
	}
	_ = alpha
	f := mathUnary[n.op]
	if f == nil {
		return nil, fmt.Errorf("no element function")
	}
	return func(v float32) float32 { return float32(f(float64(v))) }, nil
}

var mathUnary = map[string]func(float64) float64{
	"Sqrt": math.Sqrt, "Log": math.Log, "Abs": math.Abs, "Floor": math.Floor, "Ceil": math.Ceil,
	"Round": math.RoundToEven, "Sin": math.Sin, "Cos": math.Cos, "Tan": math.Tan, "Asin": math.Asin,
	"Acos": math.Acos, "Atan": math.Atan, "Sinh": math.Sinh, "Cosh": math.Cosh, "Asinh": math.Asinh,
	"Acosh": math.Acosh, "Atanh": math.Atanh,
	"Neg":        func(v float64) float64 { return -v },
	"Reciprocal": func(v float64) float64 { return 1 / v },
	"Sign": func(v float64) float64 {
		switch {
		case v > 0:
			return 1
		case v < 0:
			return -1
		}
		return 0
	},
	"Softplus": func(v float64) float64 { return math.Log1p(math.Exp(v)) },
	"Softsign": func(v float64) float64 { return v / (1 + math.Abs(v)) },
	"Mish":     func(v float64) float64 { return v * math.Tanh(math.Log1p(math.Exp(v))) },
}

func buildUnary(n *node) (opFunc, error) {
	var vec func(dst, x []float32)
	switch n.op {
	case "Relu":
		vec = kernel.Relu
	case "Sigmoid":
		vec = kernel.Sigmoid
	case "Tanh":
		vec = kernel.Tanh
	case "Exp":
		vec = kernel.Exp
	case "Erf":
		vec = kernel.Erf
	}
	var f func(float32) float32
	if vec == nil {
		var err error
		if f, err = unaryFunc(n); err != nil {
			return nil, err
		}
	}
	op := n.op
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		if !a.DType.isFloat() {
			return unaryInt(op, a, out[0])
		}
		out[0].set(a.DType, a.Shape)
		if vec != nil {
			vec(out[0].F, a.F)
			return nil
		}
		for i, v := range a.F {
			out[0].F[i] = f(v)
		}
		return nil
	}, nil
}

func unaryInt(op string, a, out *Tensor) error {
	out.set(a.DType, a.Shape)
	for i, v := range a.I {
		switch op {
		case "Neg":
			v = -v
		case "Abs":
			if v < 0 {
				v = -v
			}
		case "Relu":
			v = max(v, 0)
		case "Sign":
			v = int64(math.Copysign(1, float64(v))) * b2i(v != 0)
		case "Identity":
		default:
			return fmt.Errorf("not defined for %s", a.DType)
		}
		out.I[i] = v
	}
	return nil
}

func buildNot(n *node) (opFunc, error) {
	return func(x *exec, in, out []*Tensor) error {
		out[0].set(Bool, in[0].Shape)
		for i, v := range in[0].I {
			out[0].I[i] = b2i(v == 0)
		}
		return nil
	}, nil
}

func buildIsX(n *node) (opFunc, error) {
	pos, neg := n.attr.int("detect_positive", 1) != 0, n.attr.int("detect_negative", 1) != 0
	isNaN := n.op == "IsNaN"
	return func(x *exec, in, out []*Tensor) error {
		out[0].set(Bool, in[0].Shape)
		for i, v := range in[0].F {
			f := float64(v)
			if isNaN {
				out[0].I[i] = b2i(f != f)
			} else {
				out[0].I[i] = b2i((pos && math.IsInf(f, 1)) || (neg && math.IsInf(f, -1)))
			}
		}
		return nil
	}, nil
}

func buildWhere(n *node) (opFunc, error) {
	return func(x *exec, in, out []*Tensor) error {
		c, a, b := in[0], in[1], in[2]
		p := &x.bp
		if err := p.plan(c, a, b); err != nil {
			return err
		}
		o := out[0]
		o.set(a.DType, p.shape)
		p.rows(func(off int, offs []int, n int) {
			sc, sa, sb := p.inner(0), p.inner(1), p.inner(2)
			for i := 0; i < n; i++ {
				pick, j := b, offs[2]+i*sb
				if c.I[offs[0]+i*sc] != 0 {
					pick, j = a, offs[1]+i*sa
				}
				if o.DType.isFloat() {
					o.F[off+i] = pick.F[j]
				} else {
					o.I[off+i] = pick.I[j]
				}
			}
		})
		return nil
	}, nil
}

func buildClip(n *node) (opFunc, error) {
	lo, hi := n.attr.float("min", -math.MaxFloat32), n.attr.float("max", math.MaxFloat32)
	return func(x *exec, in, out []*Tensor) error {
		l, h := lo, hi
		if len(in) > 1 && in[1] != nil {
			l = float32(in[1].scalarF(0))
		}
		if len(in) > 2 && in[2] != nil {
			h = float32(in[2].scalarF(0))
		}
		a := in[0]
		out[0].set(a.DType, a.Shape)
		if !a.DType.isFloat() {
			for i, v := range a.I {
				out[0].I[i] = max(int64(l), min(int64(h), v))
			}
			return nil
		}
		for i, v := range a.F {
			out[0].F[i] = max(l, min(h, v))
		}
		return nil
	}, nil
}

func buildCast(n *node) (opFunc, error) {
	to := DType(n.attr.int("to", 0))
	like := n.op == "CastLike"
	return func(x *exec, in, out []*Tensor) error {
		dt := to
		if like {
			dt = in[1].DType
		}
		return castTo(in[0], out[0], dt)
	}, nil
}

// castTo converts a into out with element type dt.
func castTo(a, out *Tensor, dt DType) error {
	switch dt {
	case Float, Double, Int64, Int32, Int8, Uint8, Bool:
	default:
		return fmt.Errorf("cast to %s is not supported", dt)
	}
	if a.DType == String {
		return castString(a, out, dt)
	}
	out.set(dt, a.Shape)
	switch {
	case a.DType.isFloat() && dt.isFloat():
		if dt == Float && a.DType == Double {
			copy(out.F, a.F)
		} else {
			copy(out.F, a.F)
		}
	case a.DType.isFloat():
		for i, v := range a.F {
			if dt == Bool {
				out.I[i] = b2i(v != 0)
			} else {
				out.I[i] = wrapInt(int64(v), dt)
			}
		}
	case dt.isFloat():
		for i, v := range a.I {
			out.F[i] = float32(v)
		}
	default:
		for i, v := range a.I {
			if dt == Bool {
				out.I[i] = b2i(v != 0)
			} else {
				out.I[i] = wrapInt(v, dt)
			}
		}
	}
	return nil
}

func wrapInt(v int64, dt DType) int64 {
	switch dt {
	case Int32:
		return int64(int32(v))
	case Int8:
		return int64(int8(v))
	case Uint8:
		return int64(uint8(v))
	}
	return v
}

// variadicInt is Max or Min of integer tensors with broadcasting.
func variadicInt(x *exec, op string, in []*Tensor, out *Tensor) error {
	shapes := make([][]int, len(in))
	for i, t := range in {
		if t.DType.isFloat() {
			return fmt.Errorf("operands of types %s and %s", in[0].DType, t.DType)
		}
		shapes[i] = t.Shape
	}
	shape, err := broadcastShape(nil, shapes...)
	if err != nil {
		return err
	}
	out.set(in[0].DType, shape)
	p := &x.bp
	for k, t := range in {
		if err := p.plan(out, t); err != nil {
			return err
		}
		p.rows(func(off int, offs []int, n int) {
			s := p.inner(1)
			for i := 0; i < n; i++ {
				v := t.I[offs[1]+i*s]
				if k == 0 || (op == "Max" && v > out.I[off+i]) || (op == "Min" && v < out.I[off+i]) {
					out.I[off+i] = v
				}
			}
		})
	}
	return nil
}

// castString parses strings into numbers as ONNX Cast does ("INF",
// "-inf" and "NaN" included).
func castString(a, out *Tensor, dt DType) error {
	out.set(dt, a.Shape)
	for i, s := range a.S {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return fmt.Errorf("cannot cast %q to %s", s, dt)
		}
		switch {
		case dt.isFloat():
			out.F[i] = float32(v)
		case dt == Bool:
			out.I[i] = b2i(v != 0)
		default:
			out.I[i] = wrapInt(int64(v), dt)
		}
	}
	return nil
}
