package nn

import (
	"math"
	"math/rand/v2"

	"github.com/shenml/shen/tensor"
)

// Linear applies y = x·Wᵀ + b over the last dimension (torch.nn.Linear).
// Weight is [out, in]; Bias is [out] or nil.
type Linear struct {
	Weight, Bias *tensor.Tensor
}

// NewLinear returns a Linear layer initialised as torch does: weight
// Kaiming-uniform with a=√5 (bound 1/√in) and bias uniform in ±1/√in.
func NewLinear(in, out int) *Linear {
	l := &Linear{Weight: newParam(out, in), Bias: newParam(out)}
	KaimingUniform(l.Weight, math.Sqrt(5))
	bound := 1 / math.Sqrt(float64(in))
	Uniform(l.Bias, -bound, bound)
	return l
}

// NewLinearNoBias returns a Linear layer without a bias.
func NewLinearNoBias(in, out int) *Linear {
	l := NewLinear(in, out)
	l.Bias = nil
	return l
}

// Members lists weight and bias.
func (l *Linear) Members() Members {
	return Members{Params: []Named[*tensor.Tensor]{{"weight", l.Weight}, {"bias", l.Bias}}}
}

// Forward returns x·Wᵀ + b in one fused GEMM.
func (l *Linear) Forward(x *tensor.Tensor) *tensor.Tensor { return tensor.Linear(x, l.Weight, l.Bias) }

// Flatten reshapes dims StartDim..EndDim into one (torch.nn.Flatten; default 1..-1).
type Flatten struct{ StartDim, EndDim int }

// NewFlatten flattens every dimension after the batch.
func NewFlatten() *Flatten { return &Flatten{StartDim: 1, EndDim: -1} }

// Members: none.
func (*Flatten) Members() Members { return Members{} }

// Forward flattens x.
func (f *Flatten) Forward(x *tensor.Tensor) *tensor.Tensor { return x.Flatten(f.StartDim, f.EndDim) }

// Identity returns its input (torch.nn.Identity).
type Identity struct{}

// Members: none.
func (Identity) Members() Members { return Members{} }

// Forward returns x.
func (Identity) Forward(x *tensor.Tensor) *tensor.Tensor { return x }

// Dropout zeroes each element with probability P during training and
// scales the rest by 1/(1-P) (torch.nn.Dropout); in evaluation mode it is
// the identity. The mask of training call k is drawn from a PCG generator
// seeded with (Seed, k), and Calls counts the calls (see RandomState), so
// the masks are reproducible and a run resumed with the saved Seed and
// Calls continues the same stream.
type Dropout struct {
	Mode
	P float32
	RandomState
}

// NewDropout returns a Dropout layer with drop probability p; its Seed is
// drawn from the default generator (SetSeed).
func NewDropout(p float32) *Dropout {
	return &Dropout{P: p, RandomState: newRandomState()}
}

// Members: none.
func (*Dropout) Members() Members { return Members{} }

// Forward applies dropout in training mode.
func (d *Dropout) Forward(x *tensor.Tensor) *tensor.Tensor {
	if !d.Training() || d.P == 0 {
		return x
	}
	m := tensor.Empty(x.Shape()...)
	dropoutMask(m.Data(), d.P, d.next())
	return tensor.Mul(x, m)
}

// dropoutMask fills dst with 0 (probability p) or 1/(1-p), one draw of g
// per element.
func dropoutMask(dst []float32, p float32, g *rand.Rand) {
	scale := 1 / (1 - p)
	for i := range dst {
		if g.Float32() < p {
			dst[i] = 0
		} else {
			dst[i] = scale
		}
	}
}

// DropoutMask returns a tensor of the given shape holding 0 with
// probability p and 1/(1-p) otherwise.
func DropoutMask(g *tensor.RNG, p float32, shape []int) *tensor.Tensor {
	m := tensor.Empty(shape...)
	scale := 1 / (1 - p)
	d := m.Data()
	for i := range d {
		if g.Float32() < p {
			d[i] = 0
		} else {
			d[i] = scale
		}
	}
	return m
}
