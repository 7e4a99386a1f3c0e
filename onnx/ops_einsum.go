package onnx

import (
	"fmt"
	"strings"
)

func init() { register(buildEinsum, "Einsum") }

// einsumSpec is a parsed equation: the letters of each operand and of
// the output, and every distinct letter in order of appearance.
type einsumSpec struct {
	ins     []string
	out     string
	letters string
}

func parseEinsum(eq string, nIn int) (*einsumSpec, error) {
	eq = strings.ReplaceAll(eq, " ", "")
	if strings.Contains(eq, "...") {
		return nil, fmt.Errorf("einsum ellipsis (%q) is not supported", eq)
	}
	lhs, out, explicit := strings.Cut(eq, "->")
	s := &einsumSpec{ins: strings.Split(lhs, ",")}
	if len(s.ins) != nIn {
		return nil, fmt.Errorf("equation %q has %d operands, node has %d inputs", eq, len(s.ins), nIn)
	}
	count := map[rune]int{}
	for _, in := range s.ins {
		for _, c := range in {
			if c < 'A' || c > 'z' || (c > 'Z' && c < 'a') {
				return nil, fmt.Errorf("equation %q: %q is not a letter", eq, c)
			}
			if count[c] == 0 {
				s.letters += string(c)
			}
			count[c]++
		}
	}
	if !explicit { // implicit output: letters seen once, alphabetically
		var once []byte
		for c := 'A'; c <= 'z'; c++ {
			if count[c] == 1 {
				once = append(once, byte(c))
			}
		}
		out = string(once)
	}
	for _, c := range out {
		if count[c] == 0 {
			return nil, fmt.Errorf("equation %q: output letter %q is in no operand", eq, c)
		}
	}
	s.out = out
	return s, nil
}

// buildEinsum evaluates the equation directly: one pass over every
// combination of letter values, accumulating products into the output.
// Attention-sized einsums (a few letters of tens of values) run in
// microseconds; large contractions should be exported as MatMul.
func buildEinsum(n *node) (opFunc, error) {
	spec, err := parseEinsum(n.attr.str("equation", ""), len(n.in))
	if err != nil {
		return nil, err
	}
	return func(x *exec, in, out []*Tensor) error {
		L := len(spec.letters)
		size := x.ints(0, L)
		for i := range size {
			size[i] = -1
		}
		// Per operand and output, the stride of each letter (summed over repeats).
		st := make([][]int, len(in)+1)
		for k, t := range in {
			if !t.DType.isFloat() {
				return fmt.Errorf("einsum of %s is not supported", t.DType)
			}
			if len(t.Shape) != len(spec.ins[k]) {
				return fmt.Errorf("operand %d has shape %v for letters %q", k, t.Shape, spec.ins[k])
			}
			ts := strides(nil, t.Shape)
			st[k] = make([]int, L)
			for j, c := range spec.ins[k] {
				li := strings.IndexRune(spec.letters, c)
				if size[li] >= 0 && size[li] != t.Shape[j] {
					return fmt.Errorf("letter %q is %d and %d long", c, size[li], t.Shape[j])
				}
				size[li] = t.Shape[j]
				st[k][li] += ts[j]
			}
		}
		shape := x.ints(1, len(spec.out))
		for j, c := range spec.out {
			shape[j] = size[strings.IndexRune(spec.letters, c)]
		}
		out[0].set(Float, shape)
		clear(out[0].F)
		os := strides(nil, shape)
		st[len(in)] = make([]int, L)
		for j, c := range spec.out {
			st[len(in)][strings.IndexRune(spec.letters, c)] = os[j]
		}
		forEachIndex(x.ints(2, L), size, func(_ int, idx []int) {
			p := float32(1)
			for k, t := range in {
				off := 0
				for li, v := range idx {
					off += v * st[k][li]
				}
				p *= t.F[off]
			}
			o := 0
			for li, v := range idx {
				o += v * st[len(in)][li]
			}
			out[0].F[o] += p
		})
		return nil
	}, nil
}
