package model

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
)

// Architecture describes a network as data: a named family with its
// hyperparameters, or an explicit list of layers. It is stored in
// model.json and read from training configs.
type Architecture struct {
	// Kind is "mlp", "cnn", "layers", "lstm", "gru" or "transformer", or
	// the name of a custom architecture registered with Register, or a
	// kind registered with RegisterBuilder such as "onnx" (a model.onnx in
	// the artifact, run by package onnx; imported with `shen import`).
	Kind string `json:"kind" yaml:"kind"`
	// Config is a registered architecture's configuration, as JSON (see
	// Register and Custom); unused by the built-in kinds.
	Config json.RawMessage `json:"config,omitempty" yaml:"-"`
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
	// DModel is the encoder width (transformer).
	DModel int `json:"d_model,omitempty" yaml:"d_model"`
	// Heads is the number of attention heads, dividing d_model
	// (transformer).
	Heads int `json:"heads,omitempty" yaml:"heads"`
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
	Type string `json:"type" yaml:"type"`
	// Out is the output width of linear and the output channels of conv2d.
	Out int `json:"out,omitempty" yaml:"out"`
	// Kernel is the square kernel size of conv2d and pooling.
	Kernel int `json:"kernel,omitempty" yaml:"kernel"`
	// Stride is the step of conv2d (default 1) and pooling (default kernel).
	Stride int `json:"stride,omitempty" yaml:"stride"`
	// Padding is the zero padding of conv2d and pooling (default 0).
	Padding int `json:"padding,omitempty" yaml:"padding"`
	// P is the drop probability of dropout, in [0, 1).
	P float32 `json:"p,omitempty" yaml:"p"`
}

// Build constructs the network described by a, with fresh weights from the
// nn package's seeded generator. The error names the field at fault.
func Build(a Architecture) (nn.Layer, error) {
	if net, ok, err := buildRegistered(a); ok {
		return net, err
	}
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
	if !(a.Dropout >= 0 && a.Dropout < 1) {
		return nil, fmt.Errorf("architecture: dropout must be in [0, 1), got %g", a.Dropout)
	}
	if err := checkLayerNumbers(a); err != nil {
		return nil, err
	}
	b := bound(a)
	if err := b.check(); err != nil {
		return nil, err
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
	if externalBuilders[a.Kind] != nil {
		return nil, fmt.Errorf("architecture: kind %q is built from its artifact's files by model.Load, not from a config", a.Kind)
	}
	return nil, notRegistered(a.Kind)
}

// MaxParameters bounds the size of a network Build makes (1 GiB of float32
// weights), so a size typed wrong in a config or a damaged model.json is an
// error instead of an allocation that takes the machine down.
const MaxParameters = 1 << 28

// MaxActivations bounds the values one sample makes flow through any one
// layer (its input, padded input, im2col buffer or output; 256 MiB of
// float32), so a padding of 100000 or a huge image is refused before the
// first forward pass allocates it.
const MaxActivations = 1 << 26

// sizeBound is an over-estimate of what a network costs, in float64 so
// that absurd sizes cannot overflow, computed without allocating anything.
type sizeBound struct {
	params float64
	acts   float64 // the largest per-sample buffer of any layer
	where  string  // the layer of acts
}

// act records a per-sample buffer of n values made by the layer where.
func (b *sizeBound) act(n float64, where string) {
	if n > b.acts {
		b.acts, b.where = n, where
	}
}

// check reports a network over MaxParameters or MaxActivations.
func (b *sizeBound) check() error {
	if b.acts > MaxActivations {
		return fmt.Errorf("architecture: %s: about %.3g values per sample, more than the %d this build allows (check its padding, stride, kernel and the input shape)", b.where, b.acts, MaxActivations)
	}
	if b.params > MaxParameters {
		return fmt.Errorf("architecture: about %.3g parameters, more than the %d this build allows (a typo in a size?)", b.params, MaxParameters)
	}
	return nil
}

// bound over-estimates the parameters and the largest per-sample buffer
// of a, following the shapes through convolutions (with their padding and
// stride) and pooling windows.
func bound(a Architecture) sizeBound {
	f := func(v int) float64 { return float64(max(v, 1)) }
	var b sizeBound
	in := 1.0
	for _, d := range a.Input {
		in *= f(d)
	}
	b.act(in, "the input")
	feat := f(a.Input[len(a.Input)-1]) // per-step features of a sequence
	steps := f(a.Input[0])
	widest := f(a.Outputs)
	for _, h := range a.Hidden {
		widest = max(widest, f(h))
	}
	head := func(prev float64) { // the hidden Linear stack and the output layer
		for _, h := range append(append([]int(nil), a.Hidden...), a.Outputs) {
			b.params += (prev + 1) * f(h)
			b.act(f(h), "a hidden layer")
			prev = f(h)
		}
	}
	layers := f(a.NumLayers)
	switch {
	case a.Kind == "cnn" && len(a.Input) == 3:
		b.params += cnnBound(a, &b)
	case a.Kind == "layers":
		layersBound(a, &b)
	case a.Kind == "mlp":
		head(in)
	}
	if a.Kind == "cnn" && len(a.Input) != 3 {
		head(in)
	}
	if a.HiddenSize > 0 {
		h := f(a.HiddenSize)
		b.params += 4 * h * (feat + 2*h + 2) * layers * 2 // 4 gates, both directions
		b.params += (2*h + 1) * widest
		b.act(steps*8*h*layers, "the recurrent layers")
		head(2 * h)
	}
	if a.DModel > 0 {
		d := f(a.DModel)
		b.params += (feat+f(a.Outputs))*d + layers*(4*d*d+2*d*f(a.FF)+10*d) + f(a.MaxLen)*d
		b.act(f(a.Heads)*steps*steps, "attention")
		b.act(steps*max(d, f(a.FF), f(a.Outputs)), "the encoder")
		head(d)
	}
	return b
}

// cnnBound follows a cnn's convolutions (each with a 2x2 max pool) and
// returns their parameters plus the head's, recording buffers in b.
func cnnBound(a Architecture, b *sizeBound) float64 {
	f := func(v int) float64 { return float64(max(v, 1)) }
	k := a.Kernel
	if k == 0 {
		k = 3
	}
	pad := float64(k / 2)
	if a.Padding != nil {
		pad = float64(max(*a.Padding, 0))
	}
	kf := f(k)
	c, h, w := f(a.Input[0]), f(a.Input[1]), f(a.Input[2])
	params := 0.0
	for i, o := range a.Channels {
		where := fmt.Sprintf("convolution %d", i)
		params += c*f(o)*kf*kf + f(o)
		b.act(c*(h+2*pad)*(w+2*pad), where+" (padded input)")
		h, w = max(h+2*pad-kf+1, 1), max(w+2*pad-kf+1, 1)
		b.act(c*kf*kf*h*w, where+" (im2col)")
		b.act(f(o)*h*w, where)
		h, w, c = max(math.Floor(h/2), 1), max(math.Floor(w/2), 1), f(o)
	}
	prev := c * h * w
	for _, hd := range append(append([]int(nil), a.Hidden...), a.Outputs) {
		params += (prev + 1) * f(hd)
		prev = f(hd)
	}
	return params
}

// layersBound follows an explicit layer list's shapes, stopping where a
// shape stops making sense (Build reports that layer).
func layersBound(a Architecture, b *sizeBound) {
	f := func(v int) float64 { return float64(max(v, 1)) }
	shape := make([]float64, len(a.Input))
	for i, d := range a.Input {
		shape[i] = f(d)
	}
	prod := func() float64 {
		n := 1.0
		for _, d := range shape {
			n *= d
		}
		return n
	}
	for i, l := range a.Layers {
		where := fmt.Sprintf("layers[%d] (%s)", i, l.Type)
		switch strings.ToLower(l.Type) {
		case "linear":
			b.params += (shape[len(shape)-1] + 1) * f(l.Out)
			shape = []float64{f(l.Out)}
		case "conv2d":
			if len(shape) != 3 {
				return
			}
			k, st, pad := f(l.Kernel), f(l.Stride), float64(max(l.Padding, 0))
			b.params += shape[0]*f(l.Out)*k*k + f(l.Out)
			ph, pw := shape[1]+2*pad, shape[2]+2*pad
			b.act(shape[0]*ph*pw, where+" (padded input)")
			h, w := math.Floor((ph-k)/st)+1, math.Floor((pw-k)/st)+1
			if h < 1 || w < 1 {
				return
			}
			b.act(shape[0]*k*k*h*w, where+" (im2col)")
			shape = []float64{f(l.Out), h, w}
		case "maxpool2d", "avgpool2d":
			if len(shape) != 3 {
				return
			}
			k := f(max(l.Kernel, 2))
			shape = []float64{shape[0], math.Floor(shape[1] / k), math.Floor(shape[2] / k)}
		case "flatten":
			shape = []float64{prod()}
		case "batchnorm", "layernorm":
			b.params += 4 * shape[0] * shape[len(shape)-1]
		}
		b.act(prod(), where)
	}
}

// checkLayerNumbers refuses sizes no layer can take: negative padding,
// kernel or stride, and dropout probabilities outside [0, 1) or NaN.
func checkLayerNumbers(a Architecture) error {
	if a.Kernel < 0 || (a.Padding != nil && *a.Padding < 0) {
		return fmt.Errorf("architecture: kernel and padding must not be negative")
	}
	for i, l := range a.Layers {
		if l.Kernel < 0 || l.Stride < 0 || l.Padding < 0 || l.Out < 0 {
			return fmt.Errorf("architecture: layers[%d] (%s): out, kernel, stride and padding must not be negative", i, l.Type)
		}
		if strings.EqualFold(l.Type, "dropout") && !(l.P >= 0 && l.P < 1) {
			return fmt.Errorf("architecture: layers[%d] (dropout): p must be in [0, 1), got %g", i, l.P)
		}
		if l.Kernel > 0 && l.Padding > l.Kernel {
			return fmt.Errorf("architecture: layers[%d] (%s): padding %d is larger than the kernel %d", i, l.Type, l.Padding, l.Kernel)
		}
	}
	return nil
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
