package nn_test

import (
	"testing"

	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/optim"
	"github.com/shenml/shen/tensor"
)

// Training-step benchmarks for the MNIST models at batch 64: samples/s is
// the figure to put beside PyTorch's (bench/peers/torch_mnist.py), and
// allocs/op shows what a steady-state step still allocates.

func mlp() nn.Layer {
	return nn.NewSequential(nn.NewLinear(784, 512), nn.ReLU{}, nn.NewLinear(512, 256), nn.ReLU{}, nn.NewLinear(256, 10))
}

func lenet() nn.Layer {
	return nn.NewSequential(
		nn.NewConv2D(1, 6, 5, nn.Padding(2)), nn.ReLU{}, nn.NewMaxPool2D(2),
		nn.NewConv2D(6, 16, 5), nn.ReLU{}, nn.NewMaxPool2D(2),
		nn.NewFlatten(), nn.NewLinear(400, 120), nn.ReLU{}, nn.NewLinear(120, 84), nn.ReLU{}, nn.NewLinear(84, 10))
}

func benchStep(b *testing.B, net nn.Layer, shape []int) {
	const batch = 64
	rng := tensor.NewRNG(1)
	x := tensor.RandN(rng, append([]int{batch}, shape...)...)
	labels := make([]int64, batch)
	for i := range labels {
		labels[i] = int64(rng.IntN(10))
	}
	y := tensor.IntFromSlice(labels)
	opt, err := optim.NewSGD(nn.Parameters(net), optim.SGDConfig{LR: 0.01, Momentum: 0.9})
	if err != nil {
		b.Fatal(err)
	}
	step := func() {
		loss := nn.CrossEntropy(net.Forward(x), y)
		opt.ZeroGrad()
		loss.Backward()
		opt.Step()
		loss.FreeGraph()
	}
	step() // allocate optimizer state and warm the buffer pool
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		step()
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkTrainStep(b *testing.B) {
	for _, threads := range []int{1, 2} {
		prev := kernel.SetThreads(threads)
		b.Run("mlp/t"+itoa(threads), func(b *testing.B) { benchStep(b, mlp(), []int{784}) })
		b.Run("lenet/t"+itoa(threads), func(b *testing.B) { benchStep(b, lenet(), []int{1, 28, 28}) })
		kernel.SetThreads(prev)
	}
}

// BenchmarkInference measures prediction in evaluation mode without
// gradients: single-sample latency (b1) and batch-256 throughput (b256).
func BenchmarkInference(b *testing.B) {
	for _, m := range []struct {
		name  string
		net   nn.Layer
		shape []int
	}{{"mlp", mlp(), []int{784}}, {"lenet", lenet(), []int{1, 28, 28}}} {
		nn.Train(m.net, false)
		for _, batch := range []int{1, 256} {
			x := tensor.RandN(tensor.NewRNG(1), append([]int{batch}, m.shape...)...)
			for _, threads := range []int{1, 2} {
				b.Run(m.name+"/b"+itoa(batch)+"/t"+itoa(threads), func(b *testing.B) {
					defer kernel.SetThreads(kernel.SetThreads(threads))
					b.ReportAllocs()
					for b.Loop() {
						nn.NoGrad(m.net, func() { m.net.Forward(x).Release() })
					}
					b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "samples/s")
					b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N), "µs/batch")
				})
			}
		}
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
