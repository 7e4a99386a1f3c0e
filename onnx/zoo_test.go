package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

const sharedONNX = "../../shared/data/onnx"

// checkFolder runs CheckDir on dir and fails the test on any output.
func checkFolder(t *testing.T, dir string, tol Tolerance) {
	t.Helper()
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s not found; skipping", dir)
	}
	res, err := CheckDir(dir, tol, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Outputs {
		t.Logf("%s %s: max abs %.3g max rel %.3g pass=%v %s", o.DataSet, o.Output, o.MaxAbs, o.MaxRel, o.Pass, o.Problem)
	}
	if !res.Passed() {
		t.Errorf("%s does not reproduce its stored outputs", dir)
	}
}

// The MNIST model of the ONNX zoo (CNTK export, opset 7) with its three
// stored data sets.
func TestZooMNIST(t *testing.T) {
	checkFolder(t, filepath.Join(sharedONNX, "mnist-7-cntk"), Tolerance{Rtol: 1e-3, Atol: 1e-5})
}

// The gonnx sample models carry no outputs; testdata/onnx/gen_torch.py
// computed them with NumPy from the models' own weights into the test
// layout under testdata/onnx/gonnx/.
func TestGonnxSamples(t *testing.T) {
	for _, name := range []string{"mlp", "gru", "scaler"} {
		t.Run(name, func(t *testing.T) {
			checkFolder(t, filepath.Join("..", "testdata", "onnx", "gonnx", name), Tolerance{Rtol: 1e-5, Atol: 1e-6})
		})
	}
}

// Models exported by PyTorch 1.13 at its default opset (14) by
// testdata/onnx/gen_torch.py, with PyTorch's outputs.
func TestTorchExports(t *testing.T) {
	for _, name := range []string{"cnn_bn", "rnn", "transformer"} {
		t.Run(name, func(t *testing.T) {
			checkFolder(t, filepath.Join("..", "testdata", "onnx", "torch", name), Tolerance{Atol: 1e-5})
		})
	}
}
