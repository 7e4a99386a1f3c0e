package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
)

// TestTrainSaveReload trains briefly with the hand-written loop, saves
// the weights as safetensors and checks a fresh network loaded from them
// predicts exactly the same.
func TestTrainSaveReload(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a CNN for a few seconds; skipped with -short")
	}
	dir := findMNIST()
	if _, err := os.Stat(filepath.Join(dir, "train-images-idx3-ubyte.gz")); err != nil {
		t.Skip("MNIST not found in " + dir)
	}
	net, acc, err := Train(Config{Dir: dir, Epochs: 1, Batch: 64, MaxLR: 0.05, ClipNorm: 2, TrainLimit: 2000, TestLimit: 500, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if acc < 0.8 {
		t.Fatalf("test accuracy %.3f after 2000 samples, want ≥ 0.8", acc)
	}
	path := filepath.Join(t.TempDir(), "cnn.safetensors")
	if err := nn.SaveSafetensors(net, path); err != nil {
		t.Fatal(err)
	}
	back := NewCNN()
	if _, err := nn.LoadSafetensors(back, path, true); err != nil {
		t.Fatal(err)
	}
	nn.Train(net, false)
	nn.Train(back, false)
	x := tensor.RandN(tensor.NewRNG(2), 4, 1, 28, 28)
	want, got := net.Forward(x).Data(), back.Forward(x).Data()
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("reloaded network differs at %d: %v vs %v", i, got[i], want[i])
		}
	}
}
