package onnx

import (
	"math"

	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/onnx/onnxpb"
	"google.golang.org/protobuf/proto"
)

// fuse rewrites the multi-node patterns exporters emit into one kernel
// each: Conv followed by inference BatchNormalization (folded into the
// convolution's weights), Conv followed by Relu (applied as the
// convolution writes its output), MatMul with constant weights followed by a bias
// Add (one SGEMM that starts from the bias), the Erf form of GELU and the
// ReduceMean/Sub/Pow/Sqrt/Div form of LayerNorm. A pattern is fused only
// when its intermediate values feed nothing else.
func (mod *Model) fuse() {
	for {
		g := mod.graphIndex()
		changed := false
		for i, n := range mod.nodes {
			if n == nil {
				continue
			}
			switch n.op {
			case "BatchNormalization":
				changed = mod.fuseConvBN(g, i) || changed
			case "Add":
				changed = mod.fuseMatMulAdd(g, i) || changed
			case "Erf":
				changed = mod.fuseGelu(g, i) || changed
			case "Relu":
				changed = mod.fuseConvRelu(g, i) || changed
			case "ReduceMean":
				changed = mod.fuseLayerNorm(g, i) || changed
			}
		}
		kept := mod.nodes[:0]
		for _, n := range mod.nodes {
			if n != nil {
				kept = append(kept, n)
			}
		}
		mod.nodes = kept
		if !changed {
			return
		}
	}
}

// graphIndex knows, for each value slot, its producing node and its uses.
type graphIndex struct {
	producer []int
	uses     []int
}

func (mod *Model) graphIndex() *graphIndex {
	g := &graphIndex{producer: make([]int, len(mod.slotNames)), uses: make([]int, len(mod.slotNames))}
	for i := range g.producer {
		g.producer[i] = -1
	}
	for i, n := range mod.nodes {
		for _, s := range n.out {
			if s >= 0 {
				g.producer[s] = i
			}
		}
		for _, s := range n.in {
			if s >= 0 {
				g.uses[s]++
			}
		}
	}
	for _, s := range mod.outputSlots {
		g.uses[s] += 2 // a graph output is never an internal value
	}
	return g
}

// from returns the live node producing slot s when that node has op, or -1.
func (mod *Model) from(g *graphIndex, s int, op string) int {
	if s < 0 || s >= len(g.producer) || g.producer[s] < 0 {
		return -1
	}
	if n := mod.nodes[g.producer[s]]; n != nil && n.op == op {
		return g.producer[s]
	}
	return -1
}

// single reports whether slot s is used by exactly one node.
func (g *graphIndex) single(s int) bool { return s >= 0 && s < len(g.uses) && g.uses[s] == 1 }

// constant returns the constant in slot s, or nil.
func (mod *Model) constant(s int) *Tensor {
	if s < 0 {
		return nil
	}
	return mod.consts[s]
}

// scalarConst reports whether slot s is a float constant with one value near v.
func (mod *Model) scalarConst(s int, v float64, tol float64) bool {
	c := mod.constant(s)
	return c != nil && c.DType.isFloat() && c.Len() == 1 && math.Abs(float64(c.F[0])-v) <= tol
}

// newConst adds a constant slot.
func (mod *Model) newConst(name string, t *Tensor) int {
	mod.slotNames = append(mod.slotNames, name)
	mod.consts = append(mod.consts, t)
	return len(mod.consts) - 1
}

func intAttr(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), I: proto.Int64(v), Type: onnxpb.AttributeProto_INT.Enum()}
}

func floatAttr(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), F: proto.Float32(v), Type: onnxpb.AttributeProto_FLOAT.Enum()}
}

// fuseConvBN folds BatchNormalization node i into the Conv before it.
func (mod *Model) fuseConvBN(g *graphIndex, i int) bool {
	bn := mod.nodes[i]
	ci := mod.from(g, bn.in[0], "Conv")
	if ci < 0 || !g.single(bn.in[0]) || len(bn.out) > 1 && bn.out[1] >= 0 {
		return false
	}
	conv := mod.nodes[ci]
	w := mod.constant(conv.in[1])
	scale, beta, mean, vari := mod.constant(bn.in[1]), mod.constant(bn.in[2]), mod.constant(bn.in[3]), mod.constant(bn.in[4])
	if w == nil || scale == nil || beta == nil || mean == nil || vari == nil || len(w.Shape) < 3 {
		return false
	}
	var b *Tensor
	if len(conv.in) > 2 && conv.in[2] >= 0 {
		if b = mod.constant(conv.in[2]); b == nil {
			return false
		}
	}
	m := w.Shape[0]
	if scale.Len() != m || beta.Len() != m || mean.Len() != m || vari.Len() != m {
		return false
	}
	eps := float64(bn.attr.float("epsilon", 1e-5))
	nw, nb := w.Clone(), NewFloat(make([]float32, m), m)
	per := w.Len() / m
	for o := 0; o < m; o++ {
		s := float64(scale.F[o]) / math.Sqrt(float64(vari.F[o])+eps)
		kernel.Scale(nw.F[o*per:(o+1)*per], float32(s), w.F[o*per:(o+1)*per])
		bias := 0.0
		if b != nil {
			bias = float64(b.F[o])
		}
		nb.F[o] = float32((bias-float64(mean.F[o]))*s + float64(beta.F[o]))
	}
	fused := *conv
	fused.in = []int{conv.in[0], mod.newConst(conv.name+".fused_weight", nw), mod.newConst(conv.name+".fused_bias", nb)}
	fused.out = []int{bn.out[0]}
	fused.name = conv.name + "+" + bn.name
	mod.nodes[ci], mod.nodes[i] = nil, &fused
	return true
}

// fuseMatMulAdd turns MatMul(x, W) + b, with W a constant matrix and b a
// constant broadcast over the rows, into one MatMul that starts from b.
func (mod *Model) fuseMatMulAdd(g *graphIndex, i int) bool {
	add := mod.nodes[i]
	for k := 0; k < 2; k++ {
		mi := mod.from(g, add.in[k], "MatMul")
		if mi < 0 || !g.single(add.in[k]) {
			continue
		}
		mm := mod.nodes[mi]
		w, b := mod.constant(mm.in[1]), mod.constant(add.in[1-k])
		if w == nil || b == nil || len(w.Shape) != 2 || !b.DType.isFloat() || b.Len() != w.Shape[1] {
			continue
		}
		for _, d := range b.Shape[:len(b.Shape)-1] {
			if d != 1 {
				return false
			}
		}
		bias := b
		if len(b.Shape) != 1 {
			bias = NewFloat(b.F, b.Len())
		}
		fused := &node{name: mm.name + "+" + add.name, op: "MatMul+Add", opset: mm.opset, attr: attrs{},
			in: []int{mm.in[0], mm.in[1], mod.newConst(add.name+".bias", bias)}, out: []int{add.out[0]}}
		fused.run = func(x *exec, in, out []*Tensor) error { return matmul(x, in[0], in[1], in[2], out[0]) }
		mod.nodes[mi], mod.nodes[i] = nil, fused
		return true
	}
	return false
}

// consumer returns the only node that reads slot s if it has op, or -1.
func (mod *Model) consumer(g *graphIndex, s int, op string) int {
	if !g.single(s) {
		return -1
	}
	for j, n := range mod.nodes {
		if n == nil {
			continue
		}
		for _, in := range n.in {
			if in == s {
				if n.op == op {
					return j
				}
				return -1
			}
		}
	}
	return -1
}

// other returns the input of a binary node that is not slot s, or -1.
func other(n *node, s int) int {
	switch {
	case n.in[0] == s:
		return n.in[1]
	case n.in[1] == s:
		return n.in[0]
	}
	return -1
}

// fuseGelu matches x/sqrt(2) -> Erf -> +1 -> *x -> *0.5 (the order
// PyTorch's exporter writes, multiplications in either order) at Erf node i.
func (mod *Model) fuseGelu(g *graphIndex, i int) bool {
	erf := mod.nodes[i]
	di := mod.from(g, erf.in[0], "Div")
	if di < 0 || !g.single(erf.in[0]) || !mod.scalarConst(mod.nodes[di].in[1], math.Sqrt2, 1e-5) {
		return false
	}
	x := mod.nodes[di].in[0]
	ai := mod.consumer(g, erf.out[0], "Add")
	if ai < 0 || !mod.scalarConst(other(mod.nodes[ai], erf.out[0]), 1, 0) {
		return false
	}
	m1 := mod.consumer(g, mod.nodes[ai].out[0], "Mul")
	if m1 < 0 {
		return false
	}
	half := -1
	switch other(mod.nodes[m1], mod.nodes[ai].out[0]) {
	case x: // (x * (1+erf)) * 0.5
		half = mod.consumer(g, mod.nodes[m1].out[0], "Mul")
		if half < 0 || !mod.scalarConst(other(mod.nodes[half], mod.nodes[m1].out[0]), 0.5, 0) {
			return false
		}
	default:
		return false
	}
	fused := &node{name: erf.name + ".gelu", op: "Gelu", opset: erf.opset, attr: attrs{},
		in: []int{x}, out: []int{mod.nodes[half].out[0]}, run: runGelu}
	mod.nodes[di], mod.nodes[i], mod.nodes[ai], mod.nodes[m1] = nil, nil, nil, nil
	mod.nodes[half] = fused
	return true
}

// runGelu is x * 0.5 * (1 + erf(x / sqrt 2)) with the vector Erf kernel.
func runGelu(x *exec, in, out []*Tensor) error {
	a := in[0]
	out[0].set(Float, a.Shape)
	t := x.floats(0, len(a.F))
	kernel.Scale(t, 1/math.Sqrt2, a.F)
	kernel.Erf(t, t)
	for i, v := range a.F {
		out[0].F[i] = v * 0.5 * (1 + t[i])
	}
	return nil
}

// fuseLayerNorm matches, at the first ReduceMean node i over the last
// axis: d = x - mean(x); y = d / sqrt(mean(d^2) + eps) [* gamma] [+ beta].
func (mod *Model) fuseLayerNorm(g *graphIndex, i int) bool {
	rm := mod.nodes[i]
	if !lastAxisOnly(rm) {
		return false
	}
	x := rm.in[0]
	si := mod.consumer(g, rm.out[0], "Sub")
	if si < 0 || mod.nodes[si].in[0] != x || mod.nodes[si].in[1] != rm.out[0] {
		return false
	}
	d := mod.nodes[si].out[0]
	// d feeds exactly Pow and Div.
	if d >= len(g.uses) || g.uses[d] != 2 {
		return false
	}
	var pi, dv = -1, -1
	for j, n := range mod.nodes {
		if n == nil || len(n.in) < 2 || n.in[0] != d {
			continue
		}
		switch n.op {
		case "Pow":
			pi = j
		case "Div":
			dv = j
		}
	}
	if pi < 0 || dv < 0 || !mod.scalarConst(mod.nodes[pi].in[1], 2, 0) {
		return false
	}
	rv := mod.consumer(g, mod.nodes[pi].out[0], "ReduceMean")
	if rv < 0 || !lastAxisOnly(mod.nodes[rv]) {
		return false
	}
	ae := mod.consumer(g, mod.nodes[rv].out[0], "Add")
	if ae < 0 {
		return false
	}
	epsT := mod.constant(other(mod.nodes[ae], mod.nodes[rv].out[0]))
	if epsT == nil || epsT.Len() != 1 || !epsT.DType.isFloat() {
		return false
	}
	sq := mod.consumer(g, mod.nodes[ae].out[0], "Sqrt")
	if sq < 0 || mod.nodes[dv].in[1] != mod.nodes[sq].out[0] || !g.single(mod.nodes[sq].out[0]) {
		return false
	}
	last, out := dv, mod.nodes[dv].out[0]
	removed := []int{i, si, pi, rv, ae, sq}
	var gamma, beta *Tensor
	if mi := mod.consumer(g, out, "Mul"); mi >= 0 {
		if gamma = mod.constant(other(mod.nodes[mi], out)); gamma != nil && gamma.DType.isFloat() {
			removed = append(removed, last)
			last, out = mi, mod.nodes[mi].out[0]
			if ai := mod.consumer(g, out, "Add"); ai >= 0 {
				if beta = mod.constant(other(mod.nodes[ai], out)); beta != nil && beta.DType.isFloat() && beta.Len() == gamma.Len() {
					removed = append(removed, last)
					last, out = ai, mod.nodes[ai].out[0]
				} else {
					beta = nil
				}
			}
		} else {
			gamma = nil
		}
	}
	if gamma == nil {
		gamma = NewFloat([]float32{1}, 1)
	}
	in := []int{x, mod.newConst(rm.name+".ln_scale", gamma)}
	if beta != nil {
		in = append(in, mod.newConst(rm.name+".ln_bias", beta))
	}
	n := &node{name: rm.name + ".layernorm", op: "LayerNormalization", opset: rm.opset, in: in, out: []int{out},
		attr: attrs{"axis": intAttr("axis", -1), "epsilon": floatAttr("epsilon", epsT.F[0])}}
	run, err := buildLayerNorm(n)
	if err != nil {
		return false
	}
	n.run = run
	for _, j := range removed {
		mod.nodes[j] = nil
	}
	mod.nodes[last] = n
	return true
}

// lastAxisOnly reports whether a ReduceMean keeps dims and reduces only
// the last axis (given as -1).
func lastAxisOnly(n *node) bool {
	axes := n.attr.ints("axes")
	return n.attr.int("keepdims", 1) == 1 && len(n.in) == 1 && len(axes) == 1 && axes[0] == -1
}

// fuseConvRelu applies Relu node i inside the Conv that feeds it.
func (mod *Model) fuseConvRelu(g *graphIndex, i int) bool {
	relu := mod.nodes[i]
	ci := mod.from(g, relu.in[0], "Conv")
	if ci < 0 || !g.single(relu.in[0]) {
		return false
	}
	c := mod.nodes[ci]
	w := readWindowAttrs(c)
	group := c.attr.int("group", 1)
	fused := &node{name: c.name + "+" + relu.name, op: "Conv+Relu", opset: c.opset, attr: c.attr, in: c.in,
		out: []int{relu.out[0]}}
	fused.run = func(x *exec, in, out []*Tensor) error {
		return conv(x, &w, group, in[0], in[1], get(in, 2), out[0], true)
	}
	mod.nodes[ci], mod.nodes[i] = nil, fused
	return true
}
