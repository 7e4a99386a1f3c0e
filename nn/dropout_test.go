package nn

import (
	"math"
	"slices"
	"testing"

	"github.com/shenml/shen/tensor"
)

// TestDropout checks the drop fraction, the 1/(1-p) scaling, that the
// gradient passes through the same mask, the identity in evaluation mode,
// and that (Seed, Calls) replays the same mask.
func TestDropout(t *testing.T) {
	const n, p = 30001, 0.3
	d := NewDropout(p)
	d.Seed = 11
	x := tensor.Full(2, n).SetRequiresGrad(true)
	y := d.Forward(x)
	y.BackwardWith(tensor.Full(1, n), false)
	dropped := 0
	scale := float32(1 / (1 - p))
	for i, v := range y.Data() {
		g := x.Grad().Data()[i]
		switch {
		case v == 0 && g == 0:
			dropped++
		case v == 2*scale && g == scale:
		default:
			t.Fatalf("element %d: out %v grad %v, want 0/0 or %v/%v", i, v, g, 2*scale, scale)
		}
	}
	if frac := float64(dropped) / n; math.Abs(frac-p) > 0.01 {
		t.Errorf("dropped %.4f of the elements, want %.2f", frac, p)
	}
	first := slices.Clone(y.Data())
	d.Calls = 0 // replay call 0
	if again := d.Forward(x).Data(); !slices.Equal(again, first) {
		t.Error("the same (Seed, Calls) gave a different mask")
	}
	if next := d.Forward(x).Data(); slices.Equal(next, first) {
		t.Error("call 1 repeated call 0's mask")
	}
	Train(d, false)
	if d.Forward(x) != x {
		t.Error("evaluation mode is not the identity")
	}
}
