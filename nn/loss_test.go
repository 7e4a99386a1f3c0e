package nn

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/shenml/shen/tensor"
)

// TestCrossEntropyZeroOptionsIgnoreNothing: the zero CrossEntropyOptions
// is torch's default (ignore_index=-100), so class 0 counts like any other;
// an ignored class must be asked for.
func TestCrossEntropyZeroOptionsIgnoreNothing(t *testing.T) {
	logits := tensor.FromSlice([]float32{2, 0.5, -1, 0.1, 1.5, 0.3}, 2, 3)
	y := tensor.IntFromSlice([]int64{0, 1}, 2)
	want := CrossEntropy(logits, y).Item()
	if got := CrossEntropyWith(logits, y, CrossEntropyOptions{}).Item(); got != want {
		t.Fatalf("zero options: loss %v, CrossEntropy gives %v (class 0 was ignored)", got, want)
	}
	// Ignoring class 0 leaves only sample 1: −log softmax(row 1)[1].
	got := CrossEntropyWith(logits, y, CrossEntropyOptions{IgnoreIndex: Ignore(0)}).Item()
	row := []float64{0.1, 1.5, 0.3}
	s := 0.0
	for _, v := range row {
		s += math.Exp(v)
	}
	if w := -(1.5 - math.Log(s)); math.Abs(float64(got)-w) > 1e-6 {
		t.Fatalf("IgnoreIndex 0: loss %v, want %v", got, w)
	}
}

// TestLossTargetShapeErrorSaysWhich: a [B] target against a [B, 1]
// prediction (and a [B, 1] class column for cross-entropy) panics with the
// shape to use.
func TestLossTargetShapeErrorSaysWhich(t *testing.T) {
	pred := tensor.Zeros(4, 1)
	for _, c := range []struct {
		name string
		fn   func()
		want string
	}{
		{"mse [B,1] vs [B]", func() { MSELoss(pred, tensor.Zeros(4), ReduceMean) }, "give the target as [4, 1]"},
		{"mse [B] vs [B,1]", func() { L1Loss(tensor.Zeros(4), pred, ReduceMean) }, "give the target as [4]"},
		{"ce [B,1] targets", func() { CrossEntropy(tensor.Zeros(4, 3), tensor.IntFromSlice([]int64{0, 1, 2, 0}, 4, 1)) }, "reshape it to [4]"},
	} {
		msg := panicMessage(c.fn)
		if !strings.Contains(msg, c.want) {
			t.Errorf("%s: panic %q, want it to say %q", c.name, msg, c.want)
		}
	}
}

func panicMessage(fn func()) (msg string) {
	defer func() { msg = fmt.Sprint(recover()) }()
	fn()
	return ""
}
