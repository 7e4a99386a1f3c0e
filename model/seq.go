package model

import (
	"fmt"
	"strings"

	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
)

// RecurrentNet is an LSTM or GRU over sequences [batch, steps, features]
// with a head on the top layer's last hidden state (both directions when
// bidirectional). Its children are named as a PyTorch module holding
// self.rnn and self.head would name them.
type RecurrentNet struct {
	// RNN is the *nn.LSTM or *nn.GRU, batch first.
	RNN  nn.Module
	last nn.RNNLastHidden
	// Head maps [batch, hidden*directions] to the outputs.
	Head *nn.Sequential
}

// Members lists rnn and head.
func (r *RecurrentNet) Members() nn.Members {
	return nn.Members{Children: []nn.Named[nn.Module]{{Name: "rnn", Value: r.RNN}, {Name: "head", Value: r.Head}}}
}

// Forward maps x [B, T, F] to outputs [B, outputs].
func (r *RecurrentNet) Forward(x *tensor.Tensor) *tensor.Tensor {
	return r.Head.Forward(r.last.Forward(x))
}

// TransformerNet is a transformer encoder over numeric sequences [batch,
// steps, features]: a Linear projection to DModel, learned positions, the
// encoder layers, mean pooling over the steps, a LayerNorm and the head.
// Children: proj, pos, encoder, norm, head.
type TransformerNet struct {
	Proj    *nn.Linear
	Pos     *nn.LearnedPositionalEmbedding
	Encoder *nn.TransformerEncoder
	Norm    *nn.LayerNorm
	Head    *nn.Sequential
	// Causal masks attention to earlier steps.
	Causal bool
}

// Members lists proj, pos, encoder, norm and head.
func (m *TransformerNet) Members() nn.Members {
	return nn.Members{Children: []nn.Named[nn.Module]{{Name: "proj", Value: m.Proj}, {Name: "pos", Value: m.Pos},
		{Name: "encoder", Value: m.Encoder}, {Name: "norm", Value: m.Norm}, {Name: "head", Value: m.Head}}}
}

// Forward maps x [B, T, F] to outputs [B, outputs].
func (m *TransformerNet) Forward(x *tensor.Tensor) *tensor.Tensor {
	h := m.Pos.Forward(m.Proj.Forward(x))
	h = m.Encoder.Forward(h, nn.AttentionOptions{Causal: m.Causal})
	return m.Head.Forward(m.Norm.Forward(tensor.Mean(h, false, 1)))
}

// LMConfig sizes a LanguageModel.
type LMConfig struct {
	Vocab, MaxLen, DModel, Heads, Layers int
	// FF is the feed-forward width (0: 4·DModel).
	FF      int
	Dropout float32
	// Activation is gelu or relu (default gelu).
	Activation string
	// PostNorm selects post-norm layers; the default is pre-norm.
	PostNorm bool
}

// LanguageModel is a decoder-only transformer over token ids: token and
// learned position embeddings, encoder layers under a causal mask, a
// final LayerNorm and a Linear head giving next-token logits. Children:
// tok, pos, enc, norm, head.
type LanguageModel struct {
	Tok  *nn.Embedding
	Pos  *nn.LearnedPositionalEmbedding
	Enc  *nn.TransformerEncoder
	Norm *nn.LayerNorm
	Head *nn.Linear
}

// NewLanguageModel builds a LanguageModel from the default generator. It
// panics on impossible sizes (Build checks them first).
func NewLanguageModel(c LMConfig) *LanguageModel {
	cfg := nn.DefaultTransformerEncoderLayerConfig(c.DModel, c.Heads)
	cfg.DimFeedforward = c.FF
	if cfg.DimFeedforward == 0 {
		cfg.DimFeedforward = 4 * c.DModel
	}
	cfg.Dropout = c.Dropout
	cfg.Activation = "gelu"
	if c.Activation != "" {
		cfg.Activation = c.Activation
	}
	cfg.NormFirst = !c.PostNorm
	m := &LanguageModel{
		Tok:  nn.NewEmbedding(c.Vocab, c.DModel, -1),
		Pos:  nn.NewLearnedPositionalEmbedding(c.MaxLen, c.DModel),
		Enc:  nn.NewTransformerEncoder(cfg, c.Layers, false),
		Norm: nn.NewLayerNorm(c.DModel),
		Head: nn.NewLinear(c.DModel, c.Vocab),
	}
	// Small embeddings (as GPT-2 initialises them) keep the residual stream
	// at the scale the layer norms expect from the first step.
	nn.Normal(m.Tok.Weight, 0, 0.02)
	nn.Normal(m.Pos.Weight, 0, 0.02)
	return m
}

// Members lists tok, pos, enc, norm and head.
func (m *LanguageModel) Members() nn.Members {
	return nn.Members{Children: []nn.Named[nn.Module]{{Name: "tok", Value: m.Tok}, {Name: "pos", Value: m.Pos},
		{Name: "enc", Value: m.Enc}, {Name: "norm", Value: m.Norm}, {Name: "head", Value: m.Head}}}
}

// MaxLen is the longest context the model takes.
func (m *LanguageModel) MaxLen() int { return m.Pos.Weight.Size(0) }

// ForwardIDs maps ids [B, T] to next-token logits [B, T, vocab].
func (m *LanguageModel) ForwardIDs(ids *tensor.IntTensor) *tensor.Tensor {
	h := m.Pos.Forward(m.Tok.Lookup(ids))
	h = m.Enc.Forward(h, nn.AttentionOptions{Causal: true})
	return m.Head.Forward(m.Norm.Forward(h))
}

// Forward takes token ids stored as float32 values [B, T] (exact below
// 2^24), so the model fits the nn.Layer interface, and returns logits
// [B, T, vocab].
func (m *LanguageModel) Forward(x *tensor.Tensor) *tensor.Tensor {
	d := x.Data()
	ids := make([]int64, len(d))
	for i, v := range d {
		ids[i] = int64(v)
	}
	return m.ForwardIDs(tensor.IntFromSlice(ids, x.Shape()...))
}

// Generate appends n tokens to the prompt ids, each sampled from the
// softmax of the last position's logits divided by temperature (greedy
// when temperature <= 0), using the generator g. It returns the new ids.
// m must be in evaluation mode (nn.Train(m, false); Load leaves it so):
// Generate does not switch it, so that goroutines may generate at once.
func (m *LanguageModel) Generate(prompt []int64, n int, temperature float32, g *tensor.RNG) []int64 {
	ids := append([]int64(nil), prompt...)
	var out []int64
	seq := m.MaxLen()
	nn.NoGrad(m, func() {
		for range n {
			ctx := ids[max(0, len(ids)-seq):]
			logits := m.ForwardIDs(tensor.IntFromSlice(ctx, 1, len(ctx)))
			last := logits.Index(1, len(ctx)-1).Reshape(-1)
			var next int64
			if temperature <= 0 {
				next = int64(tensor.Argmax(last, 0, false).Data()[0])
			} else {
				probs := tensor.Softmax(tensor.MulScalar(last, 1/temperature), 0).Data()
				r, acc := g.Float32(), float32(0)
				next = int64(len(probs) - 1)
				for i, p := range probs {
					acc += p
					if r < acc {
						next = int64(i)
						break
					}
				}
			}
			ids = append(ids, next)
			out = append(out, next)
		}
	})
	return out
}

func buildRecurrent(a Architecture) (nn.Layer, error) {
	if len(a.Input) != 2 {
		return nil, fmt.Errorf("architecture: %s input must be [steps, features], got %v", a.Kind, a.Input)
	}
	h := a.HiddenSize
	if h <= 0 {
		return nil, fmt.Errorf("architecture: %s needs hidden_size > 0, got %d", a.Kind, h)
	}
	cfg := nn.RNNConfig{NumLayers: max(a.NumLayers, 1), Bidirectional: a.Bidirectional, BatchFirst: true, Dropout: a.Dropout}
	r := &RecurrentNet{Head: nn.NewSequential()}
	var base *nn.RNNBase
	if a.Kind == "lstm" {
		l := nn.NewLSTM(a.Input[1], h, cfg)
		r.RNN, base = l, &l.RNNBase
	} else {
		g := nn.NewGRU(a.Input[1], h, cfg)
		r.RNN, base = g, &g.RNNBase
	}
	r.last = base.LastHiddenLayer()
	if err := appendHead(r.Head, a, h*base.NumDirections()); err != nil {
		return nil, err
	}
	return r, nil
}

func buildTransformer(a Architecture) (nn.Layer, error) {
	d, heads := a.DModel, a.Heads
	if d <= 0 {
		return nil, fmt.Errorf("architecture: transformer needs d_model > 0, got %d", d)
	}
	if heads <= 0 || d%heads != 0 {
		return nil, fmt.Errorf("architecture: transformer heads (%d) must be positive and divide d_model (%d)", heads, d)
	}
	if a.FF < 0 {
		return nil, fmt.Errorf("architecture: transformer ff must be >= 0, got %d", a.FF)
	}
	if a.Norm != "" && a.Norm != "pre" && a.Norm != "post" {
		return nil, fmt.Errorf("architecture: transformer norm must be pre or post, got %q", a.Norm)
	}
	act := strings.ToLower(a.Activation)
	if act != "" && act != "relu" && act != "gelu" {
		return nil, fmt.Errorf("architecture: transformer activation must be relu or gelu, got %q", a.Activation)
	}
	layers := max(a.NumLayers, 1)
	maxLen := a.MaxLen
	if maxLen == 0 {
		maxLen = a.Input[0]
	}
	if maxLen < a.Input[0] {
		return nil, fmt.Errorf("architecture: transformer max_len %d is shorter than the input's %d steps", maxLen, a.Input[0])
	}
	switch len(a.Input) {
	case 1:
		if !a.Causal {
			return nil, fmt.Errorf("architecture: a transformer over token ids (input [%d]) is a language model and needs causal: true", a.Input[0])
		}
		return NewLanguageModel(LMConfig{Vocab: a.Outputs, MaxLen: maxLen, DModel: d, Heads: heads, Layers: layers,
			FF: a.FF, Dropout: a.Dropout, Activation: act, PostNorm: a.Norm == "post"}), nil
	case 2:
	default:
		return nil, fmt.Errorf("architecture: transformer input must be [steps, features] (or [steps] of token ids with causal: true), got %v", a.Input)
	}
	cfg := nn.DefaultTransformerEncoderLayerConfig(d, heads)
	cfg.DimFeedforward = a.FF
	if cfg.DimFeedforward == 0 {
		cfg.DimFeedforward = 4 * d
	}
	cfg.Dropout = a.Dropout
	if act != "" {
		cfg.Activation = act
	}
	cfg.NormFirst = a.Norm != "post"
	m := &TransformerNet{
		Proj:    nn.NewLinear(a.Input[1], d),
		Pos:     nn.NewLearnedPositionalEmbedding(maxLen, d),
		Encoder: nn.NewTransformerEncoder(cfg, layers, false),
		Norm:    nn.NewLayerNorm(d),
		Head:    nn.NewSequential(),
		Causal:  a.Causal,
	}
	nn.Normal(m.Pos.Weight, 0, 0.02)
	// The head's hidden layers use relu unless the activation says otherwise.
	if err := appendHead(m.Head, a, d); err != nil {
		return nil, err
	}
	return m, nil
}
