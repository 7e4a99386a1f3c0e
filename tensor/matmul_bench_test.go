package tensor

import (
	"testing"
)

// BenchmarkLinear times the first layer of the MNIST MLP, a batch of 256
// rows of 784 features into 512 units (256×784 · 784×512 plus bias), in
// GFLOP/s. fwd+bwd computes dX, dW and db as a hidden layer does (three
// GEMMs of 2·256·784·512 flops each).
func BenchmarkLinear(b *testing.B) {
	rng := NewRNG(1)
	x := RandN(rng, 256, 784).SetRequiresGrad(true)
	w := RandN(rng, 512, 784).SetRequiresGrad(true)
	bias := RandN(rng, 512).SetRequiresGrad(true)
	up := RandN(rng, 256, 512)
	flops := 2.0 * 256 * 784 * 512
	b.Run("fwd", func(b *testing.B) {
		b.ReportAllocs()
		NoGrad([]*Tensor{x, w, bias}, func() {
			for b.Loop() {
				Linear(x, w, bias).Release()
			}
		})
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	b.Run("fwd+bwd", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			y := Linear(x, w, bias)
			y.BackwardWith(up, false)
			y.FreeGraph()
		}
		b.ReportMetric(3*flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

// BenchmarkMatmul times Matmul forward on a square product, the same with a
// transposed view as the right operand (read in place through Sgemm's
// flag), and a batch of small products as in attention heads.
func BenchmarkMatmul(b *testing.B) {
	rng := NewRNG(1)
	cases := []struct {
		name string
		a, b *Tensor
	}{
		{"512x512x512", RandN(rng, 512, 512), RandN(rng, 512, 512)},
		{"512x512x512_bT", RandN(rng, 512, 512), RandN(rng, 512, 512).T()},
		{"batch64_64x64x64", RandN(rng, 64, 64, 64), RandN(rng, 64, 64, 64)},
	}
	for _, c := range cases {
		sa, sb := c.a.Shape(), c.b.Shape()
		flops := 2 * float64(numel(sa)) * float64(sb[len(sb)-1])
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Matmul(c.a, c.b).Release()
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
