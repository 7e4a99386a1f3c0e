package tensor

import (
	"fmt"
	"testing"

	"github.com/shenml/shen/internal/kernel"
)

// Benchmarks for the convolution and pooling layers of LeNet-5 on MNIST at
// batch 64 and a ResNet 3×3 block convolution, forward alone and forward +
// backward, in GFLOP/s of useful work (2 flops per multiply-add; the
// backward counts dW, plus dX where the input needs it). Compare with
// bench/torch_conv.py, which times the same shapes in PyTorch.

type convBench struct {
	name       string
	x, w       []int
	opt        Conv2DOptions
	inputGrads bool // the input needs a gradient (not the first layer)
}

var convBenches = []convBench{
	{"LeNet1_64x1x28x28_6x5x5", []int{64, 1, 28, 28}, []int{6, 1, 5, 5}, Conv2DOptions{}, false},
	{"LeNet2_64x6x12x12_16x5x5", []int{64, 6, 12, 12}, []int{16, 6, 5, 5}, Conv2DOptions{}, true},
	{"ResNet_8x64x56x56_64x3x3", []int{8, 64, 56, 56}, []int{64, 64, 3, 3}, Conv2DOptions{Padding: [2]int{1, 1}}, true},
}

// convFlops is the flops of one forward pass: 2·N·O·OH·OW·(C/g)·kH·kW.
func convFlops(x, w []int, out []int) float64 {
	return 2 * float64(numel(out)) * float64(w[1]*w[2]*w[3])
}

func BenchmarkConv2D(b *testing.B) {
	for _, cb := range convBenches {
		rng := NewRNG(1)
		x := RandN(rng, cb.x...).SetRequiresGrad(cb.inputGrads)
		w := RandN(rng, cb.w...).SetRequiresGrad(true)
		bias := RandN(rng, cb.w[0]).SetRequiresGrad(true)
		probe := Conv2D(x.Detach(), w.Detach(), nil, cb.opt)
		fwd := convFlops(cb.x, cb.w, probe.Shape())
		up := RandN(rng, probe.Shape()...)
		b.Run(cb.name+"/fwd", func(b *testing.B) {
			b.ReportAllocs()
			NoGrad([]*Tensor{x, w, bias}, func() {
				for b.Loop() {
					Conv2D(x, w, bias, cb.opt).Release()
				}
			})
			b.ReportMetric(fwd*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(cb.name+"/fwd+bwd", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				y := Conv2D(x, w, bias, cb.opt)
				y.BackwardWith(up, false)
				y.FreeGraph()
			}
			total := 2 * fwd
			if cb.inputGrads {
				total += fwd
			}
			b.ReportMetric(total*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkConv2DPaths times the two forward algorithms on the LeNet
// shapes (and LeNet's padded first layer): im2col + GEMM against the direct
// path of conv_direct.go, which Conv2D picks for these shapes where the CPU
// has AVX-512.
func BenchmarkConv2DPaths(b *testing.B) {
	benches := append(convBenches[:2:2], convBench{"LeNet1pad_64x1x28x28_6x5x5", []int{64, 1, 28, 28}, []int{6, 1, 5, 5}, Conv2DOptions{Padding: [2]int{2, 2}}, false})
	for _, cb := range benches {
		rng := NewRNG(1)
		x, w, bias := RandN(rng, cb.x...), RandN(rng, cb.w...), RandN(rng, cb.w[0])
		g := newConvGeom("bench", x, w, bias, cb.opt)
		out := newTensor([]int{g.n, g.o, g.oh, g.ow}, false)
		fwd := convFlops(cb.x, cb.w, out.Shape())
		for _, path := range []struct {
			name string
			fn   func(g *convGeom, x, w, bias, out []float32)
		}{{"im2col", im2colForward}, {"direct", shiftForward}} {
			b.Run(cb.name+"/"+path.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					path.fn(&g, x.Data(), w.Data(), bias.Data(), out.Data())
				}
				b.ReportMetric(fwd*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

func BenchmarkMaxPool2D(b *testing.B) {
	for _, shape := range [][]int{{64, 6, 24, 24}, {64, 16, 8, 8}} {
		rng := NewRNG(1)
		x := RandN(rng, shape...).SetRequiresGrad(true)
		opt := PoolOptions{Kernel: [2]int{2, 2}}
		up := RandN(rng, shape[0], shape[1], shape[2]/2, shape[3]/2)
		name := fmt.Sprintf("%dx%dx%dx%d", shape[0], shape[1], shape[2], shape[3])
		b.Run(name+"/fwd", func(b *testing.B) {
			b.ReportAllocs()
			NoGrad([]*Tensor{x}, func() {
				for b.Loop() {
					MaxPool2D(x, opt).Release()
				}
			})
		})
		b.Run(name+"/fwd+bwd", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				y := MaxPool2D(x, opt)
				y.BackwardWith(up, false)
				y.FreeGraph()
			}
		})
	}
}

// BenchmarkConv2DThreads shows the LeNet convolutions' scaling with the
// worker pool's thread count.
func BenchmarkConv2DThreads(b *testing.B) {
	for _, th := range []int{1, 2} {
		for _, cb := range convBenches[:2] {
			rng := NewRNG(1)
			x := RandN(rng, cb.x...).SetRequiresGrad(cb.inputGrads)
			w := RandN(rng, cb.w...).SetRequiresGrad(true)
			bias := RandN(rng, cb.w[0]).SetRequiresGrad(true)
			y0 := Conv2D(x.Detach(), w.Detach(), nil, cb.opt)
			fwd := convFlops(cb.x, cb.w, y0.Shape())
			up := RandN(rng, y0.Shape()...)
			b.Run(fmt.Sprintf("%s/threads=%d", cb.name, th), func(b *testing.B) {
				defer kernel.SetThreads(kernel.SetThreads(th))
				b.ReportAllocs()
				for b.Loop() {
					y := Conv2D(x, w, bias, cb.opt)
					y.BackwardWith(up, false)
					y.FreeGraph()
				}
				total := 2 * fwd
				if cb.inputGrads {
					total += fwd
				}
				b.ReportMetric(total*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
