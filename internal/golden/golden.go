// Package golden reads the PyTorch golden fixtures under testdata/torch
// (made by the gen_*.py scripts there with testdata/torch/fixtures.py) and
// compares results against them. It deliberately does not import the
// tensor package so that tensor's own tests can use it too.
package golden

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
)

// Tensor is one fixture tensor: its shape and row-major values. Integer
// tensors (labels, indices) have DType "int64".
type Tensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
	DType string    `json:"dtype"`
}

// Float32 returns the values as float32 (exact for values PyTorch computed in float32).
func (t Tensor) Float32() []float32 {
	d := make([]float32, len(t.Data))
	for i, v := range t.Data {
		d[i] = float32(v)
	}
	return d
}

// Int64 returns the values as int64.
func (t Tensor) Int64() []int64 {
	d := make([]int64, len(t.Data))
	for i, v := range t.Data {
		d[i] = int64(v)
	}
	return d
}

// Case is one recorded computation: inputs, arguments, output, the
// upstream gradient and the gradient of sum(output·upstream) with respect
// to each floating input (nil for inputs without one).
type Case struct {
	Name     string          `json:"name"`
	Op       string          `json:"op"`
	Args     json.RawMessage `json:"args"`
	Inputs   []Tensor        `json:"inputs"`
	Output   Tensor          `json:"output"`
	Extra    []Tensor        `json:"extra"`
	Upstream *Tensor         `json:"upstream"`
	Grads    []*Tensor       `json:"grads"`
}

// DecodeArgs unmarshals the case's arguments into v.
func (c Case) DecodeArgs(v any) error {
	if len(c.Args) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.Args, v); err != nil {
		return fmt.Errorf("fixture %s: args: %w", c.Name, err)
	}
	return nil
}

// Path returns the path of testdata/torch/<group>.json in this repository.
func Path(group string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "torch", group+".json")
}

// Load reads every case of testdata/torch/<group>.json.
func Load(group string) ([]Case, error) {
	path := Path(group)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w (regenerate with /usr/bin/python3 testdata/torch/gen_%s.py)", err, group)
	}
	var f struct {
		Cases []Case `json:"cases"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(f.Cases) == 0 {
		return nil, fmt.Errorf("%s: no cases", path)
	}
	return f.Cases, nil
}

// LoadInto reads testdata/torch/<group>.json into v, for fixtures whose
// cases carry a whole module (named weights, inputs and gradients) in a
// schema of their own; their tensors are still Tensor values.
func LoadInto(group string, v any) error {
	path := Path(group)
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w (regenerate with /usr/bin/python3 testdata/torch/gen_%s.py)", err, group)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Compare checks got against want element by element with tolerance tol,
// relative for values above 1 in magnitude and absolute below, and returns
// a message naming the first element out of tolerance, or "" when all agree.
func Compare(got []float32, want []float64, tol float64) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d values, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := float64(got[i]), want[i]
		if math.IsNaN(w) && math.IsNaN(g) {
			continue
		}
		if math.Abs(g-w) > tol*math.Max(1, math.Abs(w)) {
			return fmt.Sprintf("element %d = %v, want %v (tol %g)", i, got[i], w, tol)
		}
	}
	return ""
}

// CompareScaled is Compare with the error measured relative to the larger
// of the element and the largest magnitude in want. Results that sum many
// float32 products differ from PyTorch's in the last bits, which for an
// element near zero is large relative to itself but not to the tensor's
// scale; this is the rule for whole-module fixtures (attention).
func CompareScaled(got []float32, want []float64, tol float64) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d values, want %d", len(got), len(want))
	}
	var scale float64
	for _, v := range want {
		scale = math.Max(scale, math.Abs(v))
	}
	for i, w := range want {
		g := float64(got[i])
		if math.IsNaN(w) != math.IsNaN(g) {
			return fmt.Sprintf("element %d = %v, want %v", i, g, w)
		}
		if math.Abs(g-w) > tol*math.Max(math.Max(math.Abs(w), scale), 1e-6) {
			return fmt.Sprintf("element %d = %v, want %v (tol %g of the tensor's scale %g)", i, g, w, tol, scale)
		}
	}
	return ""
}

// Bools returns the values as booleans (nonzero is true); nil for a nil tensor.
func (t *Tensor) Bools() []bool {
	if t == nil {
		return nil
	}
	b := make([]bool, len(t.Data))
	for i, v := range t.Data {
		b[i] = v != 0
	}
	return b
}
