// Command customcnn is the PyTorch MNIST tutorial written in Go: a CNN as
// a struct of layers with its own Forward, a training loop written out by
// hand (one-cycle learning-rate schedule stepped per batch, gradient
// clipping, FreeGraph after each step), then the weights saved as
// safetensors with torch's state-dict names and dtypes, and loaded back
// exactly. PyTorch 1.13 loads the same file with strict=True
// (load_in_torch.py next to this file does, and checks the predictions).
//
//	go run ./examples/customcnn -epochs 3 -out cnn.safetensors   # about 99% test accuracy
//	/usr/bin/python3 examples/customcnn/load_in_torch.py cnn.safetensors
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/fit"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/optim"
	"github.com/shenml/shen/tensor"
)

// CNN is torch's
//
//	class CNN(nn.Module):
//	    def __init__(self):
//	        super().__init__()
//	        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
//	        self.bn1 = nn.BatchNorm2d(16)
//	        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
//	        self.bn2 = nn.BatchNorm2d(32)
//	        self.pool = nn.MaxPool2d(2)
//	        self.dropout = nn.Dropout(0.25)
//	        self.fc1 = nn.Linear(32 * 7 * 7, 128)
//	        self.fc2 = nn.Linear(128, 10)
//
// with the same state-dict names (conv1.weight, bn1.running_mean, ...).
type CNN struct {
	Conv1   *nn.Conv2D
	BN1     *nn.BatchNorm `nn:"bn1"`
	Conv2   *nn.Conv2D
	BN2     *nn.BatchNorm `nn:"bn2"`
	Pool    *nn.MaxPool2D
	Dropout *nn.Dropout
	FC1     *nn.Linear `nn:"fc1"`
	FC2     *nn.Linear `nn:"fc2"`
}

// NewCNN builds the network with torch's initialisation.
func NewCNN() *CNN {
	return &CNN{
		Conv1: nn.NewConv2D(1, 16, 3, nn.Padding(1)), BN1: nn.NewBatchNorm2D(16),
		Conv2: nn.NewConv2D(16, 32, 3, nn.Padding(1)), BN2: nn.NewBatchNorm2D(32),
		Pool: nn.NewMaxPool2D(2), Dropout: nn.NewDropout(0.25),
		FC1: nn.NewLinear(32*7*7, 128), FC2: nn.NewLinear(128, 10),
	}
}

// Members: every field, by its torch name.
func (c *CNN) Members() nn.Members { return nn.MembersOf(c) }

// Forward maps images [N, 1, 28, 28] to logits [N, 10].
func (c *CNN) Forward(x *tensor.Tensor) *tensor.Tensor {
	x = c.Pool.Forward(tensor.ReLU(c.BN1.Forward(c.Conv1.Forward(x))))
	x = c.Pool.Forward(tensor.ReLU(c.BN2.Forward(c.Conv2.Forward(x))))
	x = c.Dropout.Forward(x.Flatten(1, -1))
	return c.FC2.Forward(tensor.ReLU(c.FC1.Forward(x)))
}

// Config is a run's settings.
type Config struct {
	Dir                   string
	Epochs, Batch         int
	MaxLR, ClipNorm       float64
	TrainLimit, TestLimit int
	Seed                  uint64
}

// Train runs the hand-written loop and returns the trained network and its
// test accuracy.
func Train(c Config) (*CNN, float64, error) {
	train, test, err := data.LoadMNISTDir(c.Dir, data.MNISTOptions{Normalize: true, TrainLimit: c.TrainLimit, TestLimit: c.TestLimit})
	if err != nil {
		return nil, 0, err
	}
	nn.SetSeed(c.Seed)
	net := NewCNN()
	params := nn.Parameters(net)
	opt, err := optim.NewSGD(params, optim.SGDConfig{LR: c.MaxLR, Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4})
	if err != nil {
		return nil, 0, err
	}
	loader, err := data.NewLoader(train, data.LoaderOptions{BatchSize: c.Batch, Shuffle: true, Seed: c.Seed, Prefetch: 2})
	if err != nil {
		return nil, 0, err
	}
	sched, err := optim.NewOneCycleLR(opt, optim.OneCycle{MaxLR: []float64{c.MaxLR}, TotalSteps: c.Epochs * loader.Len()})
	if err != nil {
		return nil, 0, err
	}
	for epoch := range c.Epochs {
		nn.Train(net, true)
		var lossSum float64
		for b, err := range loader.Epoch(epoch) {
			if err != nil {
				return nil, 0, err
			}
			logits := net.Forward(tensor.FromSlice(b.X, b.XShape...))
			loss := nn.CrossEntropy(logits, tensor.IntFromSlice(b.Y, b.Size))
			opt.ZeroGrad()
			loss.Backward()
			optim.ClipGradNorm(params, c.ClipNorm, 2)
			opt.Step()
			sched.Step() // one-cycle steps per batch
			lossSum += float64(loss.Item()) * float64(b.Size)
			loss.FreeGraph() // hands this step's activations back for the next
		}
		acc, err := fit.Accuracy(net, test, nil)
		if err != nil {
			return nil, 0, err
		}
		fmt.Printf("epoch %d  loss %.4f  test accuracy %.4f\n", epoch+1, lossSum/float64(train.Len()), acc)
	}
	acc, err := fit.Accuracy(net, test, nil)
	return net, acc, err
}

func main() {
	c := Config{}
	flag.StringVar(&c.Dir, "data", findMNIST(), "folder with the MNIST files")
	flag.IntVar(&c.Epochs, "epochs", 3, "epochs")
	flag.IntVar(&c.Batch, "batch", 64, "batch size")
	flag.Float64Var(&c.MaxLR, "lr", 0.05, "peak learning rate of the one-cycle schedule")
	flag.Float64Var(&c.ClipNorm, "clip", 2, "clip the gradients' global L2 norm to this")
	flag.IntVar(&c.TrainLimit, "limit", 0, "train on the first N samples only (0 = all)")
	flag.Uint64Var(&c.Seed, "seed", 1, "seed")
	out := flag.String("out", "cnn.safetensors", "where to save the weights")
	flag.Parse()
	net, acc, err := Train(c)
	if err != nil {
		log.Fatal(err)
	}
	if err := nn.SaveSafetensors(net, *out); err != nil {
		log.Fatal(err)
	}
	// Load into a fresh network, as a serving program would.
	back := NewCNN()
	if _, err := nn.LoadSafetensors(back, *out, true); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("test accuracy %.4f; weights in %s (load in torch: load_in_torch.py %s)\n", acc, *out, *out)
}

func findMNIST() string {
	for _, d := range []string{"../shared", "../../shared", "../../../shared"} {
		p := filepath.Join(d, "data", "mnist")
		if _, err := os.Stat(filepath.Join(p, "train-images-idx3-ubyte.gz")); err == nil {
			return p
		}
	}
	return "../shared/data/mnist"
}
