package model

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/quant"
	"github.com/shenml/shen/tensor"
)

// TestQuantizedArtifact saves a CNN with a calibrated quantization, loads
// it back, and checks that Load runs the int8 layers (outputs close to,
// but not bit-equal to, the float model's) and that a saved quantised
// model keeps its float weights and spec.
func TestQuantizedArtifact(t *testing.T) {
	pad := 1
	a := Architecture{Kind: "cnn", Input: []int{1, 8, 8}, Outputs: 3, Channels: []int{4, 6}, Kernel: 3, Padding: &pad, Hidden: []int{12}}
	m, err := New(testSpec(a))
	if err != nil {
		t.Fatal(err)
	}
	nn.Train(m.Net, false)
	r := rand.New(rand.NewPCG(1, 2))
	xd := make([]float32, 32*64)
	for i := range xd {
		xd[i] = r.Float32()
	}
	x := tensor.FromSlice(xd, 32, 1, 8, 8)
	if m.Spec.Quantization, err = quant.Calibrate(m.Net, x, 16); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := back.Net.(*nn.Sequential).Layers[0].(*quant.Conv2D); !ok {
		t.Fatalf("Load did not quantise the first convolution: %T", back.Net.(*nn.Sequential).Layers[0])
	}
	yf, yq := m.Predict(x).Data(), back.Predict(x).Data()
	differ := false
	for i := range yf {
		if math.Abs(float64(yf[i]-yq[i])) > 0.05 {
			t.Fatalf("logit %d: int8 %v, float %v", i, yq[i], yf[i])
		}
		differ = differ || yf[i] != yq[i]
	}
	if !differ {
		t.Fatal("the loaded model gives the float outputs exactly: not running int8")
	}
	// Saving the loaded model writes the same float weights and spec.
	dir2 := t.TempDir()
	if err := back.Save(dir2); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{SpecFile, WeightsFile} {
		b1, _ := os.ReadFile(filepath.Join(dir, f))
		b2, _ := os.ReadFile(filepath.Join(dir2, f))
		if string(b1) != string(b2) {
			t.Fatalf("%s changed when a quantised model was saved again", f)
		}
	}
	// A quantization naming a layer the network lacks is an error naming
	// model.json and the layer.
	m.Spec.Quantization.Layers[0].Name = "17"
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	_, err = Load(dir)
	if err == nil || !strings.Contains(err.Error(), SpecFile) || !strings.Contains(err.Error(), `"17"`) {
		t.Fatalf("bad quantization: %v", err)
	}
}
