package nn

import (
	"fmt"
	"math"

	"github.com/shenml/shen/tensor"
)

// ConvOption adjusts a convolution or pooling layer at construction.
type ConvOption func(*convConfig)

type convConfig struct {
	stride, padding, dilation [2]int
	same                      bool
	extra                     [2]int // "same" padding's one extra zero after the input, per dim
	groups                    int
	noBias                    bool
}

// Stride sets the step of the window (one value for every spatial dim).
func Stride(s ...int) ConvOption { return func(c *convConfig) { c.stride = pair(s, "Stride") } }

// Padding sets the zero padding added on both sides.
func Padding(p ...int) ConvOption { return func(c *convConfig) { c.padding = pair(p, "Padding") } }

// PaddingSame pads so the output has the input's spatial size (stride 1
// only), as torch's padding="same".
func PaddingSame() ConvOption { return func(c *convConfig) { c.same = true } }

// Dilation sets the spacing between kernel taps.
func Dilation(d ...int) ConvOption { return func(c *convConfig) { c.dilation = pair(d, "Dilation") } }

// Groups splits channels into independent groups (Groups(in) is depthwise).
func Groups(g int) ConvOption { return func(c *convConfig) { c.groups = g } }

// NoBias leaves the convolution without a bias.
func NoBias() ConvOption { return func(c *convConfig) { c.noBias = true } }

func pair(v []int, what string) [2]int {
	switch len(v) {
	case 1:
		return [2]int{v[0], v[0]}
	case 2:
		return [2]int{v[0], v[1]}
	}
	panic(fmt.Sprintf("nn: %s takes 1 or 2 values, got %v", what, v))
}

func buildConv(opts []ConvOption, kernel [2]int) convConfig {
	c := convConfig{stride: [2]int{1, 1}, dilation: [2]int{1, 1}, groups: 1}
	for _, o := range opts {
		o(&c)
	}
	if c.same {
		if c.stride != [2]int{1, 1} {
			panic("nn: padding same needs stride 1, as in torch")
		}
		// As torch: the total padding d·(k−1) is split with the odd zero,
		// if any, after the input.
		for i := range 2 {
			total := c.dilation[i] * (kernel[i] - 1)
			c.padding[i] = total / 2
			c.extra[i] = total % 2
		}
	}
	return c
}

// Conv2D is a 2-d convolution over [N, C, H, W] (torch.nn.Conv2d). Weight
// is [out, in/groups, kh, kw].
type Conv2D struct {
	Weight, Bias *tensor.Tensor
	Options      tensor.Conv2DOptions
	// ExtraPad is the one-sided zero padding (after the input, [height,
	// width]) that padding "same" needs with an even kernel.
	ExtraPad [2]int
}

// NewConv2D returns a Conv2D with a square kernel, initialised as torch
// (Kaiming-uniform a=√5, bias uniform ±1/√fan_in).
func NewConv2D(in, out, kernel int, opts ...ConvOption) *Conv2D {
	cfg := buildConv(opts, [2]int{kernel, kernel})
	if in%cfg.groups != 0 || out%cfg.groups != 0 {
		panic(fmt.Sprintf("nn: Conv2D channels %d→%d must divide into %d groups", in, out, cfg.groups))
	}
	c := &Conv2D{Weight: newParam(out, in/cfg.groups, kernel, kernel),
		Options:  tensor.Conv2DOptions{Stride: cfg.stride, Padding: cfg.padding, Dilation: cfg.dilation, Groups: cfg.groups},
		ExtraPad: cfg.extra}
	initConv(c.Weight, &c.Bias, out, cfg.noBias)
	return c
}

func initConv(w *tensor.Tensor, b **tensor.Tensor, out int, noBias bool) {
	KaimingUniform(w, math.Sqrt(5))
	if noBias {
		return
	}
	*b = newParam(out)
	fanIn, _ := Fans(w.Shape())
	bound := 1 / math.Sqrt(float64(fanIn))
	Uniform(*b, -bound, bound)
}

// Members lists weight and bias.
func (c *Conv2D) Members() Members {
	return Members{Params: []Named[*tensor.Tensor]{{"weight", c.Weight}, {"bias", c.Bias}}}
}

// Forward convolves x.
func (c *Conv2D) Forward(x *tensor.Tensor) *tensor.Tensor {
	if c.ExtraPad != [2]int{} {
		x = tensor.Pad(x, 0, c.ExtraPad[1], 0, c.ExtraPad[0])
	}
	return tensor.Conv2D(x, c.Weight, c.Bias, c.Options)
}

// Conv1D is a 1-d convolution over [N, C, L] (torch.nn.Conv1d). Weight is
// [out, in/groups, k].
type Conv1D struct {
	Weight, Bias *tensor.Tensor
	Options      tensor.Conv1DOptions
	// ExtraPad is the one-sided zero padding after the input that padding
	// "same" needs with an even kernel.
	ExtraPad int
}

// NewConv1D returns a Conv1D initialised as torch.
func NewConv1D(in, out, kernel int, opts ...ConvOption) *Conv1D {
	cfg := buildConv(opts, [2]int{kernel, 1})
	if in%cfg.groups != 0 || out%cfg.groups != 0 {
		panic(fmt.Sprintf("nn: Conv1D channels %d→%d must divide into %d groups", in, out, cfg.groups))
	}
	c := &Conv1D{Weight: newParam(out, in/cfg.groups, kernel),
		Options:  tensor.Conv1DOptions{Stride: cfg.stride[0], Padding: cfg.padding[0], Dilation: cfg.dilation[0], Groups: cfg.groups},
		ExtraPad: cfg.extra[0]}
	initConv(c.Weight, &c.Bias, out, cfg.noBias)
	return c
}

// Members lists weight and bias.
func (c *Conv1D) Members() Members {
	return Members{Params: []Named[*tensor.Tensor]{{"weight", c.Weight}, {"bias", c.Bias}}}
}

// Forward convolves x.
func (c *Conv1D) Forward(x *tensor.Tensor) *tensor.Tensor {
	if c.ExtraPad != 0 {
		x = tensor.Pad(x, 0, c.ExtraPad)
	}
	return tensor.Conv1D(x, c.Weight, c.Bias, c.Options)
}

// MaxPool2D takes the maximum over Kernel windows (torch.nn.MaxPool2d).
type MaxPool2D struct{ Options tensor.PoolOptions }

// AvgPool2D averages over Kernel windows (torch.nn.AvgPool2d, padding counted).
type AvgPool2D struct{ Options tensor.PoolOptions }

// NewMaxPool2D returns a square max pool; stride defaults to the kernel.
func NewMaxPool2D(kernel int, opts ...ConvOption) *MaxPool2D {
	return &MaxPool2D{Options: poolOptions(kernel, opts)}
}

// NewAvgPool2D returns a square average pool; stride defaults to the kernel.
func NewAvgPool2D(kernel int, opts ...ConvOption) *AvgPool2D {
	return &AvgPool2D{Options: poolOptions(kernel, opts)}
}

func poolOptions(kernel int, opts []ConvOption) tensor.PoolOptions {
	c := convConfig{stride: [2]int{kernel, kernel}}
	for _, o := range opts {
		o(&c)
	}
	return tensor.PoolOptions{Kernel: [2]int{kernel, kernel}, Stride: c.stride, Padding: c.padding}
}

// Members: none.
func (*MaxPool2D) Members() Members { return Members{} }

// Members: none.
func (*AvgPool2D) Members() Members { return Members{} }

// Forward pools x.
func (p *MaxPool2D) Forward(x *tensor.Tensor) *tensor.Tensor { return tensor.MaxPool2D(x, p.Options) }

// Forward pools x.
func (p *AvgPool2D) Forward(x *tensor.Tensor) *tensor.Tensor { return tensor.AvgPool2D(x, p.Options) }

// MaxPool1D takes the maximum over windows of [N, C, L] (torch.nn.MaxPool1d).
type MaxPool1D struct{ Kernel, Stride, Padding int }

// NewMaxPool1D returns a max pool with stride = kernel.
func NewMaxPool1D(kernel int) *MaxPool1D { return &MaxPool1D{Kernel: kernel, Stride: kernel} }

// Members: none.
func (*MaxPool1D) Members() Members { return Members{} }

// Forward pools x.
func (p *MaxPool1D) Forward(x *tensor.Tensor) *tensor.Tensor {
	return tensor.MaxPool1D(x, tensor.Pool1DOptions{Kernel: p.Kernel, Stride: p.Stride, Padding: p.Padding})
}

// GlobalAvgPool2D averages each channel over H and W: [N, C, H, W] → [N, C]
// (torch.nn.AdaptiveAvgPool2d(1) followed by flatten).
type GlobalAvgPool2D struct{}

// Members: none.
func (GlobalAvgPool2D) Members() Members { return Members{} }

// Forward averages over the spatial dims.
func (GlobalAvgPool2D) Forward(x *tensor.Tensor) *tensor.Tensor { return tensor.Mean(x, false, 2, 3) }
