//go:build amd64 && !noasm

package optim

import (
	"slices"
	"testing"

	"github.com/shenml/shen/tensor"
)

// runSteps makes an optimizer for one 1003-element parameter with
// newOpt, applies five steps of seeded random gradients with the vector
// kernels on or off, and returns the weights.
func runSteps(t *testing.T, vector bool, newOpt func(p []*tensor.Tensor) (Optimizer, error)) []float32 {
	t.Helper()
	saved := hasAVX2FMA
	hasAVX2FMA = vector
	defer func() { hasAVX2FMA = saved }()
	rng := tensor.NewRNG(3)
	p := tensor.RandN(rng, 1003).SetRequiresGrad(true)
	opt, err := newOpt([]*tensor.Tensor{p})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		p.SetGrad(tensor.RandN(rng, 1003))
		opt.Step()
	}
	return slices.Clone(p.Data())
}

// expectVectorMatchesScalar checks that the AVX2 kernels and the scalar
// loops give bit-identical weights.
func expectVectorMatchesScalar(t *testing.T, name string, newOpt func(p []*tensor.Tensor) (Optimizer, error)) {
	t.Helper()
	if !hasAVX2FMA {
		t.Skip("CPU has no AVX2+FMA")
	}
	vec, scalar := runSteps(t, true, newOpt), runSteps(t, false, newOpt)
	for i := range vec {
		if vec[i] != scalar[i] {
			t.Fatalf("%s: element %d: vector %v, scalar %v", name, i, vec[i], scalar[i])
		}
	}
}

// TestAdamVectorMatchesScalar covers Adam, Adam with L2 decay and AdamW.
func TestAdamVectorMatchesScalar(t *testing.T) {
	for _, c := range []struct {
		name  string
		wd    float64
		adamW bool
	}{{"adam", 0, false}, {"adam_l2", 0.01, false}, {"adamw", 0.01, true}} {
		cfg := DefaultAdamConfig()
		cfg.WeightDecay = c.wd
		expectVectorMatchesScalar(t, c.name, func(p []*tensor.Tensor) (Optimizer, error) {
			if c.adamW {
				return NewAdamW(p, cfg)
			}
			return NewAdam(p, cfg)
		})
	}
}

// TestSGDVectorMatchesScalar covers plain SGD, weight decay, momentum with
// dampening and Nesterov momentum.
func TestSGDVectorMatchesScalar(t *testing.T) {
	for _, cfg := range []SGDConfig{
		{LR: 0.1},
		{LR: 0.1, WeightDecay: 0.01},
		{LR: 0.05, Momentum: 0.9, Dampening: 0.1, WeightDecay: 0.001},
		{LR: 0.05, Momentum: 0.9, Nesterov: true},
	} {
		expectVectorMatchesScalar(t, "sgd", func(p []*tensor.Tensor) (Optimizer, error) { return NewSGD(p, cfg) })
	}
}
