// Command mlp trains a 784-512-256-10 multilayer perceptron on MNIST with
// Adam and prints test accuracy (about 98% after a few epochs).
//
//	go run ./examples/mlp -epochs 10
package main

import (
	"github.com/shenml/shen/examples/internal/mnist"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/optim"
)

func main() { mnist.Main("mlp", 10, 0.01, run) }

// run trains the model as f says and returns the test accuracy and the
// mean seconds per epoch.
func run(f *mnist.Flags) (acc, secPerEpoch float64, err error) {
	f.Setup()
	train, test, err := mnist.Load(f)
	if err != nil {
		return 0, 0, err
	}
	net := nn.NewSequential(
		nn.NewLinear(784, 512), nn.ReLU{},
		nn.NewLinear(512, 256), nn.ReLU{},
		nn.NewLinear(256, 10),
	)
	opt, err := optim.NewSGD(nn.Parameters(net), optim.SGDConfig{LR: f.LR, Momentum: 0.9})
	if err != nil {
		return 0, 0, err
	}
	return mnist.Train(f, net, opt, train, test, 0, mnist.Flat, nil)
}
