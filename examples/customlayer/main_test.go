package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
)

// TestCustomLayersNames: the custom layers' state-dict names are what the
// torch modules in their doc comments give.
func TestCustomLayersNames(t *testing.T) {
	got := names(NewNet())
	for _, want := range []string{"3.conv1.weight", "3.bn1.running_mean", "3.bn2.num_batches_tracked", "4.fc1.weight", "4.fc2.bias", "7.weight"} {
		if !slices.Contains(got, want) {
			t.Errorf("state dict lacks %q: %v", want, got)
		}
	}
	if err := nn.Validate(NewNet()); err != nil {
		t.Fatal(err)
	}
	// The SE block keeps the shape and trains: its gate gets gradients.
	se := NewSqueezeExcite(8, 2)
	x := tensor.RandN(tensor.NewRNG(1), 2, 8, 3, 3)
	y := se.Forward(x)
	if !tensor.SameShape(y.Shape(), x.Shape()) {
		t.Fatalf("SE output %v, want %v", y.Shape(), x.Shape())
	}
	tensor.Sum(y, false).Backward()
	if se.FC1.Weight.Grad() == nil {
		t.Fatal("no gradient reached the SE gate")
	}
}

// TestShortRun trains on a slice of MNIST and requires the model to learn.
func TestShortRun(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model for a few seconds; skipped with -short")
	}
	dir := findMNIST()
	if _, err := os.Stat(filepath.Join(dir, "train-images-idx3-ubyte.gz")); err != nil {
		t.Skip("MNIST not found in " + dir)
	}
	_, acc, err := Run(dir, 1, 2000, 500, nil)
	if err != nil {
		t.Fatal(err)
	}
	if acc < 0.5 {
		t.Fatalf("test accuracy %.3f after 2000 samples, want ≥ 0.5 (chance 0.1)", acc)
	}
}
