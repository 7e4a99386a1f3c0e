package tensor

import (
	"testing"
)

// TestCoreMatchesTorch replays testdata/torch/core.json: elementwise ops
// with broadcasting, views and copies, and reductions, forward and backward.
func TestCoreMatchesTorch(t *testing.T) {
	binaries := map[string]func(a, b *Tensor) *Tensor{
		"add": Add, "sub": Sub, "mul": Mul, "div": Div, "pow": Pow, "maximum": Maximum, "minimum": Minimum,
	}
	unaries := map[string]func(a *Tensor) *Tensor{
		"neg": Neg, "sqrt": Sqrt, "exp": Exp, "log": Log, "abs": Abs,
		"transpose_reshape": func(a *Tensor) *Tensor { return MulScalar(a.T().Reshape(-1), 1) },
		"squeeze_unsqueeze": func(a *Tensor) *Tensor { return MulScalar(a.Squeeze(1).Unsqueeze(0), 1) },
	}
	for _, c := range loadFixtures(t, "core") {
		t.Run(c.Name, func(t *testing.T) {
			tol := 1e-5
			if c.Op == "pow" {
				tol = 2e-5 // torch uses a different pow kernel; both are within 1 ulp-ish
			}
			checkCase(t, c, tol, func(in []*Tensor) *Tensor {
				if f, ok := binaries[c.Op]; ok {
					return f(in[0], in[1])
				}
				if f, ok := unaries[c.Op]; ok {
					return f(in[0])
				}
				var a struct {
					Lo, Hi, P             float32
					Shape, Perm, Axes     []int
					Sizes, Pads           []int
					Dim, Start, End, Step int
					Keepdim               bool
				}
				c.args(t, &a)
				switch c.Op {
				case "where":
					return Where(in[0], in[1], in[2])
				case "clamp":
					return Clamp(in[0], a.Lo, a.Hi)
				case "powscalar":
					return PowScalar(in[0], a.P)
				case "reshape":
					return MulScalar(in[0].Reshape(a.Shape...), 2)
				case "permute":
					return MulScalar(in[0].Permute(a.Perm...).Contiguous(), 1)
				case "slice":
					return MulScalar(in[0].Slice(a.Dim, a.Start, a.End, a.Step), 1)
				case "expand":
					return MulScalar(in[0].Expand(a.Shape...), 1)
				case "concat":
					return Concat(in, a.Dim)
				case "stack":
					return Stack(in, a.Dim)
				case "split":
					return MulScalar(in[0].Split(0, a.Sizes...)[1], 2)
				case "pad":
					return Pad(in[0], a.Pads...)
				case "sum":
					return Sum(in[0], a.Keepdim, a.Axes...)
				case "mean":
					return Mean(in[0], a.Keepdim, a.Axes...)
				case "max":
					return Max(in[0], a.Keepdim, a.Axes...)
				case "min":
					return Min(in[0], a.Keepdim, a.Axes...)
				}
				t.Fatalf("no Go op for fixture op %q", c.Op)
				return nil
			})
		})
	}
}
