package onnx

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/internal/safeio"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
)

// ArtifactFile is the name of the ONNX graph inside a Shen artifact of
// architecture kind "onnx".
const ArtifactFile = "model.onnx"

func init() {
	model.RegisterBareLoader(ArtifactFile, LoadBare)
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
// the artifact's name, and the input's sizes where the graph leaves them
// open (all but the batch must be known for an artifact).
type ImportOptions struct {
	Name   string
	Task   string // "classification" (default when the output has 2 or more values) or "regression"
	Labels []string
	// InputShape gives the input's per-sample shape (without the batch),
	// needed when the graph declares sizes other than the batch dynamic.
	InputShape []int
	// Preprocessing is a fitted table pipeline (data.Pipeline.Save's
	// JSON, read with data.LoadPipeline) whose features the graph takes:
	// the artifact then takes raw records, column by column, as models
	// Shen trained do, and monitoring profiles those columns.
	Preprocessing *data.Pipeline
}

// Import reads and plans the ONNX file src (so that a model Shen cannot
// run is refused here, not at serving time) and writes a Shen artifact
// to dir: the file as model.onnx and a model.json whose signature comes
// from the graph. Classifiers without labels get "0", "1", ...
func Import(src, dir string, opt ImportOptions) (*model.Model, error) {
	raw, err := safeio.ReadFile(src, DefaultLimits.MaxBytes)
	if err != nil {
		return nil, err
	}
	art, err := artifactFor(src, raw, opt)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := safeio.WriteFileAtomic(filepath.Join(dir, ArtifactFile), raw, 0o644); err != nil {
		return nil, err
	}
	if err := art.Save(dir); err != nil {
		return nil, err
	}
	return art, nil
}

// LoadBare loads a folder holding only a model.onnx (a Triton-style
// version folder) as an artifact with default options; model.Load calls
// it for such folders.
func LoadBare(dir string) (*model.Model, error) {
	src := filepath.Join(dir, ArtifactFile)
	raw, err := safeio.ReadFile(src, DefaultLimits.MaxBytes)
	if err != nil {
		return nil, err
	}
	return artifactFor(src, raw, ImportOptions{Name: filepath.Base(filepath.Dir(filepath.Clean(dir)))})
}

// artifactFor plans the ONNX bytes and builds the artifact's spec.
func artifactFor(src string, raw []byte, opt ImportOptions) (*model.Model, error) {
	mp, err := Read(bytes.NewReader(raw), Limits{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	m, err := Compile(mp, Limits{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	layer, err := NewLayer(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	spec, err := specFor(m, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	if spec.Name == "" {
		spec.Name = mp.Graph.GetName()
	}
	if err := spec.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	return &model.Model{Spec: spec, Net: layer}, nil
}

// specFor describes the compiled graph as a model.json.
func specFor(m *Model, opt ImportOptions) (model.Spec, error) {
	in, out := m.Inputs[0], m.Outputs[0]
	if out.Dims == nil && m.shapes != nil { // undeclared: what shape inference found
		out.Dims = m.shapes[m.outputSlots[0]]
	}
	shape := dimsAfterBatch(in.Dims)
	if opt.InputShape != nil {
		if len(opt.InputShape) != len(shape) {
			return model.Spec{}, fmt.Errorf("input shape %v for input %q of rank %d (batch included)", opt.InputShape, in.Name, len(in.Dims))
		}
		for i, d := range shape {
			if d >= 0 && d != opt.InputShape[i] {
				return model.Spec{}, fmt.Errorf("input shape %v: input %q has size %d on axis %d", opt.InputShape, in.Name, d, i+1)
			}
		}
		shape = slices.Clone(opt.InputShape)
	}
	for i, d := range shape {
		if d < 0 {
			return model.Spec{}, fmt.Errorf("input %q has a dynamic size on axis %d (%s); give the per-sample shape (--input-shape)", in.Name, i+1, dimString(in, i+1))
		}
	}
	outputs := 1
	if n := len(out.Dims); n > 1 && out.Dims[n-1] > 0 {
		outputs = out.Dims[n-1]
	}
	spec := model.Spec{Name: opt.Name, Task: opt.Task, Labels: opt.Labels, Preprocessing: opt.Preprocessing,
		Architecture: model.Architecture{Kind: "onnx", Input: shape, Outputs: outputs}}
	if spec.Task == "" {
		spec.Task = model.TaskRegression
		if outputs >= 2 {
			spec.Task = model.TaskClassification
		}
	}
	if spec.Task == model.TaskClassification && len(spec.Labels) == 0 {
		for i := range outputs {
			spec.Labels = append(spec.Labels, strconv.Itoa(i))
		}
	}
	outShape := batchDims(out.Dims)
	if len(outShape) > 0 {
		outShape[len(outShape)-1] = outputs
	}
	spec.Signature = model.Signature{
		Inputs:  []model.Tensor{{Name: in.Name, Datatype: v2Type(in.DType), Shape: append([]int{-1}, shape...)}},
		Outputs: []model.Tensor{{Name: out.Name, Datatype: v2Type(out.DType), Shape: outShape}},
	}
	if p := opt.Preprocessing; p != nil { // raw columns in, as a trained table model takes them
		spec.Signature.Inputs = nil
		for _, f := range p.Inputs() {
			dt := "FP32"
			if f.Type == data.Categorical {
				dt = "BYTES"
			}
			spec.Signature.Inputs = append(spec.Signature.Inputs, model.Tensor{Name: f.Name, Datatype: dt, Shape: []int{-1}})
		}
	}
	return spec, nil
}

// dimString names axis i of v: its symbolic name or "?".
func dimString(v ValueInfo, i int) string {
	if i < len(v.DimNames) && v.DimNames[i] != "" {
		return v.DimNames[i]
	}
	return "?"
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

// v2Type is the Open Inference Protocol's name for dt, among those an
// artifact's signature uses: FP32, INT64 (all integers) or BYTES.
func v2Type(dt DType) string {
	switch {
	case dt == String:
		return "BYTES"
	case dt == 0 || dt.isFloat():
		return "FP32"
	}
	return "INT64"
}
