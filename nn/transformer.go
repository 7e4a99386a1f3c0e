package nn

import (
	"fmt"
	"strconv"

	"github.com/shenml/shen/tensor"
)

// TransformerEncoderLayerConfig holds the constructor arguments of
// torch.nn.TransformerEncoderLayer. Start from
// DefaultTransformerEncoderLayerConfig to get torch's defaults.
type TransformerEncoderLayerConfig struct {
	DModel, NHead  int
	DimFeedforward int     // width of the feed-forward block (torch default 2048)
	Dropout        float32 // after attention, inside and after the feed-forward block (torch default 0.1)
	Activation     string  // "relu" (torch default) or "gelu" (exact, erf form)
	LayerNormEps   float32 // torch default 1e-5
	NormFirst      bool    // pre-norm (true) or post-norm (false, torch default)
}

// DefaultTransformerEncoderLayerConfig returns torch's defaults for a layer
// of width dModel with nHead heads: feed-forward 2048, dropout 0.1, ReLU,
// eps 1e-5, post-norm.
func DefaultTransformerEncoderLayerConfig(dModel, nHead int) TransformerEncoderLayerConfig {
	return TransformerEncoderLayerConfig{DModel: dModel, NHead: nHead, DimFeedforward: 2048,
		Dropout: 0.1, Activation: "relu", LayerNormEps: 1e-5}
}

// TransformerEncoderLayer is torch.nn.TransformerEncoderLayer with
// batch_first=True: self-attention and a feed-forward block, each with a
// residual connection and a LayerNorm, on inputs [B, L, DModel]. Post-norm
// (NormFirst false) computes
//
//	x = norm1(x + dropout1(self_attn(x)))
//	x = norm2(x + dropout2(linear2(dropout(act(linear1(x))))))
//
// and pre-norm applies each norm to the block's input instead:
// x = x + dropout1(self_attn(norm1(x))), and likewise for the feed-forward.
//
// Children carry torch's names (self_attn, linear1, dropout, linear2,
// norm1, norm2, dropout1, dropout2), so state dict keys match torch's.
//
// Shape: input [B, L, DModel] (batch first, as torch's batch_first=True)
// or unbatched [L, DModel]; output the same. Masks as MultiHeadAttention's.
//
// Cost per call with B·L tokens of width d and feed-forward width f:
// about 8·BL·d² + 4·BL·L·d (attention) + 4·BL·d·f (feed-forward) flops
// forward and twice that backward.
type TransformerEncoderLayer struct {
	SelfAttn           *MultiHeadAttention
	Linear1            *Linear
	Dropout            *Dropout
	Linear2            *Linear
	Norm1, Norm2       *LayerNorm
	Dropout1, Dropout2 *Dropout
	Activation         string // "relu" or "gelu"
	NormFirst          bool
}

// NewTransformerEncoderLayer returns a layer built as torch builds it: the
// attention as NewMultiHeadAttention (with bias), the two Linears and the
// LayerNorms with their default initialisation. It panics on an unknown
// activation or a head count that does not divide DModel.
func NewTransformerEncoderLayer(cfg TransformerEncoderLayerConfig) *TransformerEncoderLayer {
	if cfg.Activation != "relu" && cfg.Activation != "gelu" {
		panic(fmt.Sprintf("nn: TransformerEncoderLayer: activation %q, want \"relu\" or \"gelu\"", cfg.Activation))
	}
	if cfg.DimFeedforward <= 0 {
		panic(fmt.Sprintf("nn: TransformerEncoderLayer: DimFeedforward %d must be positive", cfg.DimFeedforward))
	}
	l := &TransformerEncoderLayer{
		SelfAttn:   NewMultiHeadAttention(cfg.DModel, cfg.NHead, cfg.Dropout, true),
		Linear1:    NewLinear(cfg.DModel, cfg.DimFeedforward),
		Dropout:    NewDropout(cfg.Dropout),
		Linear2:    NewLinear(cfg.DimFeedforward, cfg.DModel),
		Norm1:      NewLayerNorm(cfg.DModel),
		Norm2:      NewLayerNorm(cfg.DModel),
		Dropout1:   NewDropout(cfg.Dropout),
		Dropout2:   NewDropout(cfg.Dropout),
		Activation: cfg.Activation,
		NormFirst:  cfg.NormFirst,
	}
	l.Norm1.Eps, l.Norm2.Eps = cfg.LayerNormEps, cfg.LayerNormEps
	return l
}

// Members lists the children under torch's names.
func (l *TransformerEncoderLayer) Members() Members {
	return Members{Children: []Named[Module]{
		{"self_attn", l.SelfAttn}, {"linear1", l.Linear1}, {"dropout", l.Dropout},
		{"linear2", l.Linear2}, {"norm1", l.Norm1}, {"norm2", l.Norm2},
		{"dropout1", l.Dropout1}, {"dropout2", l.Dropout2},
	}}
}

// Forward runs the layer on x [B, L, DModel] (or [L, DModel]). opt carries
// torch's src_mask (AttnMask, AttnMaskBool, Causal) and
// src_key_padding_mask (KeyPaddingMask); its weight switches are ignored.
func (l *TransformerEncoderLayer) Forward(x *tensor.Tensor, opt AttentionOptions) *tensor.Tensor {
	opt.NeedWeights = false
	if l.NormFirst {
		x = tensor.Add(x, l.selfAttention(l.Norm1.Forward(x), opt))
		return tensor.Add(x, l.feedForward(l.Norm2.Forward(x)))
	}
	x = l.Norm1.Forward(tensor.Add(x, l.selfAttention(x, opt)))
	return l.Norm2.Forward(tensor.Add(x, l.feedForward(x)))
}

func (l *TransformerEncoderLayer) selfAttention(x *tensor.Tensor, opt AttentionOptions) *tensor.Tensor {
	y, _ := l.SelfAttn.Forward(x, x, x, opt)
	return l.Dropout1.Forward(y)
}

func (l *TransformerEncoderLayer) feedForward(x *tensor.Tensor) *tensor.Tensor {
	h := l.Linear1.Forward(x)
	if l.Activation == "gelu" {
		h = tensor.GELU(h)
	} else {
		h = tensor.ReLU(h)
	}
	return l.Dropout2.Forward(l.Linear2.Forward(l.Dropout.Forward(h)))
}

// TransformerEncoder is torch.nn.TransformerEncoder: Layers applied in
// turn, then Norm when it is not nil. State dict keys are torch's
// (layers.0.self_attn.in_proj_weight, ..., norm.weight).
//
// Shape: as TransformerEncoderLayer.
type TransformerEncoder struct {
	Layers []*TransformerEncoderLayer
	Norm   *LayerNorm
}

// NewTransformerEncoder returns numLayers layers built from cfg and, when
// finalNorm, a LayerNorm over DModel after them (torch's norm argument,
// which pre-norm stacks usually want). As torch's deep copy of its
// encoder_layer argument does, every layer starts from the same weights:
// the first layer's initial values are copied into the others.
func NewTransformerEncoder(cfg TransformerEncoderLayerConfig, numLayers int, finalNorm bool) *TransformerEncoder {
	if numLayers <= 0 {
		panic(fmt.Sprintf("nn: TransformerEncoder: %d layers, want at least 1", numLayers))
	}
	e := &TransformerEncoder{Layers: make([]*TransformerEncoderLayer, numLayers)}
	e.Layers[0] = NewTransformerEncoderLayer(cfg)
	first := StateDict(e.Layers[0])
	for i := 1; i < numLayers; i++ {
		l := NewTransformerEncoderLayer(cfg)
		for j, p := range StateDict(l) {
			copy(p.Value.Data(), first[j].Value.Data())
		}
		e.Layers[i] = l
	}
	if finalNorm {
		e.Norm = NewLayerNorm(cfg.DModel)
		e.Norm.Eps = cfg.LayerNormEps
	}
	return e
}

// Members lists the layers as layers.0, layers.1, ... and the final norm.
func (e *TransformerEncoder) Members() Members {
	ch := make([]Named[Module], 0, len(e.Layers)+1)
	for i, l := range e.Layers {
		ch = append(ch, Named[Module]{"layers." + strconv.Itoa(i), l})
	}
	if e.Norm != nil {
		ch = append(ch, Named[Module]{"norm", e.Norm})
	}
	return Members{Children: ch}
}

// Forward runs x [B, L, DModel] through every layer with the same masks,
// then the final norm.
func (e *TransformerEncoder) Forward(x *tensor.Tensor, opt AttentionOptions) *tensor.Tensor {
	for _, l := range e.Layers {
		x = l.Forward(x, opt)
	}
	if e.Norm != nil {
		x = e.Norm.Forward(x)
	}
	return x
}
