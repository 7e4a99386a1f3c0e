package onnx

import (
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/shenml/shen/onnx/onnxpb"
	"google.golang.org/protobuf/proto"
)

// graphBuilder assembles small ONNX models for tests.
type graphBuilder struct{ g *onnxpb.GraphProto }

func newGraph() *graphBuilder {
	return &graphBuilder{g: &onnxpb.GraphProto{Name: proto.String("test")}}
}

func (b *graphBuilder) input(name string, dims ...int64) {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	b.g.Input = append(b.g.Input, &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{
		Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(1), Shape: shape}}}})
}

func (b *graphBuilder) output(name string) {
	b.g.Output = append(b.g.Output, &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{
		Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(1)}}}})
}

func (b *graphBuilder) init(name string, t *Tensor) {
	b.g.Initializer = append(b.g.Initializer, TensorToProto(name, t))
}

func (b *graphBuilder) node(op string, ins, outs []string, attrs ...*onnxpb.AttributeProto) {
	b.g.Node = append(b.g.Node, &onnxpb.NodeProto{OpType: proto.String(op), Input: ins, Output: outs, Attribute: attrs,
		Name: proto.String(op + "_" + outs[0])})
}

func (b *graphBuilder) model(opset int64) *onnxpb.ModelProto {
	return &onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: b.g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}}}
}

func randTensor(r *rand.Rand, shape ...int) *Tensor {
	t := NewFloat(make([]float32, numel(shape)), shape...)
	for i := range t.F {
		t.F[i] = float32(r.NormFloat64())
	}
	return t
}

// runBoth compiles m with and without fusion and returns both outputs and
// the fused model.
func runBoth(t *testing.T, m *onnxpb.ModelProto, in ...*Tensor) (*Tensor, *Tensor, *Model) {
	t.Helper()
	plain, err := compile(m, Limits{}, false)
	if err != nil {
		t.Fatal(err)
	}
	fused, err := compile(m, Limits{}, true)
	if err != nil {
		t.Fatal(err)
	}
	a, err := plain.NewSession().Run(in...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fused.NewSession().Run(in...)
	if err != nil {
		t.Fatal(err)
	}
	return a[0], b[0], fused
}

func assertClose(t *testing.T, got, want *Tensor, tol float64) {
	t.Helper()
	var c OutputCheck
	compare(&c, got, want, Tolerance{Atol: tol})
	if !c.Pass {
		t.Fatalf("max abs %.3g over %.1g (%s)", c.MaxAbs, tol, c.Problem)
	}
}

// Conv, BatchNormalization and Relu become one convolution.
func TestFuseConvBatchNormRelu(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	b := newGraph()
	b.input("x", 2, 3, 6, 6)
	b.init("w", randTensor(r, 4, 3, 3, 3))
	b.init("cb", randTensor(r, 4))
	b.init("s", randTensor(r, 4))
	b.init("bb", randTensor(r, 4))
	b.init("m", randTensor(r, 4))
	v := randTensor(r, 4)
	for i := range v.F {
		v.F[i] = 0.5 + v.F[i]*v.F[i]
	}
	b.init("v", v)
	b.node("Conv", []string{"x", "w", "cb"}, []string{"c"}, intsAttr("pads", 1, 1, 1, 1))
	b.node("BatchNormalization", []string{"c", "s", "bb", "m", "v"}, []string{"n"}, floatAttr("epsilon", 1e-3))
	b.node("Relu", []string{"n"}, []string{"y"})
	b.output("y")
	want, got, m := runBoth(t, b.model(14), randTensor(r, 2, 3, 6, 6))
	assertClose(t, got, want, 1e-5)
	if c := m.OpCounts(); len(c) != 1 || c["Conv+Relu"] != 1 {
		t.Errorf("after fusion: %v", c)
	}
}

func TestFuseMatMulAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	b := newGraph()
	b.input("x", 2, 5, 8)
	b.init("w", randTensor(r, 8, 6))
	b.init("b", randTensor(r, 6))
	b.node("MatMul", []string{"x", "w"}, []string{"h"})
	b.node("Add", []string{"b", "h"}, []string{"y"})
	b.output("y")
	want, got, m := runBoth(t, b.model(14), randTensor(r, 2, 5, 8))
	assertClose(t, got, want, 1e-5)
	if c := m.OpCounts(); c["MatMul+Add"] != 1 || len(c) != 1 {
		t.Errorf("after fusion: %v", c)
	}
}

// The PyTorch transformer export holds the Erf GELU, the ReduceMean
// LayerNorm and linear layers as MatMul+Add; all are fused.
func TestFuseTorchTransformer(t *testing.T) {
	mp, err := ReadFile(filepath.Join("..", "testdata", "onnx", "torch", "transformer", "model.onnx"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(mp, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	c := m.OpCounts()
	t.Logf("planned operators: %v", c)
	if c["Gelu"] != 2 || c["LayerNormalization"] != 4 || c["Erf"] != 0 || c["ReduceMean"] != 0 || c["MatMul+Add"] < 4 {
		t.Errorf("patterns left unfused: %v", c)
	}
}

func intsAttr(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Ints: v, Type: onnxpb.AttributeProto_INTS.Enum()}
}

// The attention-score einsum equals MatMul with the keys transposed.
func TestEinsumAttention(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	q, k := randTensor(r, 2, 3, 4, 5), randTensor(r, 2, 3, 6, 5)
	e := newGraph()
	e.input("q", 2, 3, 4, 5)
	e.input("k", 2, 3, 6, 5)
	e.node("Einsum", []string{"q", "k"}, []string{"s"}, &onnxpb.AttributeProto{Name: proto.String("equation"),
		S: []byte("bhqd,bhkd->bhqk"), Type: onnxpb.AttributeProto_STRING.Enum()})
	e.output("s")
	m := newGraph()
	m.input("q", 2, 3, 4, 5)
	m.input("k", 2, 3, 6, 5)
	m.node("Transpose", []string{"k"}, []string{"kt"}, intsAttr("perm", 0, 1, 3, 2))
	m.node("MatMul", []string{"q", "kt"}, []string{"s"})
	m.output("s")
	got, _, _ := runBoth(t, e.model(13), q, k)
	want, _, _ := runBoth(t, m.model(13), q, k)
	assertClose(t, got, want, 1e-5)
}
