package nn

import (
	"math"

	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/tensor"
)

// Linear applies y = x·Wᵀ + b over the last dimension (torch.nn.Linear).
// Weight is [out, in]; Bias is [out] or nil.
//
// Shape: input [*, in] (any leading dims, none for one vector); output
// [*, out].
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
//
// Shape: [N, d1, ..., dk] to [N, d1·...·dk] with the defaults.
type Flatten struct{ StartDim, EndDim int }

// NewFlatten flattens every dimension after the batch.
func NewFlatten() *Flatten { return &Flatten{StartDim: 1, EndDim: -1} }

// Members: none.
func (*Flatten) Members() Members { return Members{} }

// Forward flattens x: a view of x when x is contiguous, a copy otherwise.
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
//
// Shape: any; the output has the input's shape.
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

// Forward applies dropout in training mode: one fused op whose backward
// multiplies the gradient by the same mask. The mask joins the graph as a
// gradient-less node, so FreeGraph returns its buffer with the step's.
func (d *Dropout) Forward(x *tensor.Tensor) *tensor.Tensor {
	if !d.Training() || d.P == 0 {
		return x
	}
	x = x.Contiguous()
	mask := tensor.Full(1, x.Shape()...)
	md := mask.Data()
	dropoutInto(md, md, d.P, d.next().Uint64())
	out := tensor.Empty(x.Shape()...)
	kernel.Mul(out.Data(), x.Data(), md)
	tensor.Record(mask, "Dropout.mask", []*tensor.Tensor{x}, func(*tensor.Tensor, []*tensor.Tensor) {})
	return tensor.Record(out, "Dropout", []*tensor.Tensor{x, mask}, func(g *tensor.Tensor, grads []*tensor.Tensor) {
		dx := tensor.Empty(g.Shape()...)
		kernel.Mul(dx.Data(), g.Contiguous().Data(), md)
		grads[0] = dx
	})
}
