package nn

import (
	"testing"

	"github.com/shenml/shen/tensor"
)

// BenchmarkParametersOf lists the parameters of a 12-block model whose
// blocks build Members by reflection (MembersOf) and of the same model
// written by hand, as nn.NoGrad does on every inference call. The
// difference is what the reflection costs.
func BenchmarkParametersOf(b *testing.B) {
	reflected := make(ModuleList, 12)
	byHand := make(ModuleList, 12)
	for i := range reflected {
		reflected[i] = &squeezeExcite{Reduce: NewLinear(8, 2), Expand: NewLinear(2, 8), Scale: NewParameter(tensor.Ones(8)), Count: tensor.Zeros()}
		byHand[i] = &handSE{NewLinear(8, 2), NewLinear(2, 8), NewParameter(tensor.Ones(8)), tensor.Zeros()}
	}
	for _, c := range []struct {
		name string
		m    Module
	}{{"MembersOf", reflected}, {"by_hand", byHand}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n += len(Parameters(c.m))
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/param")
		})
	}
}

type handSE struct {
	Reduce, Expand *Linear
	Scale, Count   *tensor.Tensor
}

func (s *handSE) Members() Members {
	return Members{
		Params:   []Named[*tensor.Tensor]{{"scale", s.Scale}},
		Buffers:  []Named[*tensor.Tensor]{{"count", s.Count}},
		Children: []Named[Module]{{"reduce", s.Reduce}, {"fc2", s.Expand}},
	}
}
