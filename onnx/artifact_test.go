package onnx

import (
	"path/filepath"
	"testing"

	"github.com/shenml/shen/model"
	"github.com/shenml/shen/tensor"
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
