package main

import (
	"testing"

	"github.com/shenml/shen/nn"
)

// TestTrainBesidePredict trains in one goroutine while another predicts
// from snapshots; the predictor must see training progress, and with the
// last snapshot answer exactly what the trained network answers. Run it
// with -race to check that nothing is shared unsafely.
func TestTrainBesidePredict(t *testing.T) {
	steps := 600
	if testing.Short() {
		steps = 200
	}
	rep, net, err := Run(steps, 50, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.MSE) < 2 {
		t.Fatalf("the predictor saw %d snapshots, want the first and the last at least", len(rep.MSE))
	}
	first, last := rep.MSE[0], rep.MSE[len(rep.MSE)-1]
	if last > first/4 {
		t.Fatalf("predictor MSE went from %.4f to %.4f: training did not reach it", first, last)
	}
	queries, _ := grid(64)
	nn.Train(net, false)
	want := net.Forward(queries).Data()
	for i, v := range rep.Final {
		if v != want[i] {
			t.Fatalf("query %d: predictor %v, trained network %v", i, v, want[i])
		}
	}
}
