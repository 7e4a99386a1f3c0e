package main

import (
	"os"
	"testing"
)

// TestShortRun trains a small model for a few dozen steps and checks that
// it already beats the unigram baseline; the full run is in the README.
func TestShortRun(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model; skipped with -short")
	}
	const path = "../../../shared/data/text/moby-dick.txt"
	if _, err := os.Stat(path); err != nil {
		t.Skip("corpus not found: " + path)
	}
	res, err := run(config{path: path, steps: 40, batch: 16, seq: 64, d: 64, layers: 2, heads: 4, lr: 3e-3, sample: 50, seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.val >= res.baseline {
		t.Errorf("validation loss %.3f after a short run, want below the unigram baseline %.3f", res.val, res.baseline)
	}
}
