package predict_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/shenml/shen/predict"
	"github.com/shenml/shen/tensor"
)

// TestPredictBF16 runs one artifact in float32 and in bf16 (LoadWith):
// the raw outputs agree within the bf16 tolerance of a two-layer MLP
// (each product within 2^-7 of Σ|a·b|; 2^-5 of the largest output for
// both layers, as nn's layer tests state), differ somewhere (the products
// really were rounded), and the float32 predictor, run again after the
// bf16 one, gives the same bits (the setting is the bf16 network's own).
func TestPredictBF16(t *testing.T) {
	dir := trainFruit(t, "mean")
	p32 := load(t, dir)
	p16, err := predict.LoadWith(dir, predict.Options{Precision: tensor.BF16})
	if err != nil {
		t.Fatal(err)
	}
	if p16.Precision() != tensor.BF16 || p32.Precision() != tensor.FP32 {
		t.Fatalf("precisions %v and %v", p32.Precision(), p16.Precision())
	}
	const n = 64
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n*p32.InputSize())
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	o32, o16 := make([]float32, n*p32.Outputs()), make([]float32, n*p32.Outputs())
	if err := p32.Forward(x, n, o32); err != nil {
		t.Fatal(err)
	}
	if err := p16.Forward(x, n, o16); err != nil {
		t.Fatal(err)
	}
	scale, diff := 0.0, 0.0
	for i := range o32 {
		scale = max(scale, math.Abs(float64(o32[i])))
		diff = max(diff, math.Abs(float64(o16[i]-o32[i])))
	}
	if diff == 0 || diff > scale/32 {
		t.Errorf("bf16 outputs differ from float32 by %g (largest output %g): want (0, 2^-5·%g]", diff, scale, scale)
	}
	again := make([]float32, len(o32))
	if err := p32.Forward(x, n, again); err != nil {
		t.Fatal(err)
	}
	for i := range again {
		if math.Float32bits(again[i]) != math.Float32bits(o32[i]) {
			t.Fatalf("float32 output %d changed after a bf16 predictor was made: %v, was %v", i, again[i], o32[i])
		}
	}
}
