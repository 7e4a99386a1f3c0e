package tensor

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/shenml/shen/internal/golden"
)

// Golden fixtures made by PyTorch 1.13 (testdata/torch/gen_*.py), read
// through internal/golden. A case holds inputs, arguments, the output, an
// upstream gradient and the gradients of sum(output*upstream) with respect
// to each floating input. fxTensor and fxCase are golden's types with the
// conversions to this package's tensors as methods.

type fxTensor golden.Tensor

type fxCase struct {
	Name     string          `json:"name"`
	Op       string          `json:"op"`
	Args     json.RawMessage `json:"args"`
	Inputs   []fxTensor      `json:"inputs"`
	Output   fxTensor        `json:"output"`
	Extra    []fxTensor      `json:"extra"`
	Upstream *fxTensor       `json:"upstream"`
	Grads    []*fxTensor     `json:"grads"`
}

func loadFixtures(t *testing.T, group string) []fxCase {
	t.Helper()
	var f struct {
		Cases []fxCase `json:"cases"`
	}
	if err := golden.LoadInto(group, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) == 0 {
		t.Fatalf("%s: no cases", golden.Path(group))
	}
	return f.Cases
}

// tensor converts a fixture tensor to a float32 Tensor.
func (f fxTensor) tensor() *Tensor {
	d := make([]float32, len(f.Data))
	for i, v := range f.Data {
		d[i] = float32(v)
	}
	if len(f.Shape) == 0 {
		return FromSlice(d).Reshape()
	}
	return FromSlice(d, f.Shape...)
}

// ints converts an int64 fixture tensor.
func (f fxTensor) ints() *IntTensor {
	d := make([]int64, len(f.Data))
	for i, v := range f.Data {
		d[i] = int64(v)
	}
	return IntFromSlice(d, f.Shape...)
}

// args decodes the case's arguments into v.
func (c fxCase) args(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(c.Args, v); err != nil {
		t.Fatalf("%s: args: %v", c.Name, err)
	}
}

// leaves returns the case's float inputs as leaves requiring grad (int
// inputs come back as nil; use c.Inputs[i].ints()).
func (c fxCase) leaves() []*Tensor {
	out := make([]*Tensor, len(c.Inputs))
	for i, in := range c.Inputs {
		if in.DType == "int64" {
			continue
		}
		out[i] = in.tensor().SetRequiresGrad(true)
	}
	return out
}

// closeTo reports the first element where got and want differ by more than
// tol relative (absolute for values below 1), the rule of golden.Compare.
func closeTo(got []float32, want []float64, tol float64) (int, bool) {
	if len(got) != len(want) {
		return -1, false
	}
	for i := range got {
		if golden.Compare(got[i:i+1], want[i:i+1], tol) != "" {
			return i, false
		}
	}
	return 0, true
}

func expectTensor(t *testing.T, what string, got *Tensor, want fxTensor, tol float64) {
	t.Helper()
	if !SameShape(got.Shape(), want.Shape) {
		t.Errorf("%s: shape %v, want %v", what, got.Shape(), want.Shape)
		return
	}
	if msg := golden.Compare(got.Data(), want.Data, tol); msg != "" {
		t.Errorf("%s: %s", what, msg)
	}
}

// checkCase runs fn on the case's inputs and compares output and input
// gradients with PyTorch's.
func checkCase(t *testing.T, c fxCase, tol float64, fn func(in []*Tensor) *Tensor) {
	t.Helper()
	in := c.leaves()
	out := fn(in)
	expectTensor(t, c.Name+" output", out, c.Output, tol)
	if c.Upstream == nil {
		return
	}
	out.BackwardWith(c.Upstream.tensor(), false)
	for i, g := range c.Grads {
		if g == nil || in[i] == nil {
			continue
		}
		got := in[i].Grad()
		if got == nil { // no path to this input: PyTorch reports zeros
			got = ZerosLike(in[i])
		}
		expectTensor(t, fmt.Sprintf("%s grad[%d]", c.Name, i), got, *g, tol)
	}
}
