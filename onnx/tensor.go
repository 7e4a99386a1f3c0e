package onnx

import (
	"fmt"
	"strings"
)

// DType is a tensor's element type, numbered as onnx.TensorProto.DataType.
type DType int32

// The element types the runtime computes with. Float tensors hold F; all
// integer and boolean types hold I (booleans as 0 and 1) so that shape and
// index arithmetic is exact.
const (
	Float  DType = 1
	Uint8  DType = 2
	Int8   DType = 3
	Int32  DType = 6
	Int64  DType = 7
	String DType = 8
	Bool   DType = 9
	Double DType = 11
)

// String is the type's name in Go terms (float32, int64, ...).
func (d DType) String() string {
	switch d {
	case Float:
		return "float32"
	case Uint8:
		return "uint8"
	case Int8:
		return "int8"
	case Int32:
		return "int32"
	case Int64:
		return "int64"
	case Bool:
		return "bool"
	case Double:
		return "float64"
	case String:
		return "string"
	}
	return fmt.Sprintf("dtype(%d)", int32(d))
}

// isFloat reports whether values of d live in Tensor.F.
func (d DType) isFloat() bool { return d == Float || d == Double }

// Tensor is an n-d array in row-major order. Exactly one of F (float
// types), I (integer and boolean types) or S (strings, the categorical
// inputs of exported preprocessing) holds the Len() elements.
type Tensor struct {
	DType DType
	Shape []int
	F     []float32
	I     []int64
	S     []string
}

// NewString returns a string tensor of the given shape that uses data.
func NewString(data []string, shape ...int) *Tensor {
	if numel(shape) != len(data) {
		panic(fmt.Sprintf("onnx: NewString: %d values for shape %v", len(data), shape))
	}
	return &Tensor{DType: String, Shape: append([]int(nil), shape...), S: data}
}

// NewFloat returns a float32 tensor of the given shape that uses data
// (not copied); it panics when len(data) does not match the shape.
func NewFloat(data []float32, shape ...int) *Tensor {
	if numel(shape) != len(data) {
		panic(fmt.Sprintf("onnx: NewFloat: %d values for shape %v", len(data), shape))
	}
	return &Tensor{DType: Float, Shape: append([]int(nil), shape...), F: data}
}

// NewInt64 returns an int64 tensor of the given shape that uses data.
func NewInt64(data []int64, shape ...int) *Tensor {
	if numel(shape) != len(data) {
		panic(fmt.Sprintf("onnx: NewInt64: %d values for shape %v", len(data), shape))
	}
	return &Tensor{DType: Int64, Shape: append([]int(nil), shape...), I: data}
}

// Len is the number of elements.
func (t *Tensor) Len() int { return numel(t.Shape) }

func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s%v", t.DType, t.Shape)
	return b.String()
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{DType: t.DType, Shape: append([]int(nil), t.Shape...)}
	if t.F != nil {
		c.F = append([]float32(nil), t.F...)
	}
	if t.I != nil {
		c.I = append([]int64(nil), t.I...)
	}
	if t.S != nil {
		c.S = append([]string(nil), t.S...)
	}
	return c
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// set makes t a dtype tensor of the given shape, reusing its buffers when
// they are large enough; the contents are unspecified. This is how every
// operator writes its output, so a session allocates only while shapes grow.
func (t *Tensor) set(dt DType, shape []int) {
	n := boundedNumel(shape)
	t.DType = dt
	t.Shape = append(t.Shape[:0], shape...)
	if dt == String {
		if cap(t.S) < n {
			t.S = make([]string, n)
		}
		t.S = t.S[:n]
		return
	}
	if dt.isFloat() {
		if cap(t.F) < n {
			t.F = make([]float32, n)
		}
		t.F = t.F[:n]
		t.I = t.I[:0]
	} else {
		if cap(t.I) < n {
			t.I = make([]int64, n)
		}
		t.I = t.I[:n]
		t.F = t.F[:0]
	}
}

// alias makes t a view of s's elements with the given shape (same
// count). Operators never write their inputs, so reshaping ops share
// storage instead of copying; t's own buffers are dropped.
func (t *Tensor) alias(s *Tensor, shape []int) {
	t.DType = s.DType
	t.Shape = append(t.Shape[:0], shape...)
	t.F, t.I, t.S = s.F, s.I, s.S
}

// copyFrom makes t an exact copy of s, reusing t's buffers.
func (t *Tensor) copyFrom(s *Tensor) {
	t.set(s.DType, s.Shape)
	switch {
	case s.DType == String:
		copy(t.S, s.S)
	case s.DType.isFloat():
		copy(t.F, s.F)
	default:
		copy(t.I, s.I)
	}
}

// hardMaxElements bounds every tensor an operator writes, whatever the
// model's Limits: a graph whose attributes (pads, strides, output_shape)
// ask for more fails its call (Run turns the panic into an error).
const hardMaxElements = 1 << 30

// boundedNumel is numel that refuses negative sizes, overflow and
// tensors past hardMaxElements.
func boundedNumel(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > hardMaxElements/d) {
			// A copy, so that shape itself does not escape to the heap.
			panic(fmt.Sprintf("onnx: a tensor of shape %v is over the %d-element limit", append([]int(nil), shape...), hardMaxElements))
		}
		n *= d
	}
	return n
}

// strides returns row-major strides of shape into dst.
func strides(dst []int, shape []int) []int {
	dst = dst[:0]
	for range shape {
		dst = append(dst, 0)
	}
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		dst[i] = s
		s *= shape[i]
	}
	return dst
}

// scalarF returns element 0 as a float64, whatever the dtype.
func (t *Tensor) scalarF(i int) float64 {
	if t.DType.isFloat() {
		return float64(t.F[i])
	}
	return float64(t.I[i])
}
