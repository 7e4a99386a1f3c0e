package onnx

import (
	"errors"
	"fmt"
	"sort"

	"github.com/shenml/shen/onnx/onnxpb"
)

// MinOpset and MaxOpset bound the default-domain opsets Compile accepts.
const (
	MinOpset = 7
	MaxOpset = 17
)

// ValueInfo describes a graph input or output: its name, element type and
// dimensions (-1 for a dynamic one such as the batch).
type ValueInfo struct {
	Name  string
	DType DType
	Dims  []int
	// DimNames holds the symbolic name of each dynamic dimension ("" if none).
	DimNames []string
}

// Model is a checked and planned ONNX graph. It is read-only after
// Compile, so many Sessions may run it at once.
type Model struct {
	Proto   *onnxpb.ModelProto
	Opset   int
	Inputs  []ValueInfo
	Outputs []ValueInfo

	lim         Limits
	shapes      [][]int // by slot, from plan-time inference (-1: known at run time)
	slotNames   []string
	consts      []*Tensor // by slot; nil where the value is computed
	nodes       []*node
	inputSlots  []int
	outputSlots []int
}

// node is one planned operator application.
type node struct {
	name, op string
	opset    int
	in, out  []int // value slots; -1 for an absent optional input or output
	attr     attrs
	run      opFunc
}

func (n *node) String() string {
	return fmt.Sprintf("node %q (%s, opset %d)", n.name, n.op, n.opset)
}

// opFunc runs one node: in holds its inputs (nil where absent), out its
// session-owned outputs to fill with Tensor.set. x gives scratch buffers
// that persist between calls.
type opFunc func(x *exec, in, out []*Tensor) error

// builder parses a node's attributes once and returns its kernel.
type builder func(n *node) (opFunc, error)

var registry = map[string]builder{}

func register(b builder, ops ...string) {
	for _, op := range ops {
		registry[op] = b
	}
}

// OpCounts returns how many planned nodes run each operator, after
// folding and fusion (fused kernels are named like "MatMul+Add").
func (m *Model) OpCounts() map[string]int {
	c := map[string]int{}
	for _, n := range m.nodes {
		c[n.op]++
	}
	return c
}

// SupportedOps lists the operators Compile knows, sorted.
func SupportedOps() []string {
	out := make([]string, 0, len(registry))
	for op := range registry {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}

// Compile checks and plans m: it resolves every node's operator for the
// model's opset, orders nodes topologically, folds constant subgraphs and
// fuses known patterns. It never runs the graph on user data.
func Compile(m *onnxpb.ModelProto, lim Limits) (*Model, error) {
	return compile(m, lim, true)
}

// compile is Compile with fusion optional, so tests can compare the two.
func compile(m *onnxpb.ModelProto, lim Limits, fuse bool) (mod *Model, err error) {
	// Planning reads attributes and shapes from the file; whatever a
	// hostile file gets past the checks must be an error, not a crash.
	defer func() {
		if r := recover(); r != nil {
			mod, err = nil, fmt.Errorf("onnx: planning the graph: %v", r)
		}
	}()
	lim = lim.orDefault()
	mod = &Model{Proto: m, lim: lim, Opset: -1}
	for _, os := range m.OpsetImport {
		if d := os.GetDomain(); d == "" || d == "ai.onnx" {
			mod.Opset = int(os.GetVersion())
		}
	}
	if mod.Opset < 0 {
		mod.Opset = MinOpset // IR 3 models without an opset_import
	}
	if mod.Opset > MaxOpset {
		return nil, fmt.Errorf("onnx: model uses opset %d; opsets %d to %d are supported", mod.Opset, MinOpset, MaxOpset)
	}
	g := m.Graph
	if g == nil {
		return nil, errors.New("onnx: model has no graph")
	}
	slots := map[string]int{}
	slot := func(name string) int {
		if s, ok := slots[name]; ok {
			return s
		}
		slots[name] = len(mod.slotNames)
		mod.slotNames = append(mod.slotNames, name)
		mod.consts = append(mod.consts, nil)
		return slots[name]
	}
	for _, t := range g.Initializer {
		v, err := TensorFromProto(t, lim)
		if err != nil {
			return nil, fmt.Errorf("onnx: initializer: %w", err)
		}
		mod.consts[slot(t.GetName())] = v
	}
	for _, vi := range g.Input {
		if s, ok := slots[vi.GetName()]; ok && mod.consts[s] != nil {
			continue // an initializer listed as input (IR < 4): a constant here
		}
		info, err := valueInfo(vi)
		if err != nil {
			return nil, err
		}
		mod.Inputs = append(mod.Inputs, info)
		mod.inputSlots = append(mod.inputSlots, slot(vi.GetName()))
	}
	nodes, err := mod.planNodes(g, slot)
	if err != nil {
		return nil, err
	}
	for _, vi := range g.Output {
		info, err := valueInfo(vi)
		if err != nil {
			return nil, err
		}
		s, ok := slots[vi.GetName()]
		if !ok {
			return nil, fmt.Errorf("onnx: graph output %q is produced by no node", vi.GetName())
		}
		mod.Outputs = append(mod.Outputs, info)
		mod.outputSlots = append(mod.outputSlots, s)
	}
	if nodes, err = mod.topoSort(nodes); err != nil {
		return nil, err
	}
	mod.nodes = nodes
	if err := mod.fold(); err != nil {
		return nil, err
	}
	// Shape inference resolves shape arithmetic into constants, which can
	// make more nodes foldable; a few rounds reach the fixed point.
	for range 8 {
		removed, err := mod.inferShapes()
		if err != nil {
			return nil, err
		}
		if !removed {
			break
		}
		if err := mod.fold(); err != nil {
			return nil, err
		}
	}
	mod.prune()
	if fuse {
		mod.fuse()
	}
	return mod, nil
}

// planNodes builds every node's kernel.
func (mod *Model) planNodes(g *onnxpb.GraphProto, slot func(string) int) ([]*node, error) {
	nodes := make([]*node, 0, len(g.Node))
	for i, np := range g.Node {
		n := &node{name: np.GetName(), op: np.GetOpType(), opset: mod.Opset, attr: attrs{}}
		if n.name == "" {
			n.name = fmt.Sprintf("#%d", i)
		}
		key := n.op
		switch d := np.GetDomain(); d {
		case "", "ai.onnx":
		case "ai.onnx.ml":
			key = d + "." + n.op
		default:
			return nil, fmt.Errorf("onnx: %v: operator domain %q is not supported", n, d)
		}
		for _, a := range np.Attribute {
			n.attr[a.GetName()] = a
		}
		for _, name := range np.Input {
			if name == "" {
				n.in = append(n.in, -1)
			} else {
				n.in = append(n.in, slot(name))
			}
		}
		for _, name := range np.Output {
			if name == "" {
				n.out = append(n.out, -1)
			} else {
				n.out = append(n.out, slot(name))
			}
		}
		b := registry[key]
		if b == nil {
			return nil, fmt.Errorf("onnx: %v: operator not supported", n)
		}
		run, err := b(n)
		if err != nil {
			return nil, fmt.Errorf("onnx: %v: %w", n, err)
		}
		n.run = run
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// topoSort orders nodes so that each runs after the producers of its
// inputs, and rejects cycles and values that nothing produces.
func (mod *Model) topoSort(nodes []*node) ([]*node, error) {
	producer := make([]int, len(mod.slotNames))
	for i := range producer {
		producer[i] = -1
	}
	for i, n := range nodes {
		for _, s := range n.out {
			if s < 0 {
				continue
			}
			if producer[s] >= 0 || mod.consts[s] != nil || mod.isInput(s) {
				return nil, fmt.Errorf("onnx: %v: value %q is assigned more than once", n, mod.slotNames[s])
			}
			producer[s] = i
		}
	}
	state := make([]uint8, len(nodes)) // 0 new, 1 visiting, 2 done
	order := make([]*node, 0, len(nodes))
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case 1:
			return fmt.Errorf("onnx: %v: the graph has a cycle", nodes[i])
		case 2:
			return nil
		}
		state[i] = 1
		for _, s := range nodes[i].in {
			if s < 0 || mod.consts[s] != nil || mod.isInput(s) {
				continue
			}
			if producer[s] < 0 {
				return fmt.Errorf("onnx: %v: input %q is not a graph input, initializer or node output", nodes[i], mod.slotNames[s])
			}
			if err := visit(producer[s]); err != nil {
				return err
			}
		}
		state[i] = 2
		order = append(order, nodes[i])
		return nil
	}
	for i := range nodes {
		if err := visit(i); err != nil {
			return nil, err
		}
	}
	return order, nil
}

func (mod *Model) isInput(s int) bool {
	for _, i := range mod.inputSlots {
		if i == s {
			return true
		}
	}
	return false
}

// fold runs, once, every node whose inputs are all constants and keeps its
// outputs as constants, so shape arithmetic and weight transforms that
// exporters leave in the graph cost nothing per call.
func (mod *Model) fold() error {
	kept := mod.nodes[:0]
	for _, n := range mod.nodes {
		if !mod.allConst(n) {
			kept = append(kept, n)
			continue
		}
		in := make([]*Tensor, len(n.in))
		for i, s := range n.in {
			if s >= 0 {
				in[i] = mod.consts[s]
			}
		}
		out := make([]*Tensor, len(n.out))
		for i := range out {
			out[i] = new(Tensor)
		}
		if err := runFold(n, in, out, mod.lim); err != nil {
			return fmt.Errorf("onnx: %v (constant folding): %w", n, err)
		}
		for i, s := range n.out {
			if s >= 0 {
				mod.consts[s] = out[i]
			}
		}
	}
	mod.nodes = kept
	return nil
}

func (mod *Model) allConst(n *node) bool {
	for _, s := range n.in {
		if s >= 0 && mod.consts[s] == nil {
			return false
		}
	}
	return true
}

func valueInfo(vi *onnxpb.ValueInfoProto) (ValueInfo, error) {
	info := ValueInfo{Name: vi.GetName()}
	tt := vi.GetType().GetTensorType()
	if tt == nil {
		return info, fmt.Errorf("onnx: value %q is not a tensor (sequences and maps are not supported)", vi.GetName())
	}
	info.DType = DType(tt.GetElemType())
	for _, d := range tt.GetShape().GetDim() {
		if _, ok := d.Value.(*onnxpb.TensorShapeProto_Dimension_DimValue); ok {
			info.Dims = append(info.Dims, int(d.GetDimValue()))
			info.DimNames = append(info.DimNames, "")
		} else {
			info.Dims = append(info.Dims, -1)
			info.DimNames = append(info.DimNames, d.GetDimParam())
		}
	}
	return info, nil
}

// exec is one node's per-session state: scratch buffers that keep their
// capacity between calls.
type exec struct {
	lim Limits
	f   [][]float32
	i   [][]int
	bp  bcastPlan
	t   []*Tensor // scratch tensors
	pj  *planeJob // parallel window work, see conv_fast.go
}

// tensor returns scratch tensor k.
func (x *exec) tensor(k int) *Tensor {
	for len(x.t) <= k {
		x.t = append(x.t, new(Tensor))
	}
	return x.t[k]
}

// floats returns scratch buffer k with n elements (contents unspecified).
func (x *exec) floats(k, n int) []float32 {
	for len(x.f) <= k {
		x.f = append(x.f, nil)
	}
	if cap(x.f[k]) < n {
		x.f[k] = make([]float32, n)
	}
	x.f[k] = x.f[k][:n]
	return x.f[k]
}

// ints returns integer scratch buffer k with n elements.
func (x *exec) ints(k, n int) []int {
	for len(x.i) <= k {
		x.i = append(x.i, nil)
	}
	if cap(x.i[k]) < n {
		x.i[k] = make([]int, n)
	}
	x.i[k] = x.i[k][:n]
	return x.i[k]
}

// checkSize refuses computed tensors past the element limit, so a hostile
// graph (ConstantOfShape, Expand, Tile, Range) cannot exhaust memory.
func (x *exec) checkSize(shape []int) error {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d > 0 && n > x.lim.MaxElements/int64(d) {
			return fmt.Errorf("shape %v has over %d elements", shape, x.lim.MaxElements)
		}
		n *= int64(d)
	}
	return nil
}

// Session holds one caller's buffers for a Model. It is not safe for
// concurrent use; make one per goroutine with Model.NewSession.
type Session struct {
	m      *Model
	vals   []*Tensor
	execs  []exec
	ins    [][]*Tensor
	outs   [][]*Tensor
	result []*Tensor
}

// NewSession allocates the per-call state of m.
func (m *Model) NewSession() *Session {
	s := &Session{m: m, vals: make([]*Tensor, len(m.slotNames)), execs: make([]exec, len(m.nodes))}
	copy(s.vals, m.consts)
	for i, n := range m.nodes {
		s.execs[i].lim = m.lim
		s.ins = append(s.ins, make([]*Tensor, len(n.in)))
		outs := make([]*Tensor, len(n.out))
		for j, o := range n.out {
			t := new(Tensor)
			if o >= 0 {
				s.vals[o] = t
			}
			outs[j] = t
		}
		s.outs = append(s.outs, outs)
	}
	s.result = make([]*Tensor, len(m.outputSlots))
	return s
}

// Run computes the graph outputs for inputs given in Model.Inputs order.
// The returned tensors belong to the session and are overwritten by the
// next Run; Clone what must outlive it.
func (s *Session) Run(inputs ...*Tensor) (res []*Tensor, err error) {
	m := s.m
	cur := -1
	// An operator given shapes or values its checks missed must fail the
	// call, not the process.
	defer func() {
		if r := recover(); r != nil {
			res = nil
			if cur >= 0 {
				err = fmt.Errorf("onnx: %v: %v", m.nodes[cur], r)
			} else {
				err = fmt.Errorf("onnx: %v", r)
			}
		}
	}()
	if len(inputs) != len(m.inputSlots) {
		return nil, fmt.Errorf("onnx: the model takes %d inputs, got %d", len(m.inputSlots), len(inputs))
	}
	for i, t := range inputs {
		if err := m.Inputs[i].check(t); err != nil {
			return nil, err
		}
		s.vals[m.inputSlots[i]] = t
	}
	for i, n := range m.nodes {
		cur = i
		in := s.ins[i]
		for j, slot := range n.in {
			if slot < 0 {
				in[j] = nil
			} else {
				in[j] = s.vals[slot]
			}
		}
		if err := n.run(&s.execs[i], in, s.outs[i]); err != nil {
			return nil, fmt.Errorf("onnx: %v: %w", n, err)
		}
	}
	for i, slot := range m.outputSlots {
		s.result[i] = s.vals[slot]
	}
	return s.result, nil
}

// RunNamed is Run with inputs and outputs by name.
func (s *Session) RunNamed(inputs map[string]*Tensor) (map[string]*Tensor, error) {
	ordered := make([]*Tensor, len(s.m.Inputs))
	for i, vi := range s.m.Inputs {
		t, ok := inputs[vi.Name]
		if !ok {
			return nil, fmt.Errorf("onnx: input %q is missing", vi.Name)
		}
		ordered[i] = t
	}
	outs, err := s.Run(ordered...)
	if err != nil {
		return nil, err
	}
	named := make(map[string]*Tensor, len(outs))
	for i, vi := range s.m.Outputs {
		named[vi.Name] = outs[i]
	}
	return named, nil
}

// check compares a given input with its declared type and static dims.
func (vi ValueInfo) check(t *Tensor) error {
	if t == nil {
		return fmt.Errorf("onnx: input %q is nil", vi.Name)
	}
	if t.Len() != len(t.F)+len(t.I)+len(t.S) {
		return fmt.Errorf("onnx: input %q: shape %v does not match its %d values", vi.Name, t.Shape, len(t.F)+len(t.I)+len(t.S))
	}
	if vi.DType != 0 && (vi.DType.isFloat() != t.DType.isFloat() || (vi.DType == String) != (t.DType == String)) {
		return fmt.Errorf("onnx: input %q is %s, got %s", vi.Name, vi.DType, t.DType)
	}
	if vi.Dims != nil && len(vi.Dims) != len(t.Shape) {
		return fmt.Errorf("onnx: input %q has %d dimensions, got shape %v", vi.Name, len(vi.Dims), t.Shape)
	}
	for i, d := range vi.Dims {
		if d >= 0 && t.Shape[i] != d {
			return fmt.Errorf("onnx: input %q dimension %d is %d, got %d", vi.Name, i, d, t.Shape[i])
		}
	}
	return nil
}

// runFold runs a node at plan time, turning a panic into an error.
func runFold(n *node, in, out []*Tensor, lim Limits) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return n.run(&exec{lim: lim}, in, out)
}
