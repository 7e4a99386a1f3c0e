package optim

import (
	"testing"

	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/tensor"
)

// benchStep times one Step over a single 1M-element parameter, reporting
// parameters updated per second. threads 1 measures the serial loop.
func benchStep(b *testing.B, mk func(ps []*tensor.Tensor) (Optimizer, error), threads int) {
	const n = 1 << 20
	if threads > 0 {
		defer kernel.SetThreads(kernel.SetThreads(threads))
	}
	ps := params([][]int{{n}}, [][]float32{make([]float32, n)})
	opt, err := mk(ps)
	if err != nil {
		b.Fatal(err)
	}
	gradFor(ps, 0)
	opt.Step()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		opt.Step()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "params/s")
}

func BenchmarkAdamStep(b *testing.B) {
	adam := func(ps []*tensor.Tensor) (Optimizer, error) { return NewAdam(ps, DefaultAdamConfig()) }
	b.Run("pool", func(b *testing.B) { benchStep(b, adam, 0) })
	b.Run("serial", func(b *testing.B) { benchStep(b, adam, 1) })
}

func BenchmarkSGDMomentumStep(b *testing.B) {
	benchStep(b, func(ps []*tensor.Tensor) (Optimizer, error) {
		return NewSGD(ps, SGDConfig{LR: 0.1, Momentum: 0.9})
	}, 0)
}
