package tensor

import (
	"testing"
)

// TestPoolingMatchesTorch replays testdata/torch/pooling.json: max and
// average pooling in 1-d and 2-d with padding, ceil_mode, stride ≠ kernel,
// count_include_pad and ties, and adaptive average pooling, forward and
// backward.
func TestPoolingMatchesTorch(t *testing.T) {
	for _, c := range loadFixtures(t, "pooling") {
		t.Run(c.Name, func(t *testing.T) {
			checkCase(t, c, 1e-5, func(in []*Tensor) *Tensor {
				switch c.Op {
				case "maxpool2d", "avgpool2d":
					var a struct {
						Kernel, Stride, Padding []int
						Ceil, Include           bool
					}
					c.args(t, &a)
					o := PoolOptions{Kernel: [2]int(a.Kernel), Stride: [2]int(a.Stride), Padding: [2]int(a.Padding),
						CeilMode: a.Ceil, CountIncludePad: a.Include}
					if c.Op == "maxpool2d" {
						return MaxPool2D(in[0], o)
					}
					return AvgPool2D(in[0], o)
				case "maxpool1d", "avgpool1d":
					var a struct {
						Kernel, Stride, Padding int
						Ceil, Include           bool
					}
					c.args(t, &a)
					o := Pool1DOptions{Kernel: a.Kernel, Stride: a.Stride, Padding: a.Padding, CeilMode: a.Ceil, CountIncludePad: a.Include}
					if c.Op == "maxpool1d" {
						return MaxPool1D(in[0], o)
					}
					return AvgPool1D(in[0], o)
				case "adaptive":
					var a struct{ Out []int }
					c.args(t, &a)
					return AdaptiveAvgPool2D(in[0], a.Out[0], a.Out[1])
				}
				t.Fatalf("no Go op for fixture op %q", c.Op)
				return nil
			})
		})
	}
}

func TestPoolingRejectsBadOptions(t *testing.T) {
	x := Zeros(1, 1, 4, 4)
	for name, f := range map[string]func(){
		"zero kernel":  func() { MaxPool2D(x, PoolOptions{}) },
		"pad > k/2":    func() { MaxPool2D(x, PoolOptions{Kernel: [2]int{2, 2}, Padding: [2]int{2, 0}}) },
		"too big":      func() { AvgPool2D(x, PoolOptions{Kernel: [2]int{5, 5}}) },
		"rank":         func() { MaxPool2D(Zeros(4, 4), PoolOptions{Kernel: [2]int{2, 2}}) },
		"adaptive 0x1": func() { AdaptiveAvgPool2D(x, 0, 1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: want a panic", name)
				}
			}()
			f()
		}()
	}
}
