package onnx

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/shenml/shen/internal/safeio"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
)

// ArtifactFile is the name of the ONNX graph inside a Shen artifact of
// architecture kind "onnx".
const ArtifactFile = "model.onnx"

func init() {
	model.RegisterBuilder("onnx", func(a model.Architecture, dir string) (nn.Layer, error) {
		mp, err := ReadFile(filepath.Join(dir, ArtifactFile), Limits{})
		if err != nil {
			return nil, err
		}
		m, err := Compile(mp, Limits{})
		if err != nil {
			return nil, err
		}
		return NewLayer(m)
	})
}

// Layer runs a compiled ONNX model as an nn.Layer, so that a Shen
// artifact can hold it and everything that predicts with artifacts
// (predict, evaluate, serve) runs it. It is safe for concurrent use: each
// call takes a Session from a pool.
type Layer struct {
	m        *Model
	sessions sync.Pool
}

// NewLayer wraps m, which must take one input (float32, or int64 ids
// passed as float32 values) and give at least one float32 output; Forward
// returns the first.
func NewLayer(m *Model) (*Layer, error) {
	if len(m.Inputs) != 1 {
		return nil, fmt.Errorf("onnx: a Shen artifact needs a model with one input, this one has %d", len(m.Inputs))
	}
	if len(m.Outputs) == 0 {
		return nil, fmt.Errorf("onnx: the model has no outputs")
	}
	l := &Layer{m: m}
	l.sessions.New = func() any { return m.NewSession() }
	return l, nil
}

// Model is the compiled graph.
func (l *Layer) Model() *Model { return l.m }

// Members is empty: the weights live in the ONNX graph.
func (l *Layer) Members() nn.Members { return nn.Members{} }

// Forward runs the graph on x and returns a copy of its first output. It
// panics, as other layers do on a bad input, with the runtime's error.
func (l *Layer) Forward(x *tensor.Tensor) *tensor.Tensor {
	in := &Tensor{DType: Float, Shape: x.Shape(), F: x.Data()}
	if dt := l.m.Inputs[0].DType; dt != 0 && !dt.isFloat() {
		ids := make([]int64, len(in.F))
		for i, v := range in.F {
			ids[i] = int64(v)
		}
		in = &Tensor{DType: dt, Shape: x.Shape(), I: ids}
	}
	s := l.sessions.Get().(*Session)
	defer l.sessions.Put(s)
	outs, err := s.Run(in)
	if err != nil {
		panic(err)
	}
	o := outs[0]
	if !o.DType.isFloat() {
		panic(fmt.Sprintf("onnx: output %q is %s, not float", l.m.Outputs[0].Name, o.DType))
	}
	return tensor.FromSlice(slices.Clone(o.F), o.Shape...)
}

// ImportOptions says what the graph cannot: the task, class labels and
// the artifact's name.
type ImportOptions struct {
	Name   string
	Task   string // "classification" (default) or "regression"
	Labels []string
}

// Import reads and plans the ONNX file src (so that a model Shen cannot
// run is refused here, not at serving time) and writes a Shen artifact
// to dir: the file as model.onnx and a model.json whose signature comes
// from the graph.
func Import(src, dir string, opt ImportOptions) (*model.Model, error) {
	raw, err := os.ReadFile(src)
	if err != nil {
		return nil, err
	}
	mp, err := ReadFile(src, Limits{})
	if err != nil {
		return nil, err
	}
	m, err := Compile(mp, Limits{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	layer, err := NewLayer(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	spec := model.Spec{Name: opt.Name, Task: opt.Task, Labels: opt.Labels}
	if spec.Task == "" {
		spec.Task = "classification"
	}
	if spec.Name == "" {
		spec.Name = mp.Graph.GetName()
	}
	in, out := m.Inputs[0], m.Outputs[0]
	spec.Architecture = model.Architecture{Kind: "onnx", Input: dimsAfterBatch(in.Dims)}
	if n := len(out.Dims); n > 0 && out.Dims[n-1] > 0 {
		spec.Architecture.Outputs = out.Dims[n-1]
	}
	if len(opt.Labels) > 0 && spec.Architecture.Outputs > 0 && len(opt.Labels) != spec.Architecture.Outputs {
		return nil, fmt.Errorf("%d labels for a model with %d outputs", len(opt.Labels), spec.Architecture.Outputs)
	}
	spec.Signature = model.Signature{
		Inputs:  []model.Tensor{{Name: in.Name, Datatype: v2Type(in.DType), Shape: batchDims(in.Dims)}},
		Outputs: []model.Tensor{{Name: out.Name, Datatype: v2Type(out.DType), Shape: batchDims(out.Dims)}},
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := safeio.WriteFileAtomic(filepath.Join(dir, ArtifactFile), raw, 0o644); err != nil {
		return nil, err
	}
	art := &model.Model{Spec: spec, Net: layer}
	if err := art.Save(dir); err != nil {
		return nil, err
	}
	return art, nil
}

// dimsAfterBatch drops the batch axis; unknown sizes stay -1.
func dimsAfterBatch(d []int) []int {
	if len(d) == 0 {
		return nil
	}
	return slices.Clone(d[1:])
}

// batchDims marks the first axis as the (variable) batch.
func batchDims(d []int) []int {
	out := slices.Clone(d)
	if len(out) > 0 {
		out[0] = -1
	}
	return out
}

// v2Type is the Open Inference Protocol's name for dt.
func v2Type(dt DType) string {
	switch dt {
	case Float:
		return "FP32"
	case Double:
		return "FP64"
	case Int64:
		return "INT64"
	case Int32:
		return "INT32"
	case Bool:
		return "BOOL"
	case Uint8:
		return "UINT8"
	case Int8:
		return "INT8"
	}
	return "FP32"
}
