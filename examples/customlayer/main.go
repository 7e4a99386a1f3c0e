// Command customlayer writes two layers PyTorch users write by hand, a
// residual block and a squeeze-and-excitation block, as Go structs: one
// struct, one Forward, and Members built from the fields by nn.MembersOf.
// They compose with the built-in layers in a Sequential, get torch's
// state-dict names, and train on MNIST with fit.Classifier.
//
//	go run ./examples/customlayer -epochs 2
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

// Residual is y = relu(x + body(x)), torch's
//
//	class Residual(nn.Module):
//	    def __init__(self, c):
//	        super().__init__()
//	        self.conv1, self.bn1 = nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c)
//	        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c)
//	    def forward(self, x):
//	        h = torch.relu(self.bn1(self.conv1(x)))
//	        return torch.relu(x + self.bn2(self.conv2(h)))
type Residual struct {
	Conv1 *nn.Conv2D
	BN1   *nn.BatchNorm `nn:"bn1"`
	Conv2 *nn.Conv2D
	BN2   *nn.BatchNorm `nn:"bn2"`
}

// NewResidual returns a residual block over c channels.
func NewResidual(c int) *Residual {
	return &Residual{Conv1: nn.NewConv2D(c, c, 3, nn.Padding(1)), BN1: nn.NewBatchNorm2D(c),
		Conv2: nn.NewConv2D(c, c, 3, nn.Padding(1)), BN2: nn.NewBatchNorm2D(c)}
}

// Members: conv1, bn1, conv2, bn2.
func (r *Residual) Members() nn.Members { return nn.MembersOf(r) }

// Forward maps [N, C, H, W] to the same shape.
func (r *Residual) Forward(x *tensor.Tensor) *tensor.Tensor {
	h := tensor.ReLU(r.BN1.Forward(r.Conv1.Forward(x)))
	return tensor.ReLU(tensor.Add(x, r.BN2.Forward(r.Conv2.Forward(h))))
}

// SqueezeExcite rescales each channel by a gate computed from the
// channel means: s = σ(fc2(relu(fc1(mean_hw(x))))), y = x·s.
type SqueezeExcite struct {
	FC1 *nn.Linear `nn:"fc1"`
	FC2 *nn.Linear `nn:"fc2"`
}

// NewSqueezeExcite returns an SE block over c channels reduced by r.
func NewSqueezeExcite(c, r int) *SqueezeExcite {
	return &SqueezeExcite{FC1: nn.NewLinear(c, c/r), FC2: nn.NewLinear(c/r, c)}
}

// Members: fc1, fc2.
func (s *SqueezeExcite) Members() nn.Members { return nn.MembersOf(s) }

// Forward maps [N, C, H, W] to the same shape.
func (s *SqueezeExcite) Forward(x *tensor.Tensor) *tensor.Tensor {
	z := tensor.Mean(x, false, 2, 3) // [N, C]: keepdim comes before the axes in Go
	g := tensor.Sigmoid(s.FC2.Forward(tensor.ReLU(s.FC1.Forward(z))))
	return tensor.Mul(x, g.Reshape(g.Size(0), g.Size(1), 1, 1))
}

// NewNet is a small residual CNN with SE gates for 28x28 digits.
func NewNet() *nn.Sequential {
	return nn.NewSequential(
		nn.NewConv2D(1, 16, 3, nn.Padding(1)), nn.ReLU{}, nn.NewMaxPool2D(2),
		NewResidual(16), NewSqueezeExcite(16, 4), nn.NewMaxPool2D(2),
		nn.NewFlatten(), nn.NewLinear(16*7*7, 10),
	)
}

// Run trains NewNet and returns its test accuracy.
func Run(dir string, epochs, limit, testLimit int, log *os.File) (*nn.Sequential, float64, error) {
	train, test, err := data.LoadMNISTDir(dir, data.MNISTOptions{Normalize: true, TrainLimit: limit, TestLimit: testLimit})
	if err != nil {
		return nil, 0, err
	}
	nn.SetSeed(1)
	net := NewNet()
	opt, err := optim.NewAdamW(nn.Parameters(net), optim.AdamConfig{LR: 3e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 1e-2})
	if err != nil {
		return nil, 0, err
	}
	o := fit.Options{Epochs: epochs, BatchSize: 64, Seed: 1, Test: test}
	if log != nil {
		o.Log = log
	}
	hist, err := fit.Classifier(net, opt, train, o)
	if err != nil {
		return nil, 0, err
	}
	return net, hist[len(hist)-1].Test, nil
}

func main() {
	dir := flag.String("data", findMNIST(), "folder with the MNIST files")
	epochs := flag.Int("epochs", 2, "epochs")
	limit := flag.Int("limit", 0, "train on the first N samples only (0 = all)")
	flag.Parse()
	net, acc, err := Run(*dir, *epochs, *limit, 0, os.Stdout)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("test accuracy %.4f; %d parameters; state dict starts %v\n", acc, nn.NumParameters(net), names(net)[:6])
}

func names(m nn.Module) []string {
	var out []string
	for _, e := range nn.StateDict(m) {
		out = append(out, e.Name)
	}
	return out
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
