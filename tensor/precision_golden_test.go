package tensor

import (
	"math"
	"testing"

	"github.com/shenml/shen/internal/kernel"
)

// TestBF16GoldenAutocast replays testdata/torch/bf16.json: F.linear under
// PyTorch 1.13's torch.autocast("cpu", dtype=torch.bfloat16). Both sides
// multiply the same bf16-rounded operands exactly and sum in float32;
// autocast adds its bias rounded to bfloat16 and rounds the result to
// bfloat16, while Shen keeps float32. So every element must agree within
//
//	2^-8·(1+2^-7)·|torch| + 2^-8·|bias| + 2(k+2)·2^-24·Σ|x·w|
//
// (half a bf16 ulp of torch's result, its rounded bias, and the two
// summation orders). Rounding Shen's product to bfloat16 with autocast's
// rounded bias must give autocast's value in nearly every element (the
// sums differ only in order), and Shen's float32 Linear must be further
// from autocast than its bf16 one: the fixture tells rounded operands
// from unrounded ones.
func TestBF16GoldenAutocast(t *testing.T) {
	for _, c := range loadFixtures(t, "bf16") {
		x, w := c.Inputs[0].tensor(), c.Inputs[1].tensor()
		var b, bRounded *Tensor
		if len(c.Inputs) == 3 {
			b = c.Inputs[2].tensor()
			bRounded = c.Inputs[2].tensor()
			kernel.RoundBF16(bRounded.Data(), bRounded.Data(), 1)
		}
		k := w.Shape()[1]
		got := Linear(x, w.Detach().SetPrecision(BF16), b).Data()
		f32 := Linear(x, w, b).Data()
		noBias := Linear(x, w.Detach().SetPrecision(BF16), nil).Data()
		mag := Linear(Abs(x), Abs(w), nil).Data()
		rel := math.Ldexp(1, -8) * (1 + math.Ldexp(1, -7))
		sum := math.Ldexp(float64(2*(k+2)), -24)
		var d16, d32 float64
		same := 0
		for j, want := range c.Output.Data {
			tol := rel*math.Abs(want) + sum*float64(mag[j])
			rounded := noBias[j]
			if b != nil {
				o := j % len(b.Data()) // the output feature
				tol += math.Ldexp(math.Abs(float64(b.Data()[o])), -8)
				rounded += bRounded.Data()[o]
			}
			d := math.Abs(float64(got[j]) - want)
			if d > tol {
				t.Fatalf("%s output[%d]: Shen bf16 %v, autocast %v: |difference| %g > %g", c.Name, j, got[j], want, d, tol)
			}
			if float64(kernel.FromBF16(kernel.ToBF16(rounded))) == want {
				same++
			}
			d16 += d
			d32 += math.Abs(float64(f32[j]) - want)
		}
		n := len(c.Output.Data)
		if d16 >= d32 || same < n*95/100 {
			t.Errorf("%s: Σ|Shen - autocast| bf16 %.3g, fp32 %.3g; bf16-rounded equal in %d of %d", c.Name, d16, d32, same, n)
		}
		t.Logf("%s: Σ|Shen - autocast| bf16 %.3g, fp32 %.3g; Shen rounded to bf16 equals autocast in %d of %d", c.Name, d16, d32, same, n)
	}
}
