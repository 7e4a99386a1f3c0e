// Command lstm classifies MNIST digits by reading each image as a sequence
// of 28 rows of 28 pixels with an LSTM (hidden 128) and a linear head on
// the last hidden state, trained by backpropagation through time with Adam
// and gradient clipping. Test accuracy reaches about 98% in a few epochs.
//
//	go run ./examples/lstm -epochs 4
package main

import (
	"github.com/shenml/shen/examples/internal/mnist"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/optim"
	"github.com/shenml/shen/tensor"
)

// rowLSTM is the model of the PyTorch reference: LSTM(28, 128) over the
// rows, then Linear(128, 10) on h_n of the last layer.
type rowLSTM struct {
	RNN *nn.LSTM
	FC  *nn.Linear
}

func (m *rowLSTM) Members() nn.Members {
	return nn.Members{Children: []nn.Named[nn.Module]{{Name: "rnn", Value: m.RNN}, {Name: "fc", Value: m.FC}}}
}

func (m *rowLSTM) Forward(x *tensor.Tensor) *tensor.Tensor {
	_, state := m.RNN.Forward(x, nil, nil)
	return m.FC.Forward(m.RNN.LastHidden(state))
}

func main() { mnist.Main("lstm", 4, 1e-3, run) }

// run trains the model as f says and returns the test accuracy and the
// mean seconds per epoch.
func run(f *mnist.Flags) (acc, secPerEpoch float64, err error) {
	f.Setup()
	train, test, err := mnist.Load(f)
	if err != nil {
		return 0, 0, err
	}
	net := &rowLSTM{RNN: nn.NewLSTM(28, 128, nn.RNNConfig{NumLayers: 1, BatchFirst: true}), FC: nn.NewLinear(128, 10)}
	cfg := optim.DefaultAdamConfig()
	cfg.LR = f.LR
	opt, err := optim.NewAdam(nn.Parameters(net), cfg)
	if err != nil {
		return 0, 0, err
	}
	// Clipping the global gradient norm is the standard guard against
	// exploding gradients in backpropagation through time.
	return mnist.Train(f, net, opt, train, test, 5, mnist.Rows, nil)
}
