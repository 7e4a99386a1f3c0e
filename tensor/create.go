package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Zeros returns a tensor of the given shape filled with 0.
func Zeros(shape ...int) *Tensor {
	checkShape(shape, "Zeros")
	return newTensor(shape, true)
}

// Empty returns a tensor of the given shape whose contents are
// unspecified (a recycled buffer): for outputs that are fully overwritten.
func Empty(shape ...int) *Tensor {
	checkShape(shape, "Empty")
	return newTensor(shape, false)
}

// Ones returns a tensor of the given shape filled with 1.
func Ones(shape ...int) *Tensor { return Full(1, shape...) }

// Full returns a tensor of the given shape filled with v.
func Full(v float32, shape ...int) *Tensor {
	checkShape(shape, "Full")
	t := newTensor(shape, false)
	d := t.st.data
	for i := range d {
		d[i] = v
	}
	return t
}

// Scalar returns a zero-dimensional tensor holding v.
func Scalar(v float32) *Tensor { return Full(v) }

// Arange returns the 1-d tensor [start, start+step, ...) stopping before stop.
func Arange(start, stop, step float32) *Tensor {
	if step == 0 {
		panic("tensor: Arange with step 0")
	}
	n := int(math.Ceil(float64((stop - start) / step)))
	if n < 0 {
		n = 0
	}
	t := newTensor([]int{n}, false)
	for i := range t.st.data {
		t.st.data[i] = start + float32(i)*step
	}
	return t
}

// FromSlice returns a tensor of the given shape that uses data as its storage
// (no copy). With no shape, the tensor is 1-d of len(data).
func FromSlice(data []float32, shape ...int) *Tensor {
	if len(shape) == 0 {
		shape = []int{len(data)}
	}
	checkShape(shape, "FromSlice")
	if numel(shape) != len(data) {
		panic(fmt.Sprintf("tensor: FromSlice: %d values cannot fill shape %v (%d elements)", len(data), shape, numel(shape)))
	}
	return newHeader(&storage{data: data}, shape)
}

// FromFloat64 returns a new tensor of the given shape holding data converted to float32.
func FromFloat64(data []float64, shape ...int) *Tensor {
	f := make([]float32, len(data))
	for i, v := range data {
		f[i] = float32(v)
	}
	return FromSlice(f, shape...)
}

// ZerosLike returns zeros of t's shape.
func ZerosLike(t *Tensor) *Tensor { return Zeros(t.shape...) }

// OnesLike returns ones of t's shape.
func OnesLike(t *Tensor) *Tensor { return Ones(t.shape...) }

// RNG is a seeded random generator for tensor initialisation: the same
// seed gives the same numbers on every platform.
type RNG struct{ r *rand.Rand }

// NewRNG returns a generator seeded with seed.
func NewRNG(seed uint64) *RNG {
	return &RNG{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Float32 returns a uniform value in [0, 1).
func (g *RNG) Float32() float32 { return g.r.Float32() }

// NormFloat32 returns a standard normal value.
func (g *RNG) NormFloat32() float32 { return float32(g.r.NormFloat64()) }

// IntN returns a uniform integer in [0, n).
func (g *RNG) IntN(n int) int { return g.r.IntN(n) }

// Perm returns a random permutation of [0, n).
func (g *RNG) Perm(n int) []int { return g.r.Perm(n) }

// Shuffle shuffles p in place.
func (g *RNG) Shuffle(p []int) { g.r.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] }) }

// RandN returns a tensor of standard normal values.
func RandN(g *RNG, shape ...int) *Tensor {
	checkShape(shape, "RandN")
	t := newTensor(shape, false)
	for i := range t.st.data {
		t.st.data[i] = g.NormFloat32()
	}
	return t
}

// RandU returns a tensor of values uniform in [lo, hi).
func RandU(g *RNG, lo, hi float32, shape ...int) *Tensor {
	checkShape(shape, "RandU")
	t := newTensor(shape, false)
	for i := range t.st.data {
		t.st.data[i] = lo + (hi-lo)*g.Float32()
	}
	return t
}

func checkShape(shape []int, op string) {
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("tensor: %s: negative dimension in shape %v", op, shape))
		}
	}
}
