package tensor

import (
	"math"
	"strings"
	"testing"
)

// TestSoftmaxMatchesTorch replays testdata/torch/softmax.json: Softmax,
// LogSoftmax (including inputs of ±80 that overflow exp without the max
// shift, and a transposed view), LogSumExp, Var, Std, Argmax and Argmin
// (ties and NaN).
func TestSoftmaxMatchesTorch(t *testing.T) {
	for _, c := range loadFixtures(t, "softmax") {
		t.Run(c.Name, func(t *testing.T) {
			var a struct {
				Axis              int
				Axes              []int
				Keepdim, Unbiased bool
			}
			c.args(t, &a)
			tol := 1e-5
			if n := len(c.Inputs[0].Data); n >= 1000 {
				tol = 1e-4 // long reductions: PyTorch sums in float32 in a different order
			}
			op, strided := strings.CutSuffix(c.Op, "_t")
			switch op {
			case "argmax", "argmin":
				f := Argmax
				if op == "argmin" {
					f = Argmin
				}
				x := c.Inputs[0].tensor()
				for i, v := range x.Data() {
					if v == 999 { // JSON has no NaN: the generator stores 999 for it
						x.Data()[i] = float32(math.NaN())
					}
				}
				got := f(x, a.Axis, a.Keepdim)
				if !SameShape(got.Shape(), c.Output.Shape) {
					t.Fatalf("shape %v, want %v", got.Shape(), c.Output.Shape)
				}
				for i, v := range got.Data() {
					if float64(v) != c.Output.Data[i] {
						t.Fatalf("element %d = %d, want %v", i, v, c.Output.Data[i])
					}
				}
				return
			}
			checkCase(t, c, tol, func(in []*Tensor) *Tensor {
				x := in[0]
				if strided {
					x = x.T()
				}
				switch op {
				case "softmax":
					return Softmax(x, a.Axis)
				case "log_softmax":
					return LogSoftmax(x, a.Axis)
				case "logsumexp":
					return LogSumExp(x, a.Keepdim, a.Axes...)
				case "var":
					return Var(x, a.Unbiased, a.Keepdim, a.Axes...)
				case "std":
					return Std(x, a.Unbiased, a.Keepdim, a.Axes...)
				}
				t.Fatalf("no Go op for fixture op %q", c.Op)
				return nil
			})
		})
	}
}

// TestSoftmaxEdges covers what the fixtures cannot carry: -Inf entries,
// all--Inf lines, a 0-d input and Std's masked gradient at zero spread.
func TestSoftmaxEdges(t *testing.T) {
	inf := float32(math.Inf(1))
	x := FromSlice([]float32{0, -inf, 0, -inf}, 2, 2)
	if got := Softmax(x, 1).Data(); got[0] != 1 || got[1] != 0 || got[2] != 1 || got[3] != 0 {
		t.Errorf("Softmax with -Inf = %v, want [1 0 1 0]", got)
	}
	if got := LogSumExp(FromSlice([]float32{-inf, -inf}), false).Item(); !math.IsInf(float64(got), -1) {
		t.Errorf("LogSumExp(-Inf, -Inf) = %v, want -Inf", got)
	}
	if got := Softmax(Scalar(3), 0); got.Dim() != 0 || got.Item() != 1 {
		t.Errorf("Softmax of a 0-d tensor = %v, want 0-d 1", got)
	}
	c := Full(2, 4).SetRequiresGrad(true)
	s := Std(c, true, false)
	s.Backward()
	for _, g := range c.Grad().Data() {
		if g != 0 {
			t.Fatalf("Std gradient at zero spread = %v, want 0 as PyTorch masks it", c.Grad())
		}
	}
	if v := Var(FromSlice([]float32{5}), true, false).Item(); v == v {
		t.Errorf("unbiased Var of one element = %v, want NaN", v)
	}
	if got := Argmax(Scalar(3), 0, false); got.Dim() != 0 || got.Data()[0] != 0 {
		t.Errorf("Argmax of a 0-d tensor = %v", got)
	}
}
