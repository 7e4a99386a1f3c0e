package nn_test

import (
	"testing"

	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
)

// BenchmarkTrainStepBF16 is BenchmarkTrainStep's two-thread step with the
// models in bf16 (nn.SetPrecision): beside the fp32 figures it shows what
// bf16 costs or gains on this CPU (where kernel.BF16Name is "emulated",
// rounding the operands is extra work, and LeNet's convolutions leave the
// float32-only direct path for im2col), and its allocs/op beside fp32's
// (the same for the MLP; LeNet's im2col path makes 2 more small ones).
func BenchmarkTrainStepBF16(b *testing.B) {
	defer kernel.SetThreads(kernel.SetThreads(2))
	for _, m := range []struct {
		name  string
		net   nn.Layer
		shape []int
	}{{"mlp", mlp(), []int{784}}, {"lenet", lenet(), []int{1, 28, 28}}} {
		nn.SetPrecision(m.net, tensor.BF16)
		b.Run(m.name+"/"+kernel.BF16Name(), func(b *testing.B) { benchStep(b, m.net, m.shape) })
	}
}
