package quant

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/optim"
	"github.com/shenml/shen/tensor"
)

// mnistDir is the shared MNIST copy, from this package's folder.
var mnistDir = filepath.Join("..", "..", "shared", "data", "mnist")

func loadMNIST(t *testing.T, name string, n int) (x []float32, y []int64) {
	t.Helper()
	d, err := data.LoadMNIST(filepath.Join(mnistDir, name+"-images-idx3-ubyte.gz"), filepath.Join(mnistDir, name+"-labels-idx1-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	n = min(n, d.Len())
	x = append([]float32(nil), d.X[:n*784]...)
	for i, v := range x {
		x[i] = (v - 0.1307) / 0.3081 // as examples/ and the PyTorch reference do
	}
	return x, d.Y[:n]
}

// accuracy is the share of rows of net(x) whose largest logit is the label.
func accuracy(net nn.Layer, x []float32, y []int64, shape []int) float64 {
	per := len(x) / len(y)
	correct := 0
	nn.NoGrad(net, func() {
		for lo := 0; lo < len(y); lo += 500 {
			hi := min(len(y), lo+500)
			logits := net.Forward(tensor.FromSlice(x[lo*per:hi*per], append([]int{hi - lo}, shape...)...))
			am := tensor.Argmax(logits, 1, false).Data()
			for i, p := range am {
				if p == y[lo+i] {
					correct++
				}
			}
		}
	})
	return float64(correct) / float64(len(y))
}

// TestMNISTAccuracy trains the example MLP and LeNet-5 for one epoch on
// 12000 MNIST images, quantises them with 500 calibration images and
// requires the int8 test accuracy (all 10000 test images) within 0.5
// points of float32. Some tens of seconds: skipped under -short and when
// the MNIST files are absent.
func TestMNISTAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two MNIST models")
	}
	if _, err := os.Stat(filepath.Join(mnistDir, "t10k-images-idx3-ubyte.gz")); err != nil {
		t.Skipf("MNIST not found: %v", err)
	}
	xtr, ytr := loadMNIST(t, "train", 12000)
	xte, yte := loadMNIST(t, "t10k", 10000)
	for _, tc := range []struct {
		name  string
		net   *nn.Sequential
		shape []int
	}{
		{"mlp", nn.NewSequential(nn.NewLinear(784, 512), nn.ReLU{}, nn.NewLinear(512, 256), nn.ReLU{}, nn.NewLinear(256, 10)), []int{784}},
		{"lenet", nn.NewSequential(
			nn.NewConv2D(1, 6, 5, nn.Padding(2)), nn.ReLU{}, nn.NewMaxPool2D(2),
			nn.NewConv2D(6, 16, 5), nn.ReLU{}, nn.NewMaxPool2D(2), nn.NewFlatten(),
			nn.NewLinear(400, 120), nn.ReLU{}, nn.NewLinear(120, 84), nn.ReLU{}, nn.NewLinear(84, 10)), []int{1, 28, 28}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt, err := optim.NewSGD(nn.Parameters(tc.net), optim.SGDConfig{LR: 0.01, Momentum: 0.9})
			if err != nil {
				t.Fatal(err)
			}
			const batch = 64
			for lo := 0; lo+batch <= len(ytr); lo += batch {
				x := tensor.FromSlice(xtr[lo*784:(lo+batch)*784], append([]int{batch}, tc.shape...)...)
				loss := nn.CrossEntropy(tc.net.Forward(x), tensor.IntFromSlice(ytr[lo:lo+batch]))
				opt.ZeroGrad()
				loss.Backward()
				opt.Step()
				loss.FreeGraph()
			}
			nn.Train(tc.net, false)
			spec, err := Calibrate(tc.net, tensor.FromSlice(xtr[:500*784], append([]int{500}, tc.shape...)...), 250)
			if err != nil {
				t.Fatal(err)
			}
			qnet, err := Apply(tc.net, spec)
			if err != nil {
				t.Fatal(err)
			}
			af, aq := accuracy(tc.net, xte, yte, tc.shape), accuracy(qnet, xte, yte, tc.shape)
			t.Logf("%s: float32 %.2f%%, int8 %.2f%% on %d test images", tc.name, 100*af, 100*aq, len(yte))
			if af < 0.85 {
				t.Fatalf("the float model did not learn: %.2f%%", 100*af)
			}
			if d := 100 * (af - aq); d > 0.5 || d < -0.5 {
				t.Fatalf("int8 accuracy %.2f%% is %.2f points from float32 %.2f%%", 100*aq, d, 100*af)
			}
		})
	}
}
