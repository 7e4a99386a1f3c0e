package nn

import (
	"testing"

	"github.com/shenml/shen/internal/golden"
	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/tensor"
)

// TestLayerNormChunks runs a LayerNorm big enough to be split over the
// pool and checks it against the one-thread result: the same outputs and
// input gradients, and weight gradients equal up to the order of the sum.
func TestLayerNormChunks(t *testing.T) {
	run := func(threads int) (out, dx, dw, db []float32) {
		defer kernel.SetThreads(kernel.SetThreads(threads))
		SetSeed(2)
		ln := NewLayerNorm(64)
		Normal(ln.Weight, 1, 0.1)
		x := tensor.RandN(tensor.NewRNG(5), 16, 50, 64).SetRequiresGrad(true)
		y := ln.Forward(x)
		y.BackwardWith(tensor.RandN(tensor.NewRNG(6), 16, 50, 64), false)
		return y.Data(), x.Grad().Data(), ln.Weight.Grad().Data(), ln.Bias.Grad().Data()
	}
	o1, dx1, dw1, db1 := run(1)
	o2, dx2, dw2, db2 := run(2)
	for _, c := range []struct {
		name       string
		one, two   []float32
		sameBitsOK bool
	}{{"output", o1, o2, true}, {"dx", dx1, dx2, true}, {"dw", dw1, dw2, false}, {"db", db1, db2, false}} {
		want := make([]float64, len(c.one))
		for i, v := range c.one {
			want[i] = float64(v)
		}
		tol := 1e-4 // float32 sums of 800 rows, grouped differently
		if c.sameBitsOK {
			tol = 0
		}
		if msg := golden.Compare(c.two, want, tol); msg != "" {
			t.Errorf("%s with 2 threads vs 1: %s", c.name, msg)
		}
	}
}
