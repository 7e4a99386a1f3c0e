package tensor

import "testing"

// Benchmarks of the hot activations and softmax on a 256×512 batch,
// forward and backward, with FreeGraph each iteration as a training step
// would. Throughput is reported in elements per second and in GB/s of
// float32 traffic (forward reads x and writes y; backward reads the
// gradient and x or y and writes dx: five tensors' worth in all).
func benchActivation(b *testing.B, f func(*Tensor) *Tensor) {
	const rows, cols = 256, 512
	x := RandN(NewRNG(1), rows, cols).SetRequiresGrad(true)
	up := RandN(NewRNG(2), rows, cols)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		y := f(x)
		y.BackwardWith(up, false)
		y.FreeGraph()
		x.ZeroGrad()
	}
	n := float64(rows * cols)
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(n/sec, "elem/s")
	b.ReportMetric(5*4*n/sec/1e9, "GB/s")
}

func BenchmarkReLU(b *testing.B) { benchActivation(b, ReLU) }

func BenchmarkGELU(b *testing.B) { benchActivation(b, GELU) }

func BenchmarkSigmoid(b *testing.B) { benchActivation(b, Sigmoid) }

func BenchmarkTanh(b *testing.B) { benchActivation(b, Tanh) }

func BenchmarkSoftmax(b *testing.B) {
	benchActivation(b, func(t *Tensor) *Tensor { return Softmax(t, 1) })
}

func BenchmarkCrossEntropy(b *testing.B) {
	target := IntZeros(256)
	for i := range target.Data() {
		target.Data()[i] = int64(i * 7 % 512)
	}
	const rows, cols = 256, 512
	x := RandN(NewRNG(1), rows, cols).SetRequiresGrad(true)
	b.ReportAllocs()
	for b.Loop() {
		l := CrossEntropyWithLogits(x, target, nil, -100, 0.1, "mean")
		l.Backward()
		l.FreeGraph()
		x.ZeroGrad()
	}
	b.ReportMetric(float64(rows*cols)/(b.Elapsed().Seconds()/float64(b.N)), "elem/s")
}
