package model

import (
	"fmt"
	"strings"

	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
)

// Architecture describes a network as data: a named family with its
// hyperparameters, or an explicit list of layers. It is stored in
// model.json and read from training configs.
type Architecture struct {
	// Kind is "mlp", "cnn", "layers", "lstm", "gru" or "transformer".
	Kind string `json:"kind" yaml:"kind"`
	// Input is the shape of one sample, without the batch dimension:
	// [features] for mlp, [channels, height, width] for cnn, [steps,
	// features] for lstm, gru and transformer, [steps] of token ids for a
	// causal transformer language model.
	Input []int `json:"input" yaml:"input"`
	// Outputs is the width of the last layer (classes, or regression targets).
	Outputs int `json:"outputs" yaml:"outputs"`

	// Hidden are the widths of the hidden Linear layers (mlp, and the head of cnn).
	Hidden []int `json:"hidden,omitempty" yaml:"hidden"`
	// Activation is relu (default), gelu, tanh, sigmoid, silu, leaky_relu or elu.
	Activation string `json:"activation,omitempty" yaml:"activation"`
	// Dropout is applied after each hidden activation when positive.
	Dropout float32 `json:"dropout,omitempty" yaml:"dropout"`
	// BatchNorm adds batch normalisation after each hidden Linear or convolution.
	BatchNorm bool `json:"batch_norm,omitempty" yaml:"batch_norm"`

	// Channels are the output channels of each convolution (cnn); each
	// convolution is followed by the activation and a 2x2 max pool.
	Channels []int `json:"channels,omitempty" yaml:"channels"`
	// Kernel is the square convolution kernel size (cnn; default 3).
	Kernel int `json:"kernel,omitempty" yaml:"kernel"`
	// Padding is the convolution padding (cnn; default kernel/2, "same").
	Padding *int `json:"padding,omitempty" yaml:"padding"`

	// Layers is the explicit layer list (kind "layers").
	Layers []LayerSpec `json:"layers,omitempty" yaml:"layers"`

	// HiddenSize is the recurrent state width per direction (lstm, gru).
	HiddenSize int `json:"hidden_size,omitempty" yaml:"hidden_size"`
	// NumLayers stacks recurrent or encoder layers (lstm, gru,
	// transformer; default 1). Dropout applies between recurrent layers,
	// inside the encoder layers, and after the head's hidden layers.
	NumLayers int `json:"num_layers,omitempty" yaml:"num_layers"`
	// Bidirectional adds a reversed pass (lstm, gru); the head sees both
	// directions' last hidden states.
	Bidirectional bool `json:"bidirectional,omitempty" yaml:"bidirectional"`
	// DModel is the encoder width and Heads its attention heads (transformer).
	DModel int `json:"d_model,omitempty" yaml:"d_model"`
	Heads  int `json:"heads,omitempty" yaml:"heads"`
	// FF is the feed-forward width of the encoder layers (default 4·d_model).
	FF int `json:"ff,omitempty" yaml:"ff"`
	// Norm is pre (default) or post: where the encoder layers normalise.
	Norm string `json:"norm,omitempty" yaml:"norm"`
	// Causal masks attention to earlier steps; with a [steps] input the
	// transformer is a language model over Outputs tokens.
	Causal bool `json:"causal,omitempty" yaml:"causal"`
	// MaxLen is the number of learned positions (default: the input steps).
	MaxLen int `json:"max_len,omitempty" yaml:"max_len"`

	// Rescale ends the network in a Rescale layer (set by the training
	// pipeline for regression on windows, not by configs).
	Rescale bool `json:"rescale,omitempty" yaml:"-"`
}

// Rescale maps standardised outputs to the target's units, y = x·Scale +
// Shift, with Scale and Shift [outputs] buffers fitted on the training
// targets: the network learns values of unit scale and the artifact still
// predicts in the target's units.
type Rescale struct{ Scale, Shift *tensor.Tensor }

// NewRescale returns the identity Rescale for n outputs.
func NewRescale(n int) *Rescale { return &Rescale{Scale: tensor.Ones(n), Shift: tensor.Zeros(n)} }

// Members lists the buffers scale and shift.
func (r *Rescale) Members() nn.Members {
	return nn.Members{Buffers: []nn.Named[*tensor.Tensor]{{Name: "scale", Value: r.Scale}, {Name: "shift", Value: r.Shift}}}
}

// Forward returns x·Scale + Shift.
func (r *Rescale) Forward(x *tensor.Tensor) *tensor.Tensor {
	return tensor.Add(tensor.Mul(x, r.Scale), r.Shift)
}

// LayerSpec is one layer of an explicit list. Shapes are inferred from the
// previous layer, so only the output size is given.
type LayerSpec struct {
	// Type is linear, conv2d, maxpool2d, avgpool2d, flatten, dropout,
	// batchnorm, layernorm, or an activation name.
	Type    string  `json:"type" yaml:"type"`
	Out     int     `json:"out,omitempty" yaml:"out"`
	Kernel  int     `json:"kernel,omitempty" yaml:"kernel"`
	Stride  int     `json:"stride,omitempty" yaml:"stride"`
	Padding int     `json:"padding,omitempty" yaml:"padding"`
	P       float32 `json:"p,omitempty" yaml:"p"`
}

// Build constructs the network described by a, with fresh weights from the
// nn package's seeded generator. The error names the field at fault.
func Build(a Architecture) (nn.Layer, error) {
	if len(a.Input) == 0 {
		return nil, fmt.Errorf("architecture: input shape is required")
	}
	if a.Outputs <= 0 && a.Kind != "layers" {
		return nil, fmt.Errorf("architecture: outputs must be positive, got %d", a.Outputs)
	}
	if _, err := activation(a.Activation); err != nil {
		return nil, err
	}
	for _, d := range a.Input {
		if d <= 0 {
			return nil, fmt.Errorf("architecture: input shape %v has a dimension that is not positive", a.Input)
		}
	}
	if a.Dropout < 0 || a.Dropout >= 1 {
		return nil, fmt.Errorf("architecture: dropout must be in [0, 1), got %g", a.Dropout)
	}
	if n := parameterBound(a); n > MaxParameters {
		return nil, fmt.Errorf("architecture: about %.3g parameters, more than the %d this build allows (a typo in a size?)", n, MaxParameters)
	}
	switch a.Kind {
	case "lstm", "gru":
		return buildRecurrent(a)
	case "transformer":
		return buildTransformer(a)
	case "mlp":
		return buildMLP(a)
	case "cnn":
		return buildCNN(a)
	case "layers":
		return buildLayers(a)
	}
	return nil, fmt.Errorf("architecture: unknown kind %q (want mlp, cnn, layers, lstm, gru or transformer)", a.Kind)
}

// MaxParameters bounds the size of a network Build makes (1 GiB of float32
// weights), so a size typed wrong in a config or a damaged model.json is an
// error instead of an allocation that takes the machine down.
const MaxParameters = 1 << 28

// parameterBound over-estimates the parameter count of a, in float64 so
// that absurd sizes cannot overflow, without allocating anything.
func parameterBound(a Architecture) float64 {
	f := func(v int) float64 { return float64(max(v, 1)) }
	in := 1.0
	for _, d := range a.Input {
		in *= f(d)
	}
	feat := f(a.Input[len(a.Input)-1]) // per-step features of a sequence
	widest := f(a.Outputs)
	for _, h := range a.Hidden {
		widest = max(widest, f(h))
	}
	head := 0.0 // the hidden Linear stack and the output layer
	prev := in
	for _, h := range append(append([]int(nil), a.Hidden...), a.Outputs) {
		head += (prev + 1) * f(h)
		prev = f(h)
	}
	total := head
	layers := f(a.NumLayers)
	k := f(a.Kernel) * f(a.Kernel)
	c := f(a.Input[0])
	for _, o := range a.Channels {
		total += c*f(o)*k + f(o)
		c = f(o)
	}
	for _, l := range a.Layers {
		kk := f(l.Kernel) * f(l.Kernel)
		total += (in + 1) * f(l.Out) * max(1, kk)
	}
	if a.HiddenSize > 0 {
		h := f(a.HiddenSize)
		total += 4 * h * (feat + 2*h + 2) * layers * 2 // 4 gates, both directions
		total += (2*h + 1) * widest
	}
	if a.DModel > 0 {
		d := f(a.DModel)
		total += (feat+f(a.Outputs))*d + layers*(4*d*d+2*d*f(a.FF)+10*d) + f(a.MaxLen)*d
	}
	return total
}

// activation returns the layer for an activation name.
func activation(name string) (nn.Layer, error) {
	switch strings.ToLower(name) {
	case "", "relu":
		return nn.ReLU{}, nil
	case "gelu":
		return nn.GELU{}, nil
	case "tanh":
		return nn.Tanh{}, nil
	case "sigmoid":
		return nn.Sigmoid{}, nil
	case "silu", "swish":
		return nn.SiLU{}, nil
	case "leaky_relu":
		return nn.NewLeakyReLU(), nil
	case "elu":
		return nn.NewELU(), nil
	}
	return nil, fmt.Errorf("architecture: unknown activation %q", name)
}

func buildMLP(a Architecture) (nn.Layer, error) {
	in := 1
	for _, d := range a.Input {
		in *= d
	}
	seq := nn.NewSequential()
	if len(a.Input) > 1 {
		seq.Append(nn.NewFlatten())
	}
	if err := appendHead(seq, a, in); err != nil {
		return nil, err
	}
	return seq, nil
}

// appendHead adds the hidden Linear blocks and the output layer.
func appendHead(seq *nn.Sequential, a Architecture, in int) error {
	for i, h := range a.Hidden {
		if h <= 0 {
			return fmt.Errorf("architecture: hidden[%d] must be positive, got %d", i, h)
		}
		seq.Append(nn.NewLinear(in, h))
		if a.BatchNorm {
			seq.Append(nn.NewBatchNorm1D(h))
		}
		act, err := activation(a.Activation)
		if err != nil {
			return err
		}
		seq.Append(act)
		if a.Dropout > 0 {
			seq.Append(nn.NewDropout(a.Dropout))
		}
		in = h
	}
	seq.Append(nn.NewLinear(in, a.Outputs))
	if a.Rescale {
		seq.Append(NewRescale(a.Outputs))
	}
	return nil
}

func buildCNN(a Architecture) (nn.Layer, error) {
	if len(a.Input) != 3 {
		return nil, fmt.Errorf("architecture: cnn input must be [channels, height, width], got %v", a.Input)
	}
	if len(a.Channels) == 0 {
		return nil, fmt.Errorf("architecture: cnn needs at least one entry in channels")
	}
	k := a.Kernel
	if k == 0 {
		k = 3
	}
	pad := k / 2
	if a.Padding != nil {
		pad = *a.Padding
	}
	c, h, w := a.Input[0], a.Input[1], a.Input[2]
	seq := nn.NewSequential()
	for i, out := range a.Channels {
		seq.Append(nn.NewConv2D(c, out, k, nn.Padding(pad)))
		if a.BatchNorm {
			seq.Append(nn.NewBatchNorm2D(out))
		}
		act, err := activation(a.Activation)
		if err != nil {
			return nil, err
		}
		seq.Append(act)
		h, w = h+2*pad-k+1, w+2*pad-k+1
		if h < 2 || w < 2 {
			return nil, fmt.Errorf("architecture: cnn input %v is too small for convolution %d (kernel %d, padding %d, then 2x2 pooling)", a.Input, i, k, pad)
		}
		seq.Append(nn.NewMaxPool2D(2))
		h, w, c = h/2, w/2, out
	}
	seq.Append(nn.NewFlatten())
	if err := appendHead(seq, a, c*h*w); err != nil {
		return nil, err
	}
	return seq, nil
}

func buildLayers(a Architecture) (nn.Layer, error) {
	if len(a.Layers) == 0 {
		return nil, fmt.Errorf("architecture: kind layers needs a layers list")
	}
	shape := append([]int(nil), a.Input...)
	seq := nn.NewSequential()
	for i, l := range a.Layers {
		where := fmt.Sprintf("architecture: layers[%d] (%s)", i, l.Type)
		switch strings.ToLower(l.Type) {
		case "linear":
			if len(shape) != 1 || l.Out <= 0 {
				return nil, fmt.Errorf("%s: needs a flat input and out > 0; input here is %v", where, shape)
			}
			seq.Append(nn.NewLinear(shape[0], l.Out))
			shape = []int{l.Out}
		case "conv2d":
			if len(shape) != 3 || l.Out <= 0 || l.Kernel <= 0 {
				return nil, fmt.Errorf("%s: needs a [C,H,W] input, out and kernel; input here is %v", where, shape)
			}
			st := max(l.Stride, 1)
			seq.Append(nn.NewConv2D(shape[0], l.Out, l.Kernel, nn.Stride(st), nn.Padding(l.Padding)))
			shape = []int{l.Out, (shape[1]+2*l.Padding-l.Kernel)/st + 1, (shape[2]+2*l.Padding-l.Kernel)/st + 1}
		case "maxpool2d", "avgpool2d":
			k := max(l.Kernel, 2)
			if len(shape) != 3 {
				return nil, fmt.Errorf("%s: needs a [C,H,W] input; input here is %v", where, shape)
			}
			if l.Type == "maxpool2d" {
				seq.Append(nn.NewMaxPool2D(k))
			} else {
				seq.Append(nn.NewAvgPool2D(k))
			}
			shape = []int{shape[0], shape[1] / k, shape[2] / k}
		case "flatten":
			n := 1
			for _, d := range shape {
				n *= d
			}
			seq.Append(nn.NewFlatten())
			shape = []int{n}
		case "dropout":
			seq.Append(nn.NewDropout(l.P))
		case "batchnorm":
			if len(shape) == 3 {
				seq.Append(nn.NewBatchNorm2D(shape[0]))
			} else {
				seq.Append(nn.NewBatchNorm1D(shape[0]))
			}
		case "layernorm":
			seq.Append(nn.NewLayerNorm(shape[len(shape)-1]))
		default:
			act, err := activation(l.Type)
			if err != nil {
				return nil, fmt.Errorf("%s: unknown layer type", where)
			}
			seq.Append(act)
		}
		for _, d := range shape {
			if d <= 0 {
				return nil, fmt.Errorf("%s: output shape %v is empty", where, shape)
			}
		}
	}
	return seq, nil
}

// OutputShape runs a zero sample through m (without gradients) and returns
// the per-sample output shape; it checks that an architecture is consistent.
func OutputShape(m nn.Layer, input []int) (out []int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("architecture does not fit input %v: %v", input, r)
		}
	}()
	nn.Train(m, false)
	defer nn.Train(m, true)
	nn.NoGrad(m, func() {
		x := tensor.Zeros(append([]int{1}, input...)...)
		out = append([]int(nil), m.Forward(x).Shape()[1:]...)
	})
	return out, nil
}
