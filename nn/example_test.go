package nn_test

import (
	"fmt"

	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/optim"
	"github.com/shenml/shen/tensor"
)

// A LeNet-style classifier trained for a few steps on random data: the
// shape of every training loop in Shen (and of the README's example).
func Example() {
	nn.SetSeed(1)
	net := nn.NewSequential(
		nn.NewConv2D(1, 6, 5, nn.Padding(2)), nn.ReLU{}, nn.NewMaxPool2D(2),
		nn.NewConv2D(6, 16, 5), nn.ReLU{}, nn.NewMaxPool2D(2),
		nn.NewFlatten(), nn.NewLinear(16*5*5, 120), nn.ReLU{}, nn.NewLinear(120, 10),
	)
	opt, err := optim.NewSGD(nn.Parameters(net), optim.SGDConfig{LR: 0.02, Momentum: 0.9})
	if err != nil {
		panic(err)
	}
	rng := tensor.NewRNG(1)
	x := tensor.RandN(rng, 8, 1, 28, 28)
	y := tensor.IntFromSlice([]int64{0, 1, 2, 3, 4, 5, 6, 7})
	var first, last float32
	for step := range 40 {
		loss := nn.CrossEntropy(net.Forward(x), y)
		opt.ZeroGrad()
		loss.Backward()
		opt.Step()
		if step == 0 {
			first = loss.Item()
		}
		last = loss.Item()
		loss.FreeGraph() // hand this step's buffers back for the next one
	}
	fmt.Println("loss fell:", last < first/2)

	nn.Train(net, false)    // evaluation mode
	nn.NoGrad(net, func() { // like torch.no_grad(), scoped to net's parameters
		pred := tensor.Argmax(net.Forward(x), 1, false)
		fmt.Println("predictions:", pred.Data())
	})
	// Output:
	// loss fell: true
	// predictions: [0 1 2 3 4 5 6 7]
}
