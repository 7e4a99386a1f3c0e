package nn

import "github.com/shenml/shen/tensor"

// Activation layers hold no parameters; each wraps the tensor op of the
// same name so activations compose in Sequential as in torch.nn.
// Shape (all of them): any input; the output has its shape.

// ReLU is max(x, 0) (torch.nn.ReLU).
type ReLU struct{}

// Sigmoid is 1/(1+e^-x) (torch.nn.Sigmoid).
type Sigmoid struct{}

// Tanh is the hyperbolic tangent (torch.nn.Tanh).
type Tanh struct{}

// GELU is x·Φ(x); Approximate "tanh" selects the tanh form (torch.nn.GELU).
type GELU struct{ Approximate string }

// SiLU is x·sigmoid(x) (torch.nn.SiLU).
type SiLU struct{}

// LeakyReLU is x for x>0 and Slope·x otherwise (torch default slope 0.01).
type LeakyReLU struct{ Slope float32 }

// ELU is x for x>0 and Alpha·(e^x−1) otherwise (torch default alpha 1).
type ELU struct{ Alpha float32 }

// Softplus is log(1+e^(Beta·x))/Beta, linear above Threshold (torch defaults 1, 20).
type Softplus struct{ Beta, Threshold float32 }

// Softmax normalises exponentials along Axis (torch.nn.Softmax(dim)).
type Softmax struct{ Axis int }

// LogSoftmax is log(Softmax) along Axis, computed stably.
type LogSoftmax struct{ Axis int }

func (ReLU) Members() Members       { return Members{} }
func (Sigmoid) Members() Members    { return Members{} }
func (Tanh) Members() Members       { return Members{} }
func (GELU) Members() Members       { return Members{} }
func (SiLU) Members() Members       { return Members{} }
func (LeakyReLU) Members() Members  { return Members{} }
func (ELU) Members() Members        { return Members{} }
func (Softplus) Members() Members   { return Members{} }
func (Softmax) Members() Members    { return Members{} }
func (LogSoftmax) Members() Members { return Members{} }

func (ReLU) Forward(x *tensor.Tensor) *tensor.Tensor    { return tensor.ReLU(x) }
func (Sigmoid) Forward(x *tensor.Tensor) *tensor.Tensor { return tensor.Sigmoid(x) }
func (Tanh) Forward(x *tensor.Tensor) *tensor.Tensor    { return tensor.Tanh(x) }
func (SiLU) Forward(x *tensor.Tensor) *tensor.Tensor    { return tensor.SiLU(x) }

func (g GELU) Forward(x *tensor.Tensor) *tensor.Tensor {
	if g.Approximate == "tanh" {
		return tensor.GELUTanh(x)
	}
	return tensor.GELU(x)
}

func (l LeakyReLU) Forward(x *tensor.Tensor) *tensor.Tensor { return tensor.LeakyReLU(x, l.Slope) }
func (e ELU) Forward(x *tensor.Tensor) *tensor.Tensor       { return tensor.ELU(x, e.Alpha) }
func (s Softplus) Forward(x *tensor.Tensor) *tensor.Tensor {
	return tensor.Softplus(x, s.Beta, s.Threshold)
}
func (s Softmax) Forward(x *tensor.Tensor) *tensor.Tensor    { return tensor.Softmax(x, s.Axis) }
func (s LogSoftmax) Forward(x *tensor.Tensor) *tensor.Tensor { return tensor.LogSoftmax(x, s.Axis) }

// NewLeakyReLU returns LeakyReLU with torch's default slope 0.01.
func NewLeakyReLU() LeakyReLU { return LeakyReLU{Slope: 0.01} }

// NewELU returns ELU with torch's default alpha 1.
func NewELU() ELU { return ELU{Alpha: 1} }

// NewSoftplus returns Softplus with torch's defaults beta 1, threshold 20.
func NewSoftplus() Softplus { return Softplus{Beta: 1, Threshold: 20} }
