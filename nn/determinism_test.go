package nn_test

import (
	"runtime"
	"slices"
	"testing"

	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/optim"
	"github.com/shenml/shen/tensor"
)

// trainLeNetSteps trains a LeNet-style net for 40 steps from seed 1 and
// returns all its weights.
func trainLeNetSteps() []float32 {
	nn.SetSeed(1)
	net := nn.NewSequential(
		nn.NewConv2D(1, 6, 5, nn.Padding(2)), nn.ReLU{}, nn.NewMaxPool2D(2),
		nn.NewConv2D(6, 16, 5), nn.ReLU{}, nn.NewMaxPool2D(2),
		nn.NewFlatten(), nn.NewLinear(16*5*5, 120), nn.ReLU{}, nn.NewLinear(120, 10),
	)
	x := tensor.RandN(tensor.NewRNG(1), 8, 1, 28, 28)
	y := tensor.IntFromSlice([]int64{0, 1, 2, 3, 4, 5, 6, 7})
	return trainWeights(net, 0.02, 0.9, 40, func() *tensor.Tensor { return nn.CrossEntropy(net.Forward(x), y) })
}

// TestTrainingIsDeterministic: the same seed gives bit-identical weights,
// even while another goroutine competes for the cores (the worker pool's
// scheduling must not change the order of any floating-point sum).
func TestTrainingIsDeterministic(t *testing.T) {
	stop := make(chan bool)
	go func() {
		x := 0
		for {
			select {
			case <-stop:
				return
			default:
				x++
			}
		}
	}()
	defer close(stop)
	ref := trainLeNetSteps()
	for i := 0; i < 3; i++ {
		got := trainLeNetSteps()
		if !slices.Equal(got, ref) {
			for j := range got {
				if got[j] != ref[j] {
					t.Fatalf("trial %d: weight %d differs: %v vs %v", i, j, got[j], ref[j])
				}
			}
		}
	}
}

// trainEncoder trains a two-layer transformer encoder (the MNIST ViT's
// layer, smaller) for 5 steps and returns its weights.
func trainEncoder() []float32 {
	nn.SetSeed(3)
	cfg := nn.DefaultTransformerEncoderLayerConfig(64, 4)
	cfg.DimFeedforward, cfg.Dropout = 128, 0
	enc := nn.NewTransformerEncoder(cfg, 2, false)
	x := tensor.RandN(tensor.NewRNG(4), 32, 49, 64)
	return trainWeights(enc, 0.01, 0, 5, func() *tensor.Tensor {
		return tensor.Mean(tensor.Mul(enc.Forward(x, nn.AttentionOptions{}), x), false)
	})
}

// TestThreadCountDoesNotChangeResults: training on one thread and on
// several gives bit-identical weights. Every sum is cut into pieces fixed
// by the shapes (Sgemm's K slices, the norms' row chunks), never by the
// thread count.
func TestThreadCountDoesNotChangeResults(t *testing.T) {
	sameOnOneAndTwoThreads(t, trainEncoder)
}

// trainStridedConv trains a strided convolution (the im2col path, not
// LeNet's direct one) for 5 steps and returns its weights.
func trainStridedConv() []float32 {
	nn.SetSeed(5)
	net := nn.NewSequential(nn.NewConv2D(8, 16, 3, nn.Stride(2), nn.Padding(1)), nn.ReLU{},
		nn.NewConv2D(16, 16, 3, nn.Stride(2)), nn.NewFlatten(), nn.NewLinear(16*7*7, 10))
	x := tensor.RandN(tensor.NewRNG(6), 64, 8, 32, 32)
	y := tensor.IntFromSlice(make([]int64, 64))
	return trainWeights(net, 0.01, 0, 5, func() *tensor.Tensor { return nn.CrossEntropy(net.Forward(x), y) })
}

// TestConvThreadCountDoesNotChangeResults: a convolution's weight gradient
// is summed over fixed parts of the batch in a fixed order, so training on
// one thread and on two gives the same bits.
func TestConvThreadCountDoesNotChangeResults(t *testing.T) {
	sameOnOneAndTwoThreads(t, trainStridedConv)
}

// trainWeights takes steps SGD steps on net (the forward pass, the loss,
// backward, the step, the graph freed) and returns all of net's weights
// in parameter order.
func trainWeights(net nn.Module, lr, momentum float64, steps int, loss func() *tensor.Tensor) []float32 {
	opt, _ := optim.NewSGD(nn.Parameters(net), optim.SGDConfig{LR: lr, Momentum: momentum})
	for range steps {
		l := loss()
		opt.ZeroGrad()
		l.Backward()
		opt.Step()
		l.FreeGraph()
	}
	var all []float32
	for _, p := range nn.Parameters(net) {
		all = append(all, p.Data()...)
	}
	return all
}

// sameOnOneAndTwoThreads fails t at the first weight that train gives
// differently on one kernel thread and on two.
func sameOnOneAndTwoThreads(t *testing.T, train func() []float32) {
	t.Helper()
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs GOMAXPROCS >= 2 for a second thread")
	}
	run := func(threads int) []float32 {
		defer kernel.SetThreads(kernel.SetThreads(threads))
		return train()
	}
	one, two := run(1), run(2)
	for j := range one {
		if one[j] != two[j] {
			t.Fatalf("weight %d: %v on one thread, %v on two", j, one[j], two[j])
		}
	}
}
