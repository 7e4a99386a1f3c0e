package quant

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/nn"
)

// BenchmarkInference times the example MLP and LeNet-5 forward passes in
// float32 and in int8 (kernel.Int8Name says which int8 kernel ran), at
// batch 64 and for one sample, reporting samples/s.
func BenchmarkInference(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	models := []struct {
		name  string
		net   *nn.Sequential
		shape []int
	}{
		{"mlp", nn.NewSequential(nn.NewLinear(784, 512), nn.ReLU{}, nn.NewLinear(512, 256), nn.ReLU{}, nn.NewLinear(256, 10)), []int{784}},
		{"lenet", nn.NewSequential(
			nn.NewConv2D(1, 6, 5, nn.Padding(2)), nn.ReLU{}, nn.NewMaxPool2D(2),
			nn.NewConv2D(6, 16, 5), nn.ReLU{}, nn.NewMaxPool2D(2), nn.NewFlatten(),
			nn.NewLinear(400, 120), nn.ReLU{}, nn.NewLinear(120, 84), nn.ReLU{}, nn.NewLinear(84, 10)), []int{1, 28, 28}},
	}
	for _, m := range models {
		nn.Train(m.net, false)
		calib := randTensor(r, 2, append([]int{64}, m.shape...)...)
		spec, err := Calibrate(m.net, calib, 64)
		if err != nil {
			b.Fatal(err)
		}
		qnet, err := Apply(m.net, spec)
		if err != nil {
			b.Fatal(err)
		}
		// The same network with its convolutions kept in float32 (shen
		// quantize --float): where int8 convolution loses (few input
		// channels, no VNNI), only the Linear layers run in int8.
		linOnly := *spec
		linOnly.Layers = nil
		for _, l := range spec.Layers {
			if l.Kind == "linear" {
				linOnly.Layers = append(linOnly.Layers, l)
			}
		}
		lnet, err := Apply(m.net, &linOnly)
		if err != nil {
			b.Fatal(err)
		}
		for _, batch := range []int{1, 64} {
			x := randTensor(r, 2, append([]int{batch}, m.shape...)...)
			for _, v := range []struct {
				name string
				net  nn.Layer
			}{{"fp32", m.net}, {"int8-" + kernel.Int8Name(), qnet}, {"int8-linear-" + kernel.Int8Name(), lnet}} {
				if strings.HasPrefix(v.name, "int8-linear") && len(linOnly.Layers) == len(spec.Layers) {
					continue // no convolution: the same as int8
				}
				b.Run(fmt.Sprintf("%s/b%d/%s", m.name, batch, v.name), func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						nn.NoGrad(m.net, func() { v.net.Forward(x).Release() })
					}
					b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "samples/s")
				})
			}
		}
	}
}
