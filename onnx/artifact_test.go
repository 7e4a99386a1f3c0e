package onnx

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shenml/shen/model"
	"github.com/shenml/shen/tensor"
	"google.golang.org/protobuf/proto"
)

// An imported PyTorch export loads as a Shen artifact and predicts what
// the ONNX session computes, bit for bit.
func TestImportLoadPredict(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("..", "testdata", "onnx", "torch", "cnn_bn")
	if _, err := Import(filepath.Join(src, "model.onnx"), dir, ImportOptions{Labels: []string{"a", "b", "c", "d", "e"}}); err != nil {
		t.Fatal(err)
	}
	art, err := model.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := art.Spec.Signature.Inputs[0].Shape; len(got) != 4 || got[0] != -1 {
		t.Errorf("input signature %v, want a variable batch first", got)
	}
	x, err := ReadTensorFile(filepath.Join(src, "test_data_set_0", "input_0.pb"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReadTensorFile(filepath.Join(src, "test_data_set_0", "output_0.pb"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got := art.Predict(tensor.FromSlice(x.F, x.Shape...))
	assertClose(t, NewFloat(got.Data(), got.Shape()...), want, 1e-5)
	if _, err := Import(filepath.Join(src, "model.onnx"), t.TempDir(), ImportOptions{Labels: []string{"a"}}); err == nil {
		t.Error("1 label for 5 outputs was accepted")
	}
}

// A classifier imported without labels gets "0", "1", ...; a folder with
// only a model.onnx loads through model.Load as such an artifact.
func TestImportDefaultsAndBareFolder(t *testing.T) {
	src := filepath.Join("..", "testdata", "onnx", "torch", "cnn_bn", "model.onnx")
	m, err := Import(src, t.TempDir(), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Spec.Labels; len(got) != 5 || got[0] != "0" || got[4] != "4" || m.Spec.Task != model.TaskClassification {
		t.Errorf("task %s, labels %v", m.Spec.Task, got)
	}
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	version := filepath.Join(t.TempDir(), "cnn", "1")
	if err := os.MkdirAll(version, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(version, "model.onnx"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	bare, err := model.Load(version)
	if err != nil {
		t.Fatal(err)
	}
	if bare.Spec.Architecture.Kind != "onnx" || bare.Spec.Name != "cnn" {
		t.Errorf("bare folder loaded as %+v", bare.Spec)
	}
	x := tensor.Zeros(2, 1, 14, 14)
	if got := bare.Predict(x).Shape(); got[0] != 2 || got[1] != 5 {
		t.Errorf("prediction shape %v", got)
	}
}

// A graph whose per-sample sizes are dynamic needs them given.
func TestImportDynamicInput(t *testing.T) {
	b := newGraph()
	b.input("x", -1, -1, 3)
	b.node("ReduceMean", []string{"x"}, []string{"y"}, intsAttr("axes", 1), intAttr("keepdims", 0))
	b.output("y")
	raw, _ := proto.Marshal(b.model(13))
	src := filepath.Join(t.TempDir(), "m.onnx")
	if err := os.WriteFile(src, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Import(src, t.TempDir(), ImportOptions{Task: model.TaskRegression})
	if err == nil || !strings.Contains(err.Error(), `input "x" has a dynamic size on axis 1`) {
		t.Fatalf("got %v", err)
	}
	m, err := Import(src, t.TempDir(), ImportOptions{Task: model.TaskRegression, InputShape: []int{7, 3}})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Spec.Architecture.Input; len(got) != 2 || got[0] != 7 {
		t.Errorf("input %v", got)
	}
}

// Layer is safe for concurrent use: goroutines predicting at once get
// what one goroutine gets, batch sizes mixed.
func TestLayerConcurrent(t *testing.T) {
	mp, err := ReadFile(filepath.Join("..", "testdata", "onnx", "torch", "cnn_bn", "model.onnx"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(mp, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	layer, err := NewLayer(m)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 3))
	a, b := randTensor(r, 1, 1, 14, 14), randTensor(r, 4, 1, 14, 14)
	inputs := []*tensor.Tensor{tensor.FromSlice(a.F, a.Shape...), tensor.FromSlice(b.F, b.Shape...)}
	want := []*tensor.Tensor{layer.Forward(inputs[0]), layer.Forward(inputs[1])}
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 20 {
				k := (g + i) % 2
				got := layer.Forward(inputs[k])
				if maxAbsDiff(got, want[k]) != 0 {
					errs <- fmt.Errorf("goroutine %d call %d differs", g, i)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
