package nn_test

import (
	"slices"
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

// trainBF16Steps trains LeNet in bf16 for a few batch-64 steps from seed 1
// on threads and returns all its weights.
func trainBF16Steps(threads int) []float32 {
	defer kernel.SetThreads(kernel.SetThreads(threads))
	nn.SetSeed(1)
	net := lenet()
	nn.SetPrecision(net, tensor.BF16)
	rng := tensor.NewRNG(1)
	x := tensor.RandN(rng, 64, 1, 28, 28)
	labels := make([]int64, 64)
	for i := range labels {
		labels[i] = int64(rng.IntN(10))
	}
	y := tensor.IntFromSlice(labels)
	return trainWeights(net, 0.02, 0.9, 4, func() *tensor.Tensor { return nn.CrossEntropy(net.Forward(x), y) })
}

// TestBF16TrainingIsDeterministic: bf16 training (LeNet on the im2col path
// with SgemmBF16) gives bit-identical weights on one and two threads and
// run after run, as float32 training does.
func TestBF16TrainingIsDeterministic(t *testing.T) {
	ref := trainBF16Steps(1)
	for i, threads := range []int{2, 2} {
		if got := trainBF16Steps(threads); !slices.Equal(got, ref) {
			t.Fatalf("trial %d on %d threads: bf16 weights differ from the one-thread run", i, threads)
		}
	}
}
