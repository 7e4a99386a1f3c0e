package main

import (
	"testing"

	"github.com/shenml/shen/examples/internal/mnist"
)

// TestShortRun trains for one epoch on a slice of MNIST and checks that the
// model learned; the full run and its accuracy are in the README.
func TestShortRun(t *testing.T) { mnist.ShortRun(t, 4000, 1e-3, 0.25, run) }
