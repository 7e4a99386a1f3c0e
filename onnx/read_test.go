package onnx

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shenml/shen/onnx/onnxpb"
	"google.golang.org/protobuf/proto"
)

// FuzzRead feeds arbitrary bytes through Read, Compile and one Run with
// small inputs: a corrupt or hostile model must be an error, never a
// panic, a hang or an allocation past the limits.
func FuzzRead(f *testing.F) {
	for _, p := range []string{
		filepath.Join("..", "testdata", "onnx", "gonnx", "mlp", "model.onnx"),
		filepath.Join("..", "testdata", "onnx", "gonnx", "gru", "model.onnx"),
		filepath.Join("..", "testdata", "onnx", "torch", "cnn_bn", "model.onnx"),
	} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	b := newGraph()
	b.input("x", 1, 4)
	b.init("shape", NewInt64([]int64{1 << 20, 1 << 20}, 2))
	b.node("ConstantOfShape", []string{"shape"}, []string{"y"})
	b.output("y")
	seed, _ := proto.Marshal(b.model(13))
	f.Add(seed)
	f.Add([]byte{})
	f.Add([]byte{0x3a, 0x05, 0x0a, 0x03, 0x78, 0x79, 0x7a})
	lim := Limits{MaxBytes: 1 << 20, MaxElements: 1 << 16, MaxNodes: 1 << 10}
	f.Fuzz(func(t *testing.T, data []byte) {
		mp, err := Read(bytes.NewReader(data), lim)
		if err != nil {
			return
		}
		m, err := Compile(mp, lim)
		if err != nil {
			return
		}
		ins := make([]*Tensor, len(m.Inputs))
		for i, vi := range m.Inputs {
			shape := make([]int, len(vi.Dims))
			for j, d := range vi.Dims {
				shape[j] = max(1, min(d, 8))
			}
			if vi.DType.isFloat() || vi.DType == 0 {
				ins[i] = NewFloat(make([]float32, numel(shape)), shape...)
			} else {
				ins[i] = &Tensor{DType: vi.DType, Shape: shape, I: make([]int64, numel(shape))}
			}
		}
		_, _ = m.NewSession().Run(ins...)
	})
}

func TestReadRejects(t *testing.T) {
	cases := map[string]*onnxpb.TensorProto{
		"negative":  {Dims: []int64{-1, 4}, DataType: proto.Int32(1)},
		"huge":      {Dims: []int64{1 << 40, 1 << 40}, DataType: proto.Int32(1)},
		"too few":   {Dims: []int64{3}, DataType: proto.Int32(1), FloatData: []float32{1}},
		"raw short": {Dims: []int64{3}, DataType: proto.Int32(1), RawData: []byte{1, 2, 3}},
		"external": {Dims: []int64{1}, DataType: proto.Int32(1),
			DataLocation: onnxpb.TensorProto_EXTERNAL.Enum()},
	}
	for name, tp := range cases {
		t.Run(name, func(t *testing.T) {
			tp.Name = proto.String("w")
			b := newGraph()
			b.g.Initializer = append(b.g.Initializer, tp)
			data, _ := proto.Marshal(b.model(13))
			_, err := Read(bytes.NewReader(data), Limits{})
			if err == nil || !strings.Contains(err.Error(), `initializer "w"`) {
				t.Fatalf("got %v, want an error naming the initializer", err)
			}
		})
	}
	if _, err := Read(bytes.NewReader(make([]byte, 100)), Limits{MaxBytes: 10}); err == nil {
		t.Error("a file over MaxBytes was accepted")
	}
	if _, err := Read(strings.NewReader("not protobuf at all"), Limits{}); err == nil {
		t.Error("garbage was accepted")
	}
}

// A graph that computes a tensor past MaxElements fails its call.
func TestRunBoundsComputedTensors(t *testing.T) {
	b := newGraph()
	b.input("x", 2)
	b.node("ConstantOfShape", []string{"x"}, []string{"y"})
	b.output("y")
	b.g.Input[0].Type.GetTensorType().ElemType = proto.Int32(7)
	m, err := Compile(b.model(13), Limits{MaxElements: 1000})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.NewSession().Run(NewInt64([]int64{1000, 1000}, 2))
	if err == nil || !strings.Contains(err.Error(), "ConstantOfShape") {
		t.Fatalf("got %v, want an element-limit error naming the node", err)
	}
}

func TestUnsupportedNamesNode(t *testing.T) {
	b := newGraph()
	b.input("x", 2)
	b.node("NonMaxSuppression", []string{"x"}, []string{"y"})
	b.output("y")
	_, err := Compile(b.model(13), Limits{})
	if err == nil || !strings.Contains(err.Error(), `node "NonMaxSuppression_y" (NonMaxSuppression, opset 13): operator not supported`) {
		t.Fatalf("got %v", err)
	}
}

// After a first call, running the PyTorch exports again allocates
// nothing: every buffer is kept in the session.
func TestSessionSteadyStateAllocs(t *testing.T) {
	for _, name := range []string{"cnn_bn", "rnn", "transformer"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("..", "testdata", "onnx", "torch", name)
			mp, err := ReadFile(filepath.Join(dir, "model.onnx"), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			m, err := Compile(mp, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			var ins []*Tensor
			for i := range m.Inputs {
				in, err := ReadTensorFile(filepath.Join(dir, "test_data_set_0", fmt.Sprintf("input_%d.pb", i)), Limits{})
				if err != nil {
					t.Fatal(err)
				}
				ins = append(ins, in)
			}
			s := m.NewSession()
			if _, err := s.Run(ins...); err != nil {
				t.Fatal(err)
			}
			if a := testing.AllocsPerRun(10, func() { _, _ = s.Run(ins...) }); a > 0 {
				t.Errorf("Run allocates %.0f times per call in steady state", a)
			}
		})
	}
}

// An attribute asking for an enormous output (here MaxPool padding) fails
// the call with an error naming the node instead of allocating.
func TestRunRefusesHugeOutputs(t *testing.T) {
	b := newGraph()
	b.input("x", 1, 1, 4, 4)
	b.node("MaxPool", []string{"x"}, []string{"y"}, intsAttr("kernel_shape", 1, 1),
		intsAttr("pads", 1<<20, 1<<20, 1<<20, 1<<20))
	b.output("y")
	m, err := Compile(b.model(13), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.NewSession().Run(NewFloat(make([]float32, 16), 1, 1, 4, 4))
	if err == nil || !strings.Contains(err.Error(), "MaxPool") || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("got %v", err)
	}
}
