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
			NoGrad(func() {
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

// BenchmarkConv2DDirect times a direct (im2col-free) forward loop nest on
// the LeNet shapes: the alternative Conv2D's doc comment says lost. Each
// output row accumulates axpys of input rows, the best a direct Go loop
// does without SIMD assembly of its own.
func BenchmarkConv2DDirect(b *testing.B) {
	for _, cb := range convBenches[:2] {
		rng := NewRNG(1)
		x, w, bias := RandN(rng, cb.x...), RandN(rng, cb.w...), RandN(rng, cb.w[0])
		g := newConvGeom("bench", x, w, bias, cb.opt)
		out := newTensor([]int{g.n, g.o, g.oh, g.ow}, false)
		fwd := convFlops(cb.x, cb.w, out.Shape())
		b.Run(cb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				directConv(&g, x.Data(), w.Data(), bias.Data(), out.Data())
			}
			b.ReportMetric(fwd*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// directConv is a stride-1, unpadded, ungrouped direct convolution for
// BenchmarkConv2DDirect, parallel over the batch like Conv2D.
func directConv(g *convGeom, x, w, bias, out []float32) {
	s := g.spatial()
	kernel.Parallel(g.n, convGrain(g), func(lo, hi int) {
		for n := lo; n < hi; n++ {
			for o := 0; o < g.o; o++ {
				op := out[(n*g.o+o)*s : (n*g.o+o+1)*s]
				for i := range op {
					op[i] = bias[o]
				}
				for c := 0; c < g.c; c++ {
					xp := x[(n*g.c+c)*g.h*g.w:]
					for ki := 0; ki < g.kh; ki++ {
						for kj := 0; kj < g.kw; kj++ {
							wv := w[((o*g.c+c)*g.kh+ki)*g.kw+kj]
							for oy := 0; oy < g.oh; oy++ {
								kernel.Axpy(wv, xp[(oy+ki)*g.w+kj:], op[oy*g.ow:(oy+1)*g.ow])
							}
						}
					}
				}
			}
		}
	})
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
			NoGrad(func() {
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
