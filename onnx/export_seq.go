package onnx

import (
	"fmt"
	"math"

	"github.com/shenml/shen/model"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/onnx/onnxpb"
	"github.com/shenml/shen/tensor"
)

// recurrent writes the stacked LSTM or GRU of a RecurrentNet (batch
// first) and its head on the top layer's last hidden state.
func (e *exporter) recurrent(r *model.RecurrentNet, x, p string) (string, error) {
	var base *nn.RNNBase
	op := "LSTM"
	var order []int // ONNX gate order in PyTorch's blocks
	switch v := r.RNN.(type) {
	case *nn.LSTM:
		base, order = &v.RNNBase, []int{0, 3, 1, 2} // torch i,f,g,o -> onnx i,o,f,c
	case *nn.GRU:
		base, op, order = &v.RNNBase, "GRU", []int{1, 0, 2} // torch r,z,n -> onnx z,r,h
	default:
		return "", fmt.Errorf("%srnn: %T is not exported", p, r.RNN)
	}
	params := map[string]*tensor.Tensor{}
	for _, ent := range nn.StateDict(r.RNN) {
		params[ent.Name] = ent.Value
	}
	H, dirs := base.HiddenSize(), base.NumDirections()
	dir := "forward"
	if dirs == 2 {
		dir = "bidirectional"
	}
	h := e.node("Transpose", []string{x}, nil, intsAttrP("perm", 1, 0, 2)) // [T, B, F]
	var yh string
	for l := 0; l < base.NumLayers(); l++ {
		var w, rr, b []float32
		in := 0
		hasBias := true
		for d := 0; d < dirs; d++ {
			suf := fmt.Sprintf("_l%d", l)
			if d == 1 {
				suf += "_reverse"
			}
			wih, whh := params["weight_ih"+suf], params["weight_hh"+suf]
			in = wih.Size(1)
			w = append(w, gateRows(wih.Data(), order, H, in)...)
			rr = append(rr, gateRows(whh.Data(), order, H, H)...)
			bih, bhh := params["bias_ih"+suf], params["bias_hh"+suf]
			if bih == nil {
				hasBias = false
				continue
			}
			b = append(b, gateRows(bih.Data(), order, H, 1)...)
			b = append(b, gateRows(bhh.Data(), order, H, 1)...)
		}
		name := fmt.Sprintf("%srnn.l%d.", p, l)
		ins := []string{h, e.weight(name+"W", w, dirs, len(order)*H, in), e.weight(name+"R", rr, dirs, len(order)*H, H)}
		if hasBias {
			ins = append(ins, e.weight(name+"B", b, dirs, 2*len(order)*H))
		}
		attrs := []*onnxpb.AttributeProto{intAttr("hidden_size", int64(H)), stringAttr("direction", dir)}
		if op == "GRU" {
			attrs = append(attrs, intAttr("linear_before_reset", 1))
		}
		y, yhl := e.fresh(op+"_Y"), e.fresh(op+"_Yh")
		e.node(op, ins, []string{y, yhl}, attrs...)
		yh = yhl
		if l < base.NumLayers()-1 { // [T, dirs, B, H] -> [T, B, dirs*H]
			t := e.node("Transpose", []string{y}, nil, intsAttrP("perm", 0, 2, 1, 3))
			h = e.node("Reshape", []string{t, e.ints(0, 0, -1)}, nil)
		}
	}
	t := e.node("Transpose", []string{yh}, nil, intsAttrP("perm", 1, 0, 2)) // [B, dirs, H]
	last := e.node("Reshape", []string{t, e.ints(0, -1)}, nil)
	return e.layer(r.Head, last, p+"head.")
}

// gateRows reorders the gate blocks (each h rows of width cols) of a
// PyTorch weight into ONNX's gate order.
func gateRows(data []float32, order []int, h, cols int) []float32 {
	out := make([]float32, 0, len(data))
	for _, g := range order {
		out = append(out, data[g*h*cols:(g+1)*h*cols]...)
	}
	return out
}

// transformerNet writes projection, positions, encoder, mean pooling,
// norm and head.
func (e *exporter) transformerNet(m *model.TransformerNet, x, p string) (string, error) {
	h := e.linear(m.Proj, x, p+"proj.", true)
	h = e.positions(m.Pos.Weight, h, p+"pos.")
	h, err := e.encoder(m.Encoder, h, p+"encoder.", m.Causal)
	if err != nil {
		return "", err
	}
	h = e.node("ReduceMean", []string{h}, nil, intsAttrP("axes", 1), intAttr("keepdims", 0))
	if h, err = e.layerNorm(m.Norm, h, p+"norm."); err != nil {
		return "", err
	}
	return e.layer(m.Head, h, p+"head.")
}

// languageModel writes token embedding, positions, the causal encoder,
// the final norm and the vocabulary head over every position.
func (e *exporter) languageModel(m *model.LanguageModel, ids, p string) (string, error) {
	h := e.node("Gather", []string{e.tensorWeight(p+"tok.weight", m.Tok.Weight), ids}, nil)
	h = e.positions(m.Pos.Weight, h, p+"pos.")
	h, err := e.encoder(m.Enc, h, p+"enc.", true)
	if err != nil {
		return "", err
	}
	if h, err = e.layerNorm(m.Norm, h, p+"norm."); err != nil {
		return "", err
	}
	return e.linear(m.Head, h, p+"head.", true), nil
}

// positions adds the learned position table: sliced at run time to the
// input's steps (Shape, Gather, Slice), so the graph takes any length up
// to the table's.
func (e *exporter) positions(table *tensor.Tensor, h, p string) string {
	w := e.tensorWeight(p+"weight", table)
	n := e.node("Gather", []string{e.node("Shape", []string{h}, nil), e.ints(1)}, nil) // [1]: steps
	rows := e.node("Slice", []string{w, e.ints(0), n, e.ints(0)}, nil)
	return e.node("Add", []string{h, rows}, nil)
}

// encoder writes every layer of a TransformerEncoder and its final norm.
func (e *exporter) encoder(enc *nn.TransformerEncoder, h, p string, causal bool) (string, error) {
	var mask string
	if causal {
		mask = e.causalMask(h)
	}
	for i, l := range enc.Layers {
		lp := fmt.Sprintf("%slayers.%d.", p, i)
		var err error
		if l.NormFirst {
			n1, err1 := e.layerNorm(l.Norm1, h, lp+"norm1.")
			if err1 != nil {
				return "", err1
			}
			h = e.node("Add", []string{h, e.attention(l.SelfAttn, n1, lp+"self_attn.", mask)}, nil)
			n2, err2 := e.layerNorm(l.Norm2, h, lp+"norm2.")
			if err2 != nil {
				return "", err2
			}
			h = e.node("Add", []string{h, e.feedForward(l, n2, lp)}, nil)
			continue
		}
		a := e.node("Add", []string{h, e.attention(l.SelfAttn, h, lp+"self_attn.", mask)}, nil)
		if h, err = e.layerNorm(l.Norm1, a, lp+"norm1."); err != nil {
			return "", err
		}
		f := e.node("Add", []string{h, e.feedForward(l, h, lp)}, nil)
		if h, err = e.layerNorm(l.Norm2, f, lp+"norm2."); err != nil {
			return "", err
		}
	}
	if enc.Norm != nil {
		return e.layerNorm(enc.Norm, h, p+"norm.")
	}
	return h, nil
}

// causalMask builds, from h's steps L at run time, an [L, L] additive
// mask with -inf above the diagonal (Trilu of a ConstantOfShape).
func (e *exporter) causalMask(h string) string {
	n := e.node("Gather", []string{e.node("Shape", []string{h}, nil), e.ints(1)}, nil)
	sq := e.node("Concat", []string{n, n}, nil, intAttr("axis", 0))
	neg := e.node("ConstantOfShape", []string{sq}, nil, tensorAttr("value", NewFloat([]float32{float32(math.Inf(-1))}, 1)))
	return e.node("Trilu", []string{neg, e.ints(1)}, nil, intAttr("upper", 1))
}

func (e *exporter) feedForward(l *nn.TransformerEncoderLayer, x, p string) string {
	f := e.linear(l.Linear1, x, p+"linear1.", true)
	if l.Activation == "gelu" {
		f = e.gelu(f)
	} else {
		f = e.node("Relu", []string{f}, nil)
	}
	return e.linear(l.Linear2, f, p+"linear2.", true)
}

// attention writes multi-head self-attention on x [B, L, E].
func (e *exporter) attention(a *nn.MultiHeadAttention, x, p, mask string) string {
	E, H := a.EmbedDim, a.NumHeads
	D := E / H
	qkv := e.linear(&nn.Linear{Weight: a.InProjWeight, Bias: a.InProjBias}, x, p+"in_proj_", true)
	q, k, v := e.fresh("q"), e.fresh("k"), e.fresh("v")
	e.node("Split", []string{qkv, e.ints(int64(E), int64(E), int64(E))}, []string{q, k, v}, intAttr("axis", 2))
	heads := func(t string, perm ...int) string {
		r := e.node("Reshape", []string{t, e.ints(0, 0, int64(H), int64(D))}, nil)
		return e.node("Transpose", []string{r}, nil, intsAttrP("perm", perm...))
	}
	qh, kh, vh := heads(q, 0, 2, 1, 3), heads(k, 0, 2, 3, 1), heads(v, 0, 2, 1, 3)
	s := e.node("Mul", []string{e.node("MatMul", []string{qh, kh}, nil), e.scalar(float32(1 / math.Sqrt(float64(D))))}, nil)
	if mask != "" {
		s = e.node("Add", []string{s, mask}, nil)
	}
	o := e.node("MatMul", []string{e.node("Softmax", []string{s}, nil, intAttr("axis", -1)), vh}, nil)
	o = e.node("Reshape", []string{e.node("Transpose", []string{o}, nil, intsAttrP("perm", 0, 2, 1, 3)), e.ints(0, 0, int64(E))}, nil)
	return e.linear(a.OutProj, o, p+"out_proj.", true)
}
