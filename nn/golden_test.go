package nn

import (
	"fmt"
	"testing"

	"github.com/shenml/shen/internal/golden"
	"github.com/shenml/shen/tensor"
)

// Helpers that turn golden fixtures (internal/golden) into tensors and
// check Shen's outputs and gradients against PyTorch's.

func loadGolden(t *testing.T, group string) []golden.Case {
	t.Helper()
	cases, err := golden.Load(group)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

func goldenTensor(g golden.Tensor) *tensor.Tensor {
	if len(g.Shape) == 0 {
		return tensor.FromSlice(g.Float32()).Reshape()
	}
	return tensor.FromSlice(g.Float32(), g.Shape...)
}

func goldenInts(g golden.Tensor) *tensor.IntTensor { return tensor.IntFromSlice(g.Int64(), g.Shape...) }

// goldenLeaves returns the case's float inputs as leaves requiring grad
// (nil for integer inputs).
func goldenLeaves(c golden.Case) []*tensor.Tensor {
	out := make([]*tensor.Tensor, len(c.Inputs))
	for i, in := range c.Inputs {
		if in.DType != "int64" {
			out[i] = goldenTensor(in).SetRequiresGrad(true)
		}
	}
	return out
}

func expectGolden(t *testing.T, what string, got *tensor.Tensor, want golden.Tensor, tol float64) {
	t.Helper()
	if !tensor.SameShape(got.Shape(), want.Shape) {
		t.Errorf("%s: shape %v, want %v", what, got.Shape(), want.Shape)
		return
	}
	if msg := golden.Compare(got.Data(), want.Data, tol); msg != "" {
		t.Errorf("%s: %s", what, msg)
	}
}

// checkGolden compares fn's output on the given inputs, and after
// Backward with the recorded upstream gradient, the inputs' gradients.
func checkGolden(t *testing.T, c golden.Case, in []*tensor.Tensor, out *tensor.Tensor, tol float64) {
	t.Helper()
	expectGolden(t, c.Name+" output", out, c.Output, tol)
	if c.Upstream == nil {
		return
	}
	out.BackwardWith(goldenTensor(*c.Upstream), false)
	for i, g := range c.Grads {
		if g == nil || i >= len(in) || in[i] == nil {
			continue
		}
		got := in[i].Grad()
		if got == nil {
			got = tensor.ZerosLike(in[i])
		}
		expectGolden(t, fmt.Sprintf("%s grad[%d]", c.Name, i), got, *g, tol)
	}
}
