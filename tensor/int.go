package tensor

import (
	"fmt"
	"slices"
)

// IntTensor is a contiguous n-d tensor of int64: class labels, token ids
// and indices for Gather, IndexSelect, Embedding and friends. It carries
// no gradient.
type IntTensor struct {
	data  []int64
	shape []int
}

// IntFromSlice wraps data (no copy) in an IntTensor of the given shape
// (1-d of len(data) when none is given).
func IntFromSlice(data []int64, shape ...int) *IntTensor {
	if len(shape) == 0 {
		shape = []int{len(data)}
	}
	checkShape(shape, "IntFromSlice")
	if numel(shape) != len(data) {
		panic(fmt.Sprintf("tensor: IntFromSlice: %d values cannot fill shape %v", len(data), shape))
	}
	return &IntTensor{data: data, shape: slices.Clone(shape)}
}

// IntZeros returns an IntTensor of zeros.
func IntZeros(shape ...int) *IntTensor {
	checkShape(shape, "IntZeros")
	return &IntTensor{data: make([]int64, numel(shape)), shape: slices.Clone(shape)}
}

// Data returns the elements in row-major order (live storage).
func (t *IntTensor) Data() []int64 { return t.data }

// Shape returns the dimensions; must not be modified.
func (t *IntTensor) Shape() []int { return t.shape }

// Dim returns the number of dimensions.
func (t *IntTensor) Dim() int { return len(t.shape) }

// Numel returns the number of elements.
func (t *IntTensor) Numel() int { return len(t.data) }

// Reshape returns a view with a new shape (one dimension may be -1).
func (t *IntTensor) Reshape(shape ...int) *IntTensor {
	return &IntTensor{data: t.data, shape: inferShape(shape, len(t.data), t.shape)}
}

// Float returns the values as a float32 Tensor.
func (t *IntTensor) Float() *Tensor {
	out := newTensor(t.shape, false)
	for i, v := range t.data {
		out.st.data[i] = float32(v)
	}
	return out
}

func (t *IntTensor) String() string {
	return fmt.Sprintf("IntTensor%v%v", t.shape, t.data[:min(len(t.data), 8)])
}
