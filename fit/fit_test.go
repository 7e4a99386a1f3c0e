package fit

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/optim"
	"github.com/shenml/shen/tensor"
)

// blobs is two well separated Gaussian classes in 2-d.
func blobs(n int, seed uint64) *data.ArrayDataset {
	g := tensor.NewRNG(seed)
	noise := tensor.RandN(g, n, 2).Data()
	x := make([]float32, 2*n)
	y := make([]int64, n)
	for i := range n {
		c := i % 2
		y[i] = int64(c)
		x[2*i] = noise[2*i]*0.5 + float32(4*c-2)
		x[2*i+1] = noise[2*i+1]*0.5 - float32(4*c-2)
	}
	d, err := data.NewArrayDataset(x, []int{2}, y)
	if err != nil {
		panic(err)
	}
	return d
}

func TestClassifierLearns(t *testing.T) {
	nn.SetSeed(1)
	net := nn.NewSequential(nn.NewLinear(2, 8), nn.ReLU{}, nn.NewLinear(8, 2))
	opt, err := optim.NewSGD(nn.Parameters(net), optim.SGDConfig{LR: 0.1, Momentum: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	sched, _ := optim.NewStepLR(opt, 2, 0.5)
	var log bytes.Buffer
	hist, err := Classifier(net, opt, blobs(256, 1), Options{Epochs: 3, BatchSize: 32, ClipNorm: 5,
		Scheduler: sched, Test: blobs(128, 2), Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || hist[2].Test < 0.97 || hist[2].Loss >= hist[0].Loss {
		t.Fatalf("history %+v: want 3 epochs, falling loss, test accuracy ≥ 0.97", hist)
	}
	if lr := opt.Groups()[0].LR; math.Abs(lr-0.05) > 1e-12 {
		t.Fatalf("scheduler not stepped per epoch: lr %v, want 0.05", lr)
	}
	if strings.Count(log.String(), "\n") != 3 {
		t.Fatalf("log:\n%s", log.String())
	}
}

func TestRegressorLearns(t *testing.T) {
	nn.SetSeed(2)
	g := tensor.NewRNG(3)
	x := tensor.RandN(g, 200, 3).Data()
	y := make([]float32, 200)
	for i := range y {
		y[i] = 2*x[3*i] - x[3*i+1] + 0.5*x[3*i+2] + 1
	}
	ds, err := data.NewRegressionDataset(x, []int{3}, y, 1)
	if err != nil {
		t.Fatal(err)
	}
	net := nn.NewLinear(3, 1)
	opt, _ := optim.NewAdam(nn.Parameters(net), optim.AdamConfig{LR: 0.05, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	hist, err := Regressor(net, opt, ds, Options{Epochs: 30, BatchSize: 20, Test: ds})
	if err != nil {
		t.Fatal(err)
	}
	if last := hist[len(hist)-1].Test; last > 1e-3 {
		t.Fatalf("test MSE %v after 30 epochs of a linear target, want < 1e-3", last)
	}
}

func TestOptionsErrors(t *testing.T) {
	net := nn.NewLinear(2, 2)
	opt, _ := optim.NewSGD(nn.Parameters(net), optim.SGDConfig{LR: 0.1})
	if _, err := Classifier(net, opt, blobs(8, 1), Options{BatchSize: 4}); err == nil || !strings.Contains(err.Error(), "Epochs") {
		t.Errorf("zero epochs: %v", err)
	}
	reg, _ := data.NewRegressionDataset(make([]float32, 8), []int{2}, make([]float32, 4), 1)
	if _, err := Classifier(net, opt, reg, Options{Epochs: 1, BatchSize: 4}); err == nil || !strings.Contains(err.Error(), "class label") {
		t.Errorf("classifier on regression data: %v", err)
	}
	// A learning rate that blows up is reported, not trained on.
	x := tensor.RandN(tensor.NewRNG(1), 64, 2).Data()
	ds, _ := data.NewRegressionDataset(x, []int{2}, x[:64], 1)
	lin := nn.NewLinear(2, 1)
	big, _ := optim.NewSGD(nn.Parameters(lin), optim.SGDConfig{LR: 1e6})
	if _, err := Regressor(lin, big, ds, Options{Epochs: 20, BatchSize: 8}); err == nil || !strings.Contains(err.Error(), "loss is") {
		t.Errorf("diverging run: %v", err)
	}
}
