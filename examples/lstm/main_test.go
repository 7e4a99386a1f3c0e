package main

import (
	"testing"

	"github.com/shenml/shen/examples/internal/mnist"
)

// TestShortRun trains for one epoch on a slice of MNIST and checks that
// the model learned: far above the 10% of guessing. The full run and its
// accuracy target are in the README.
func TestShortRun(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model; skipped with -short")
	}
	f, ok := mnist.TestFlags(4000, 1e-3)
	if !ok {
		t.Skip("MNIST files not found in " + f.Dir + " (../shared/data/mnist)")
	}
	acc, _, err := run(f)
	if err != nil {
		t.Fatal(err)
	}
	if acc < 0.4 {
		t.Errorf("test accuracy %.3f after a short run, want at least 0.4", acc)
	}
}
