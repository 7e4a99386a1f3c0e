package tensor

import (
	"fmt"
	"strings"
)

// maxInlineDims is how many dimensions a tensor keeps inside its own header;
// shapes of higher rank spill to a separate allocation.
const maxInlineDims = 6

// Tensor is an n-dimensional strided view of float32 storage.
//
// The zero Tensor is not usable; make tensors with the constructors
// (Zeros, FromSlice, RandN, ...) or as the result of ops.
type Tensor struct {
	st      *storage
	offset  int
	shape   []int
	strides []int

	// Autograd state. A leaf has node == nil; requiresGrad marks tensors
	// whose gradient Backward computes.
	requiresGrad bool
	// gradOff counts the NoGrad scopes open over this tensor (atomic:
	// several goroutines may run inference with one model at once).
	gradOff int32
	grad    *Tensor
	node    *node
	pending *Tensor // gradient being accumulated during Backward (non-leaves)

	owner bool // this header allocated st: only the owner releases it
	// gradView marks a header that leafGradInto made over a leaf's own
	// gradient buffer: the backward function wrote the gradient there,
	// and accumulateLeaf has nothing left to do.
	gradView bool

	// gradStale marks grad as logically zero (ZeroGrad) without clearing
	// it: the next Backward overwrites it instead of adding, saving a pass
	// over every parameter per step; Grad clears it if read before then.
	gradStale bool

	// prec is how products with this tensor as an operand multiply
	// (SetPrecision); views inherit it.
	prec Precision

	dims [2 * maxInlineDims]int // backing array for shape and strides
}

// newHeader returns a tensor header over st with the given shape and
// row-major (contiguous) strides.
func newHeader(st *storage, shape []int) *Tensor {
	t := &Tensor{st: st, owner: true}
	t.setShape(shape)
	t.setContiguousStrides()
	return t
}

// setShape copies shape into the header, using the inline buffer when it fits.
func (t *Tensor) setShape(shape []int) {
	n := len(shape)
	if n <= maxInlineDims {
		t.shape = t.dims[:n:n]
		t.strides = t.dims[maxInlineDims : maxInlineDims+n : maxInlineDims+n]
	} else {
		t.shape = make([]int, n)
		t.strides = make([]int, n)
	}
	copy(t.shape, shape)
}

func (t *Tensor) setContiguousStrides() {
	s := 1
	for i := len(t.shape) - 1; i >= 0; i-- {
		t.strides[i] = s
		s *= t.shape[i]
	}
}

// newTensor returns a contiguous tensor of the given shape backed by a
// pooled buffer, zeroed when zero is set.
func newTensor(shape []int, zero bool) *Tensor {
	return newHeader(newStorage(numel(shape), zero), shape)
}

// Shape returns the tensor's dimensions. The slice must not be modified.
func (t *Tensor) Shape() []int { return t.shape }

// Dim returns the number of dimensions.
func (t *Tensor) Dim() int { return len(t.shape) }

// Size returns the length of dimension d; negative d counts from the end.
func (t *Tensor) Size(d int) int { return t.shape[t.axis(d, "Size")] }

// Strides returns the element strides of each dimension. Must not be modified.
func (t *Tensor) Strides() []int { return t.strides }

// Numel returns the number of elements.
func (t *Tensor) Numel() int { return numel(t.shape) }

// IsContiguous reports whether the tensor is laid out row-major without gaps,
// so that Data returns exactly its elements in order.
func (t *Tensor) IsContiguous() bool {
	s := 1
	for i := len(t.shape) - 1; i >= 0; i-- {
		if t.shape[i] != 1 && t.strides[i] != s {
			return false
		}
		s *= t.shape[i]
	}
	return true
}

// Data returns the tensor's elements in row-major order. For a contiguous
// tensor it is the live storage (writes are visible to every view); for any
// other it is a fresh copy. It panics, naming FreeGraph or Release, if the
// tensor's buffer was released.
func (t *Tensor) Data() []float32 {
	t.live("Data")
	if t.IsContiguous() {
		return t.st.data[t.offset : t.offset+t.Numel()]
	}
	return t.Contiguous().Data()
}

// Item returns the value of a one-element tensor.
func (t *Tensor) Item() float32 {
	if t.Numel() != 1 {
		panic(fmt.Sprintf("tensor: Item on a tensor of shape %v, want exactly one element", t.shape))
	}
	t.live("Item")
	return t.st.data[t.offset]
}

// At returns the element at the given index (one coordinate per dimension).
func (t *Tensor) At(idx ...int) float32 {
	return t.st.data[t.flatIndex(idx, "At")]
}

// Set writes v at the given index. It does not record autograd history.
func (t *Tensor) Set(v float32, idx ...int) {
	t.st.data[t.flatIndex(idx, "Set")] = v
}

func (t *Tensor) flatIndex(idx []int, op string) int {
	t.live(op)
	if len(idx) != len(t.shape) {
		panic(fmt.Sprintf("tensor: %s with %d indices on a tensor of shape %v", op, len(idx), t.shape))
	}
	off := t.offset
	for i, v := range idx {
		if v < 0 || v >= t.shape[i] {
			panic(fmt.Sprintf("tensor: %s index %v out of range for shape %v", op, idx, t.shape))
		}
		off += v * t.strides[i]
	}
	return off
}

// axis resolves a possibly negative axis against t's rank.
func (t *Tensor) axis(d int, op string) int {
	return normAxis(d, len(t.shape), op, t.shape)
}

func normAxis(d, rank int, op string, shape []int) int {
	if d < 0 {
		d += rank
	}
	if d < 0 || d >= rank {
		panic(fmt.Sprintf("tensor: %s: axis out of range for shape %v", op, shape))
	}
	return d
}

// String formats the tensor's shape and up to the first 8 elements.
func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor%v[", t.shape)
	if t.st.data == nil && t.Numel() > 0 {
		b.WriteString("released]")
		return b.String()
	}
	d := t.Data()
	for i, v := range d {
		if i == 8 {
			b.WriteString(" ...")
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%g", v)
	}
	b.WriteByte(']')
	return b.String()
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
