package onnx

import (
	"fmt"
	"math"
)

// The two ai.onnx.ml operators exported table preprocessing uses on
// categorical (string) columns.

func init() {
	register(buildLabelEncoder, "ai.onnx.ml.LabelEncoder")
	register(buildOneHotEncoder, "ai.onnx.ml.OneHotEncoder")
}

// buildLabelEncoder maps strings to strings, int64s or floats through the
// keys_strings/values_* tables; unknown keys take the default.
func buildLabelEncoder(n *node) (opFunc, error) {
	keys := n.attr.strs("keys_strings")
	if keys == nil {
		return nil, fmt.Errorf("only string keys (keys_strings) are supported")
	}
	vs, vi, vf := n.attr.strs("values_strings"), n.attr["values_int64s"], n.attr.floats("values_floats")
	var out DType
	var size int
	switch {
	case vs != nil:
		out, size = String, len(vs)
	case vi != nil:
		out, size = Int64, len(vi.Ints)
	case vf != nil:
		out, size = Float, len(vf)
	default:
		return nil, fmt.Errorf("no values_strings, values_int64s or values_floats")
	}
	if size != len(keys) {
		return nil, fmt.Errorf("%d keys and %d values", len(keys), size)
	}
	index := make(map[string]int, len(keys))
	for i, k := range keys {
		index[k] = i
	}
	defS, defI, defF := n.attr.str("default_string", "_Unused"), int64(n.attr.int("default_int64", -1)), n.attr.float("default_float", float32(math.Copysign(0, -1)))
	return func(x *exec, in, outs []*Tensor) error {
		a := in[0]
		if a.DType != String {
			return fmt.Errorf("input is %s, want string", a.DType)
		}
		o := outs[0]
		o.set(out, a.Shape)
		for i, k := range a.S {
			j, ok := index[k]
			switch out {
			case String:
				o.S[i] = defS
				if ok {
					o.S[i] = vs[j]
				}
			case Int64:
				o.I[i] = defI
				if ok {
					o.I[i] = vi.Ints[j]
				}
			default:
				o.F[i] = defF
				if ok {
					o.F[i] = vf[j]
				}
			}
		}
		return nil
	}, nil
}

// buildOneHotEncoder turns each string of the input into a row of
// len(cats_strings) floats with a 1 at its category; an unknown string
// is all zeros (zeros=1) or an error (zeros=0).
func buildOneHotEncoder(n *node) (opFunc, error) {
	cats := n.attr.strs("cats_strings")
	if cats == nil {
		return nil, fmt.Errorf("only string categories (cats_strings) are supported")
	}
	index := make(map[string]int, len(cats))
	for i, c := range cats {
		index[c] = i
	}
	zeros := n.attr.int("zeros", 1) != 0
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		if a.DType != String {
			return fmt.Errorf("input is %s, want string", a.DType)
		}
		shape := append(append(x.ints(0, 0), a.Shape...), len(cats))
		x.i[0] = shape
		out[0].set(Float, shape)
		clear(out[0].F)
		for i, s := range a.S {
			j, ok := index[s]
			if !ok {
				if !zeros {
					return fmt.Errorf("category %q is not one of the %d known", s, len(cats))
				}
				continue
			}
			out[0].F[i*len(cats)+j] = 1
		}
		return nil
	}, nil
}
