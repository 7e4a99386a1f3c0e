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
	excludePad                bool
	ceil                      bool
}

// Kernel is a kernel size: an int for a square (or 1-d) kernel, or a pair
// [2]int{height, width}, as torch's kernel_size takes an int or a tuple:
// NewConv2D(3, 8, 3) is Conv2d(3, 8, 3) and NewConv2D(3, 8, [2]int{3, 1})
// is Conv2d(3, 8, (3, 1)).
type Kernel interface{ int | [2]int }

func kernelPair[K Kernel](k K) [2]int {
	switch v := any(k).(type) {
	case int:
		return [2]int{v, v}
	case [2]int:
		return v
	}
	panic("unreachable")
}

// Stride sets the step of the window: one value for every spatial dim, or
// one per dim (Stride(2, 1) is torch's stride=(2, 1)).
func Stride(s ...int) ConvOption { return func(c *convConfig) { c.stride = pair(s, "Stride") } }

// Padding sets the zero padding added on both sides: one value, or one per
// spatial dim (Padding(1, 0) is torch's padding=(1, 0)).
func Padding(p ...int) ConvOption { return func(c *convConfig) { c.padding = pair(p, "Padding") } }

// CountIncludePad sets average pooling's count_include_pad: whether the
// zeros of the padding count in each window's divisor. Torch's default,
// and Shen's, is true.
func CountIncludePad(on bool) ConvOption { return func(c *convConfig) { c.excludePad = !on } }

// CeilMode makes pooling round its output size up (torch's ceil_mode=True).
func CeilMode() ConvOption { return func(c *convConfig) { c.ceil = true } }

// PaddingSame pads so the output has the input's spatial size (stride 1
// only), as torch's padding="same".
func PaddingSame() ConvOption { return func(c *convConfig) { c.same = true } }

// Dilation sets the spacing between kernel taps: one value, or one per
// spatial dim (convolutions and max pooling).
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

// Conv2D is a 2-d convolution (torch.nn.Conv2d). Weight is
// [out, in/groups, kH, kW], Bias [out] or nil.
//
// Shape: input [N, in, H, W] or unbatched [in, H, W]; output
// [N, out, OH, OW] or [out, OH, OW], with
// OH = ⌊(H + 2·padH − dilH·(kH−1) − 1)/strideH⌋ + 1 and OW likewise.
type Conv2D struct {
	Weight, Bias *tensor.Tensor
	Options      tensor.Conv2DOptions
	// ExtraPad is the one-sided zero padding (after the input, [height,
	// width]) that padding "same" needs with an even kernel.
	ExtraPad [2]int
}

// NewConv2D returns torch.nn.Conv2d(in, out, kernel, ...) with the
// options (Stride, Padding, PaddingSame, Dilation, Groups, NoBias; each
// takes one value or one per dim), initialised as torch (Kaiming-uniform
// a=√5, bias uniform ±1/√fan_in). kernel is an int or a [2]int{kH, kW}.
func NewConv2D[K Kernel](in, out int, kernel K, opts ...ConvOption) *Conv2D {
	k := kernelPair(kernel)
	cfg := buildConv(opts, k)
	if in%cfg.groups != 0 || out%cfg.groups != 0 {
		panic(fmt.Sprintf("nn: Conv2D channels %d→%d must divide into %d groups", in, out, cfg.groups))
	}
	c := &Conv2D{Weight: newParam(out, in/cfg.groups, k[0], k[1]),
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

// Forward convolves x, batched or not (see Shape).
func (c *Conv2D) Forward(x *tensor.Tensor) *tensor.Tensor {
	if c.ExtraPad != [2]int{} {
		x = tensor.Pad(x, 0, c.ExtraPad[1], 0, c.ExtraPad[0])
	}
	return tensor.Conv2D(x, c.Weight, c.Bias, c.Options)
}

// Conv1D is a 1-d convolution (torch.nn.Conv1d). Weight is
// [out, in/groups, k], Bias [out] or nil.
//
// Shape: input [N, in, L] or unbatched [in, L]; output [N, out, OL] or
// [out, OL], OL = ⌊(L + 2·pad − dil·(k−1) − 1)/stride⌋ + 1.
type Conv1D struct {
	Weight, Bias *tensor.Tensor
	Options      tensor.Conv1DOptions
	// ExtraPad is the one-sided zero padding after the input that padding
	// "same" needs with an even kernel.
	ExtraPad int
}

// NewConv1D returns torch.nn.Conv1d(in, out, kernel, ...) with the options
// (Stride, Padding, PaddingSame, Dilation, Groups, NoBias), initialised as
// torch.
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

// Forward convolves x, batched or not (see Shape).
func (c *Conv1D) Forward(x *tensor.Tensor) *tensor.Tensor {
	if c.ExtraPad != 0 {
		x = tensor.Pad(x, 0, c.ExtraPad)
	}
	return tensor.Conv1D(x, c.Weight, c.Bias, c.Options)
}

// MaxPool2D takes the maximum over each window (torch.nn.MaxPool2d).
//
// Shape: input [N, C, H, W] or unbatched [C, H, W]; output
// [N, C, OH, OW] or [C, OH, OW], OH = ⌊(H + 2·padH − dilH·(kH−1) − 1)/strideH⌋ + 1
// (rounded up with CeilMode) and OW likewise.
type MaxPool2D struct{ Options tensor.PoolOptions }

// AvgPool2D averages over each window (torch.nn.AvgPool2d), padding
// counted in the divisor unless CountIncludePad(false).
//
// Shape: as MaxPool2D (no dilation).
type AvgPool2D struct{ Options tensor.PoolOptions }

// NewMaxPool2D returns torch.nn.MaxPool2d(kernel, ...): kernel an int or a
// [2]int{kH, kW}; options Stride (default: the kernel), Padding, Dilation,
// CeilMode.
func NewMaxPool2D[K Kernel](kernel K, opts ...ConvOption) *MaxPool2D {
	return &MaxPool2D{Options: poolOptions(kernelPair(kernel), opts)}
}

// NewAvgPool2D returns torch.nn.AvgPool2d(kernel, ...): kernel an int or a
// [2]int{kH, kW}; options Stride (default: the kernel), Padding, CeilMode,
// CountIncludePad (default true, as torch).
func NewAvgPool2D[K Kernel](kernel K, opts ...ConvOption) *AvgPool2D {
	o := poolOptions(kernelPair(kernel), opts)
	if o.Dilation != [2]int{1, 1} {
		panic("nn: AvgPool2D has no dilation (as torch.nn.AvgPool2d)")
	}
	return &AvgPool2D{Options: o}
}

func poolOptions(kernel [2]int, opts []ConvOption) tensor.PoolOptions {
	c := convConfig{stride: kernel, dilation: [2]int{1, 1}}
	for _, o := range opts {
		o(&c)
	}
	if c.same || c.groups != 0 || c.noBias {
		panic("nn: pooling takes Stride, Padding, Dilation, CeilMode and CountIncludePad only")
	}
	return tensor.PoolOptions{Kernel: kernel, Stride: c.stride, Padding: c.padding, Dilation: c.dilation,
		CeilMode: c.ceil, ExcludePad: c.excludePad}
}

// Members: none.
func (*MaxPool2D) Members() Members { return Members{} }

// Members: none.
func (*AvgPool2D) Members() Members { return Members{} }

// Forward pools x, batched or not (see Shape).
func (p *MaxPool2D) Forward(x *tensor.Tensor) *tensor.Tensor { return tensor.MaxPool2D(x, p.Options) }

// Forward pools x, batched or not (see Shape).
func (p *AvgPool2D) Forward(x *tensor.Tensor) *tensor.Tensor { return tensor.AvgPool2D(x, p.Options) }

// MaxPool1D takes the maximum over windows (torch.nn.MaxPool1d).
//
// Shape: input [N, C, L] or unbatched [C, L]; output [N, C, OL] or
// [C, OL], OL = ⌊(L + 2·pad − dil·(k−1) − 1)/stride⌋ + 1.
type MaxPool1D struct{ Options tensor.Pool1DOptions }

// AvgPool1D averages over windows (torch.nn.AvgPool1d), padding counted
// in the divisor unless CountIncludePad(false).
//
// Shape: as MaxPool1D (no dilation).
type AvgPool1D struct{ Options tensor.Pool1DOptions }

// NewMaxPool1D returns torch.nn.MaxPool1d(kernel, ...); options Stride
// (default: the kernel), Padding, Dilation, CeilMode.
func NewMaxPool1D(kernel int, opts ...ConvOption) *MaxPool1D {
	return &MaxPool1D{Options: pool1D(poolOptions([2]int{1, kernel}, widthOnly(opts)))}
}

// NewAvgPool1D returns torch.nn.AvgPool1d(kernel, ...); options Stride
// (default: the kernel), Padding, CeilMode, CountIncludePad (default
// true, as torch).
func NewAvgPool1D(kernel int, opts ...ConvOption) *AvgPool1D {
	o := pool1D(poolOptions([2]int{1, kernel}, widthOnly(opts)))
	if o.Dilation != 1 {
		panic("nn: AvgPool1D has no dilation (as torch.nn.AvgPool1d)")
	}
	return &AvgPool1D{Options: o}
}

// widthOnly applies 1-d options to the width of a height-1 window: a
// single value given to Stride, Padding or Dilation is the width's.
func widthOnly(opts []ConvOption) []ConvOption {
	return []ConvOption{func(c *convConfig) {
		h := *c
		for _, o := range opts {
			o(&h)
		}
		c.stride[1], c.padding[1], c.dilation[1] = h.stride[1], h.padding[1], h.dilation[1]
		c.ceil, c.excludePad, c.same, c.groups, c.noBias = h.ceil, h.excludePad, h.same, h.groups, h.noBias
	}}
}

func pool1D(o tensor.PoolOptions) tensor.Pool1DOptions {
	return tensor.Pool1DOptions{Kernel: o.Kernel[1], Stride: o.Stride[1], Padding: o.Padding[1], Dilation: o.Dilation[1],
		CeilMode: o.CeilMode, ExcludePad: o.ExcludePad}
}

// Members: none.
func (*MaxPool1D) Members() Members { return Members{} }

// Members: none.
func (*AvgPool1D) Members() Members { return Members{} }

// Forward pools x, batched or not (see Shape).
func (p *MaxPool1D) Forward(x *tensor.Tensor) *tensor.Tensor { return tensor.MaxPool1D(x, p.Options) }

// Forward pools x, batched or not (see Shape).
func (p *AvgPool1D) Forward(x *tensor.Tensor) *tensor.Tensor { return tensor.AvgPool1D(x, p.Options) }

// GlobalAvgPool2D averages each channel over H and W
// (torch.nn.AdaptiveAvgPool2d(1) followed by flatten).
//
// Shape: input [N, C, H, W] or unbatched [C, H, W]; output [N, C] or [C].
type GlobalAvgPool2D struct{}

// Members: none.
func (GlobalAvgPool2D) Members() Members { return Members{} }

// Forward averages over the spatial dims.
func (GlobalAvgPool2D) Forward(x *tensor.Tensor) *tensor.Tensor { return tensor.Mean(x, false, -2, -1) }
