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
	opt, _ := optim.NewSGD(nn.Parameters(net), optim.SGDConfig{LR: 0.02, Momentum: 0.9})
	rng := tensor.NewRNG(1)
	x := tensor.RandN(rng, 8, 1, 28, 28)
	y := tensor.IntFromSlice([]int64{0, 1, 2, 3, 4, 5, 6, 7})
	for range 40 {
		loss := nn.CrossEntropy(net.Forward(x), y)
		opt.ZeroGrad()
		loss.Backward()
		opt.Step()
		loss.FreeGraph()
	}
	var all []float32
	for _, p := range nn.Parameters(net) {
		all = append(all, p.Data()...)
	}
	return all
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

// trainEncoderSteps trains a two-layer transformer encoder (the MNIST ViT's
// layer, smaller) for 5 steps on kernel threads and returns its weights.
func trainEncoderSteps(threads int) []float32 {
	defer kernel.SetThreads(kernel.SetThreads(threads))
	nn.SetSeed(3)
	cfg := nn.DefaultTransformerEncoderLayerConfig(64, 4)
	cfg.DimFeedforward, cfg.Dropout = 128, 0
	enc := nn.NewTransformerEncoder(cfg, 2, false)
	opt, _ := optim.NewSGD(nn.Parameters(enc), optim.SGDConfig{LR: 0.01})
	x := tensor.RandN(tensor.NewRNG(4), 32, 49, 64)
	for range 5 {
		loss := tensor.Mean(tensor.Mul(enc.Forward(x, nn.AttentionOptions{}), x), false)
		opt.ZeroGrad()
		loss.Backward()
		opt.Step()
		loss.FreeGraph()
	}
	var all []float32
	for _, p := range nn.Parameters(enc) {
		all = append(all, p.Data()...)
	}
	return all
}

// TestThreadCountDoesNotChangeResults: training on one thread and on
// several gives bit-identical weights. Every sum is cut into pieces fixed
// by the shapes (Sgemm's K slices, the norms' row chunks), never by the
// thread count.
func TestThreadCountDoesNotChangeResults(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs GOMAXPROCS >= 2 for a second thread")
	}
	one, two := trainEncoderSteps(1), trainEncoderSteps(2)
	for j := range one {
		if one[j] != two[j] {
			t.Fatalf("weight %d: %v on one thread, %v on two", j, one[j], two[j])
		}
	}
}

// trainStridedConvSteps trains a strided convolution (the im2col path, not
// LeNet's direct one) for 5 steps on kernel threads and returns its
// weights.
func trainStridedConvSteps(threads int) []float32 {
	defer kernel.SetThreads(kernel.SetThreads(threads))
	nn.SetSeed(5)
	net := nn.NewSequential(nn.NewConv2D(8, 16, 3, nn.Stride(2), nn.Padding(1)), nn.ReLU{},
		nn.NewConv2D(16, 16, 3, nn.Stride(2)), nn.NewFlatten(), nn.NewLinear(16*7*7, 10))
	opt, _ := optim.NewSGD(nn.Parameters(net), optim.SGDConfig{LR: 0.01})
	x := tensor.RandN(tensor.NewRNG(6), 64, 8, 32, 32)
	y := tensor.IntFromSlice(make([]int64, 64))
	for range 5 {
		loss := nn.CrossEntropy(net.Forward(x), y)
		opt.ZeroGrad()
		loss.Backward()
		opt.Step()
		loss.FreeGraph()
	}
	var all []float32
	for _, p := range nn.Parameters(net) {
		all = append(all, p.Data()...)
	}
	return all
}

// TestConvThreadCountDoesNotChangeResults: a convolution's weight gradient
// is summed over fixed parts of the batch in a fixed order, so training on
// one thread and on two gives the same bits.
func TestConvThreadCountDoesNotChangeResults(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs GOMAXPROCS >= 2 for a second thread")
	}
	one, two := trainStridedConvSteps(1), trainStridedConvSteps(2)
	for j := range one {
		if one[j] != two[j] {
			t.Fatalf("weight %d: %v on one thread, %v on two", j, one[j], two[j])
		}
	}
}
