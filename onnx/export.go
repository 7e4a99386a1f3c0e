package onnx

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/shenml/shen/model"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/onnx/onnxpb"
	"github.com/shenml/shen/tensor"
	"google.golang.org/protobuf/proto"
)

// ExportOptions choose the ONNX flavour Export writes.
type ExportOptions struct {
	// Opset is 17 (default) or 14 (PyTorch 1.13's default). At 17
	// LayerNorm is one LayerNormalization node; at 14 it is the
	// ReduceMean/Sub/Pow/Sqrt/Div form.
	Opset int
	// Preprocessing includes the artifact's fitted table preprocessing:
	// the graph then takes the raw columns, one input each (see
	// export_prep.go). Without it the graph takes the feature matrix.
	Preprocessing bool
}

// exporter accumulates one graph.
type exporter struct {
	g     *onnxpb.GraphProto
	opset int
	seq   int
	ml    bool // ai.onnx.ml operators were used
}

// Export writes the network of a Shen artifact as an ONNX model: one
// input and one output named as the artifact's signature says, with a
// dynamic batch dimension "batch". Every architecture model.Build makes
// is supported (mlp, cnn, layers, lstm, gru, transformer and the causal
// language model, whose input is int64 token ids); the weights are copied
// into initializers. The fitted table preprocessing is not part of the
// graph (see ExportPreprocessing for the parts ONNX can express).
func Export(m *model.Model, opt ExportOptions) (*onnxpb.ModelProto, error) {
	if opt.Opset == 0 {
		opt.Opset = 17
	}
	if opt.Opset != 14 && opt.Opset != 17 {
		return nil, fmt.Errorf("onnx export: opset %d; 14 and 17 are written", opt.Opset)
	}
	if l, ok := m.Net.(*Layer); ok { // an imported ONNX model goes back out unchanged
		return l.m.Proto, nil
	}
	e := &exporter{g: &onnxpb.GraphProto{Name: proto.String(m.Spec.Name)}, opset: opt.Opset}
	if e.g.GetName() == "" {
		e.g.Name = proto.String("shen")
	}
	inName, outName := "input", "output"
	if s := m.Spec.Signature; len(s.Outputs) >= 1 {
		outName = s.Outputs[0].Name
		if len(s.Inputs) == 1 && m.Spec.Preprocessing == nil {
			inName = s.Inputs[0].Name
		}
	}
	a := m.Spec.Architecture
	elem := onnxpb.TensorProto_FLOAT
	if _, ok := m.Net.(*model.LanguageModel); ok {
		elem = onnxpb.TensorProto_INT64
	}
	x := inName
	if opt.Preprocessing && m.Spec.Preprocessing != nil {
		var err error
		if x, err = e.preprocessing(m.Spec.Preprocessing); err != nil {
			return nil, fmt.Errorf("onnx export: %w", err)
		}
	} else {
		e.g.Input = append(e.g.Input, valueInfoProto(inName, elem, a.Input))
	}
	y, err := e.layer(m.Net, x, "")
	if err != nil {
		return nil, fmt.Errorf("onnx export: %w", err)
	}
	e.node("Identity", []string{y}, []string{outName})
	outDims := []int{a.Outputs}
	if lm, ok := m.Net.(*model.LanguageModel); ok {
		outDims = []int{a.Input[0], lm.Head.Weight.Size(0)}
	}
	e.g.Output = append(e.g.Output, valueInfoProto(outName, onnxpb.TensorProto_FLOAT, outDims))
	mp := &onnxpb.ModelProto{
		IrVersion:       proto.Int64(8),
		ProducerName:    proto.String("shen"),
		ProducerVersion: proto.String("1"),
		Graph:           e.g,
		OpsetImport:     []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(int64(opt.Opset))}},
	}
	if e.ml {
		mp.OpsetImport = append(mp.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: proto.String("ai.onnx.ml"), Version: proto.Int64(2)})
	}
	return mp, nil
}

// valueInfoProto declares a tensor of [batch, dims...].
func valueInfoProto(name string, elem onnxpb.TensorProto_DataType, dims []int) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{
		{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "batch"}}}}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(elem)), Shape: shape}}}}
}

// fresh returns a new value name with a readable prefix.
func (e *exporter) fresh(prefix string) string {
	e.seq++
	return fmt.Sprintf("%s_%d", strings.Trim(prefix, "."), e.seq)
}

// node appends a node; with outs nil it makes one fresh output and returns it.
func (e *exporter) node(op string, ins, outs []string, attrs ...*onnxpb.AttributeProto) string {
	if outs == nil {
		outs = []string{e.fresh(op)}
	}
	e.g.Node = append(e.g.Node, &onnxpb.NodeProto{Name: proto.String(e.fresh("n" + op)), OpType: proto.String(op),
		Input: ins, Output: outs, Attribute: attrs})
	return outs[0]
}

// weight stores a float32 initializer named name (the state-dict name).
func (e *exporter) weight(name string, data []float32, shape ...int) string {
	if name == "" {
		name = e.fresh("const")
	}
	e.g.Initializer = append(e.g.Initializer, TensorToProto(name, NewFloat(slices.Clone(data), shape...)))
	return name
}

func (e *exporter) ints(vals ...int64) string {
	name := e.fresh("ints")
	e.g.Initializer = append(e.g.Initializer, TensorToProto(name, NewInt64(vals, len(vals))))
	return name
}

func (e *exporter) scalar(v float32) string { return e.weight("", []float32{v}) }

func (e *exporter) tensorWeight(name string, t *tensor.Tensor) string {
	return e.weight(name, t.Data(), t.Shape()...)
}

func tensorAttr(name string, t *Tensor) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), T: TensorToProto(name, t), Type: onnxpb.AttributeProto_TENSOR.Enum()}
}

func stringAttr(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), S: []byte(v), Type: onnxpb.AttributeProto_STRING.Enum()}
}

func intsAttrP(name string, v ...int) *onnxpb.AttributeProto {
	a := &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum()}
	for _, x := range v {
		a.Ints = append(a.Ints, int64(x))
	}
	return a
}

// layer writes l applied to x; p is l's state-dict prefix.
func (e *exporter) layer(l nn.Layer, x, p string) (string, error) {
	switch v := l.(type) {
	case *nn.Sequential:
		for i, c := range v.Layers {
			var err error
			if x, err = e.layer(c, x, fmt.Sprintf("%s%d.", p, i)); err != nil {
				return "", err
			}
		}
		return x, nil
	case *nn.Linear:
		return e.linear(v, x, p, false), nil
	case *nn.Conv2D:
		return e.conv2d(v, x, p), nil
	case *nn.MaxPool2D, *nn.AvgPool2D:
		return e.pool2d(l, x), nil
	case nn.GlobalAvgPool2D:
		return e.node("ReduceMean", []string{x}, nil, intsAttrP("axes", 2, 3), intAttr("keepdims", 0)), nil
	case *nn.Flatten:
		if v.EndDim != -1 {
			return "", fmt.Errorf("%sFlatten to dimension %d is not exported", p, v.EndDim)
		}
		return e.node("Flatten", []string{x}, nil, intAttr("axis", int64(v.StartDim))), nil
	case *nn.Dropout, nn.Identity:
		return x, nil
	case *nn.BatchNorm:
		return e.node("BatchNormalization", []string{x, e.tensorWeight(p+"weight", v.Weight), e.tensorWeight(p+"bias", v.Bias),
			e.tensorWeight(p+"running_mean", v.RunningMean), e.tensorWeight(p+"running_var", v.RunningVar)}, nil,
			floatAttr("epsilon", v.Eps)), nil
	case *nn.LayerNorm:
		return e.layerNorm(v, x, p)
	case *model.Rescale:
		y := e.node("Mul", []string{x, e.tensorWeight(p+"scale", v.Scale)}, nil)
		return e.node("Add", []string{y, e.tensorWeight(p+"shift", v.Shift)}, nil), nil
	case *model.RecurrentNet:
		return e.recurrent(v, x, p)
	case *model.TransformerNet:
		return e.transformerNet(v, x, p)
	case *model.LanguageModel:
		return e.languageModel(v, x, p)
	}
	return e.activation(l, x)
}

// activation writes the element-wise layers.
func (e *exporter) activation(l nn.Layer, x string) (string, error) {
	switch v := l.(type) {
	case nn.ReLU:
		return e.node("Relu", []string{x}, nil), nil
	case nn.Sigmoid:
		return e.node("Sigmoid", []string{x}, nil), nil
	case nn.Tanh:
		return e.node("Tanh", []string{x}, nil), nil
	case nn.SiLU:
		return e.node("Mul", []string{x, e.node("Sigmoid", []string{x}, nil)}, nil), nil
	case nn.LeakyReLU:
		return e.node("LeakyRelu", []string{x}, nil, floatAttr("alpha", v.Slope)), nil
	case nn.ELU:
		return e.node("Elu", []string{x}, nil, floatAttr("alpha", v.Alpha)), nil
	case nn.GELU:
		if v.Approximate == "tanh" {
			return e.geluTanh(x), nil
		}
		return e.gelu(x), nil
	case nn.Softmax:
		return e.node("Softmax", []string{x}, nil, intAttr("axis", int64(v.Axis))), nil
	case nn.LogSoftmax:
		return e.node("LogSoftmax", []string{x}, nil, intAttr("axis", int64(v.Axis))), nil
	}
	return "", fmt.Errorf("layer %T is not exported", l)
}

// gelu writes x*0.5*(1+erf(x/√2)), the form PyTorch exports (and the
// importer fuses back into one kernel).
func (e *exporter) gelu(x string) string {
	d := e.node("Div", []string{x, e.scalar(float32(math.Sqrt2))}, nil)
	a := e.node("Add", []string{e.node("Erf", []string{d}, nil), e.scalar(1)}, nil)
	return e.node("Mul", []string{e.node("Mul", []string{x, a}, nil), e.scalar(0.5)}, nil)
}

// geluTanh writes 0.5x(1+tanh(√(2/π)(x+0.044715x³))).
func (e *exporter) geluTanh(x string) string {
	x3 := e.node("Mul", []string{e.node("Mul", []string{x, x}, nil), x}, nil)
	in := e.node("Add", []string{x, e.node("Mul", []string{x3, e.scalar(0.044715)}, nil)}, nil)
	t := e.node("Tanh", []string{e.node("Mul", []string{in, e.scalar(float32(math.Sqrt(2 / math.Pi)))}, nil)}, nil)
	a := e.node("Add", []string{t, e.scalar(1)}, nil)
	return e.node("Mul", []string{e.node("Mul", []string{x, a}, nil), e.scalar(0.5)}, nil)
}

// linear writes x W^T + b: Gemm for matrices, MatMul (with W^T stored
// as p+"weight_t") and Add for sequences.
func (e *exporter) linear(l *nn.Linear, x, p string, seq bool) string {
	if !seq {
		ins := []string{x, e.tensorWeight(p+"weight", l.Weight)}
		if l.Bias != nil {
			ins = append(ins, e.tensorWeight(p+"bias", l.Bias))
		}
		return e.node("Gemm", ins, nil, intAttr("transB", 1))
	}
	out, in := l.Weight.Size(0), l.Weight.Size(1)
	wt := make([]float32, in*out)
	wd := l.Weight.Data()
	for o := 0; o < out; o++ {
		for i := 0; i < in; i++ {
			wt[i*out+o] = wd[o*in+i]
		}
	}
	y := e.node("MatMul", []string{x, e.weight(p+"weight_t", wt, in, out)}, nil)
	if l.Bias != nil {
		y = e.node("Add", []string{y, e.tensorWeight(p+"bias", l.Bias)}, nil)
	}
	return y
}

func (e *exporter) conv2d(c *nn.Conv2D, x, p string) string {
	o := c.Options
	st, dil, g := o.Stride, o.Dilation, max(o.Groups, 1)
	st[0], st[1] = max(st[0], 1), max(st[1], 1)
	dil[0], dil[1] = max(dil[0], 1), max(dil[1], 1)
	ins := []string{x, e.tensorWeight(p+"weight", c.Weight)}
	if c.Bias != nil {
		ins = append(ins, e.tensorWeight(p+"bias", c.Bias))
	}
	return e.node("Conv", ins, nil, intsAttrP("strides", st[0], st[1]), intsAttrP("dilations", dil[0], dil[1]),
		intsAttrP("pads", o.Padding[0], o.Padding[1], o.Padding[0]+c.ExtraPad[0], o.Padding[1]+c.ExtraPad[1]),
		intsAttrP("kernel_shape", c.Weight.Size(2), c.Weight.Size(3)), intAttr("group", int64(g)))
}

func (e *exporter) pool2d(l nn.Layer, x string) string {
	var o tensor.PoolOptions
	op := "MaxPool"
	switch v := l.(type) {
	case *nn.MaxPool2D:
		o = v.Options
	case *nn.AvgPool2D:
		o, op = v.Options, "AveragePool"
	}
	attrs := []*onnxpb.AttributeProto{intsAttrP("kernel_shape", o.Kernel[0], o.Kernel[1]),
		intsAttrP("strides", max(o.Stride[0], 1), max(o.Stride[1], 1)),
		intsAttrP("pads", o.Padding[0], o.Padding[1], o.Padding[0], o.Padding[1])}
	if o.CeilMode {
		attrs = append(attrs, intAttr("ceil_mode", 1))
	}
	if op == "AveragePool" && !o.ExcludePad { // torch's default counts the padding
		attrs = append(attrs, intAttr("count_include_pad", 1))
	}
	if d := o.Dilation; op == "MaxPool" && (d[0] > 1 || d[1] > 1) {
		attrs = append(attrs, intsAttrP("dilations", max(d[0], 1), max(d[1], 1)))
	}
	return e.node(op, []string{x}, nil, attrs...)
}

// layerNorm normalises the trailing NormalizedShape axes.
func (e *exporter) layerNorm(l *nn.LayerNorm, x, p string) (string, error) {
	if len(l.NormalizedShape) != 1 {
		return "", fmt.Errorf("%sLayerNorm over %d axes is not exported", p, len(l.NormalizedShape))
	}
	d := l.NormalizedShape[0]
	gamma, beta := l.Weight, l.Bias
	if gamma == nil {
		gamma, beta = tensor.Ones(d), tensor.Zeros(d)
	}
	g, b := e.tensorWeight(p+"weight", gamma), e.tensorWeight(p+"bias", beta)
	if e.opset >= 17 {
		return e.node("LayerNormalization", []string{x, g, b}, nil, intAttr("axis", -1), floatAttr("epsilon", l.Eps)), nil
	}
	mean := e.node("ReduceMean", []string{x}, nil, intsAttrP("axes", -1))
	dev := e.node("Sub", []string{x, mean}, nil)
	v := e.node("ReduceMean", []string{e.node("Pow", []string{dev, e.scalar(2)}, nil)}, nil, intsAttrP("axes", -1))
	s := e.node("Sqrt", []string{e.node("Add", []string{v, e.scalar(l.Eps)}, nil)}, nil)
	n := e.node("Div", []string{dev, s}, nil)
	return e.node("Add", []string{e.node("Mul", []string{n, g}, nil), b}, nil), nil
}
