//go:build amd64 && !noasm

package optim

import (
	"slices"
	"testing"

	"github.com/shenml/shen/tensor"
)

// TestAdamVectorMatchesScalar checks that the AVX2 kernel and the scalar
// loop give bit-identical weights for Adam, Adam with L2 decay and AdamW.
func TestAdamVectorMatchesScalar(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("CPU has no AVX2+FMA")
	}
	for _, c := range []struct {
		name  string
		wd    float64
		adamW bool
	}{{"adam", 0, false}, {"adam_l2", 0.01, false}, {"adamw", 0.01, true}} {
		t.Run(c.name, func(t *testing.T) {
			run := func(vector bool) []float32 {
				saved := hasAVX2FMA
				hasAVX2FMA = vector
				defer func() { hasAVX2FMA = saved }()
				rng := tensor.NewRNG(3)
				p := tensor.RandN(rng, 1003).SetRequiresGrad(true)
				cfg := DefaultAdamConfig()
				cfg.WeightDecay = c.wd
				newOpt := NewAdam
				if c.adamW {
					newOpt = NewAdamW
				}
				opt, err := newOpt([]*tensor.Tensor{p}, cfg)
				if err != nil {
					t.Fatal(err)
				}
				for range 5 {
					p.SetGrad(tensor.RandN(rng, 1003))
					opt.Step()
				}
				return slices.Clone(p.Data())
			}
			vec, scalar := run(true), run(false)
			for i := range vec {
				if vec[i] != scalar[i] {
					t.Fatalf("element %d: vector %v, scalar %v", i, vec[i], scalar[i])
				}
			}
		})
	}
}

// TestSGDVectorMatchesScalar checks the AVX2 SGD kernel against the scalar
// loop bit for bit: plain, weight decay, momentum with dampening, Nesterov.
func TestSGDVectorMatchesScalar(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("CPU has no AVX2+FMA")
	}
	for _, cfg := range []SGDConfig{
		{LR: 0.1},
		{LR: 0.1, WeightDecay: 0.01},
		{LR: 0.05, Momentum: 0.9, Dampening: 0.1, WeightDecay: 0.001},
		{LR: 0.05, Momentum: 0.9, Nesterov: true},
	} {
		run := func(vector bool) []float32 {
			saved := hasAVX2FMA
			hasAVX2FMA = vector
			defer func() { hasAVX2FMA = saved }()
			rng := tensor.NewRNG(4)
			p := tensor.RandN(rng, 1003).SetRequiresGrad(true)
			opt, err := NewSGD([]*tensor.Tensor{p}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for range 5 {
				p.SetGrad(tensor.RandN(rng, 1003))
				opt.Step()
			}
			return slices.Clone(p.Data())
		}
		vec, scalar := run(true), run(false)
		for i := range vec {
			if vec[i] != scalar[i] {
				t.Fatalf("%+v: element %d: vector %v, scalar %v", cfg, i, vec[i], scalar[i])
			}
		}
	}
}
