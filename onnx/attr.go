package onnx

import (
	"fmt"

	"github.com/shenml/shen/onnx/onnxpb"
)

// attrs are a node's attributes by name.
type attrs map[string]*onnxpb.AttributeProto

func (a attrs) has(name string) bool { return a[name] != nil }

func (a attrs) int(name string, def int) int {
	if p := a[name]; p != nil {
		return int(p.GetI())
	}
	return def
}

func (a attrs) float(name string, def float32) float32 {
	if p := a[name]; p != nil {
		return p.GetF()
	}
	return def
}

func (a attrs) str(name, def string) string {
	if p := a[name]; p != nil {
		return string(p.GetS())
	}
	return def
}

func (a attrs) ints(name string) []int {
	p := a[name]
	if p == nil {
		return nil
	}
	out := make([]int, len(p.Ints))
	for i, v := range p.Ints {
		out[i] = int(v)
	}
	return out
}

func (a attrs) floats(name string) []float32 {
	if p := a[name]; p != nil {
		return p.Floats
	}
	return nil
}

func (a attrs) strs(name string) []string {
	p := a[name]
	if p == nil {
		return nil
	}
	out := make([]string, len(p.Strings))
	for i, s := range p.Strings {
		out[i] = string(s)
	}
	return out
}

func (a attrs) tensor(name string) (*Tensor, error) {
	p := a[name]
	if p == nil || p.T == nil {
		return nil, fmt.Errorf("attribute %q is missing", name)
	}
	return TensorFromProto(p.T, Limits{})
}

// normAxis maps a possibly negative axis into [0, rank).
func normAxis(axis, rank int) (int, error) {
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return axis, nil
}
