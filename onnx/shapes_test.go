package onnx

import (
	"path/filepath"
	"strings"
	"testing"
)

// Static dimensions that cannot work are a Compile error naming the node.
func TestShapeInferenceRejectsMismatch(t *testing.T) {
	b := newGraph()
	b.input("x", -1, 3)
	b.init("w", NewFloat(make([]float32, 20), 4, 5))
	b.node("MatMul", []string{"x", "w"}, []string{"y"})
	b.output("y")
	_, err := Compile(b.model(13), Limits{})
	if err == nil || !strings.Contains(err.Error(), `node "MatMul_y" (MatMul, opset 13): inner dimensions 3 and 4 differ`) {
		t.Fatalf("got %v", err)
	}
}

// Shape arithmetic on static dimensions becomes constants: of the 17
// Shape nodes PyTorch wrote into the transformer export, only those
// reading the (dynamic) batch size are left, and the Reshape targets are
// known up to the batch.
func TestShapeInferenceFoldsShapeArithmetic(t *testing.T) {
	mp, err := ReadFile(filepath.Join("..", "testdata", "onnx", "torch", "transformer", "model.onnx"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	shapes := 0
	for _, n := range mp.Graph.Node {
		if n.GetOpType() == "Shape" {
			shapes++
		}
	}
	m, err := Compile(mp, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.OpCounts()["Shape"]; got >= shapes || got > 9 {
		t.Errorf("%d Shape nodes planned of %d in the file", got, shapes)
	}
	for _, n := range m.nodes {
		if n.op == "Reshape" {
			s := m.shapes[n.out[0]]
			unknown := 0
			for _, d := range s {
				if d < 0 {
					unknown++
				}
			}
			if s == nil || unknown > 1 {
				t.Errorf("%v: inferred shape %v", n, s)
			}
		}
	}
}
