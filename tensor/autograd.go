package tensor

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"weak"
)

// node is the record an op leaves on its output so Backward can find the
// op's inputs and its backward function.
type node struct {
	op     string
	inputs []*Tensor
	// backward receives the gradient of the op's output and writes the
	// gradient of input i into grads[i] (only where inputs[i].requiresGrad).
	// The gradients it writes must be new tensors or views of g, never an
	// input or a saved forward tensor, so that freeing them is safe.
	backward func(g *Tensor, grads []*Tensor)
	grads    []*Tensor
	freed    bool      // Backward ran and dropped the saved state
	graph    []*Tensor // on a root after Backward: the non-leaf tensors it reached
	mark     uint64    // traversal stamp
}

var traversal atomic.Uint64

// NoGrad runs fn with gradient recording off for the tensors ts: an op
// inside fn records history only if some input requires gradients and is
// not among ts (nor computed from them inside fn). Pass a model's
// parameters (nn.NoGrad does) to run it for validation or inference, as
// torch.no_grad() does.
//
// Unlike torch.no_grad, which is per thread, the scope is the tensors, not
// the goroutine or the process: Go has no goroutine-local state, and a
// process-wide switch would silently stop a training loop in another
// goroutine from recording gradients. Several goroutines may hold NoGrad
// scopes over the same tensors at once (concurrent inference with one
// model); ops on other tensors, in this goroutine or any other, record as
// usual.
func NoGrad(ts []*Tensor, fn func()) {
	for _, t := range ts {
		if t != nil {
			atomic.AddInt32(&t.gradOff, 1)
		}
	}
	defer func() {
		for _, t := range ts {
			if t != nil {
				atomic.AddInt32(&t.gradOff, -1)
			}
		}
	}()
	fn()
}

// NeedsGrad reports whether an op on these inputs records history: some
// input requires gradients and is not inside a NoGrad scope. Fused ops
// built on Record use it to skip saving state for Backward.
func NeedsGrad(inputs ...*Tensor) bool {
	for _, in := range inputs {
		if in != nil && in.requiresGrad && atomic.LoadInt32(&in.gradOff) == 0 {
			return true
		}
	}
	return false
}

// SetRequiresGrad marks a leaf tensor as one whose gradient Backward
// computes, and returns it. It panics on a tensor produced by an op.
//
// Marking pins the tensor's buffer: from then on Release refuses it and
// FreeGraph never frees it, since it belongs to the model or the caller.
func (t *Tensor) SetRequiresGrad(on bool) *Tensor {
	if t.node != nil {
		panic(fmt.Sprintf("tensor: SetRequiresGrad on the output of %s: only leaf tensors can be marked; use Detach first", t.node.op))
	}
	if on {
		t.st.pinned = true
	}
	t.requiresGrad = on
	return t
}

// RequiresGrad reports whether gradients flow to or through t.
func (t *Tensor) RequiresGrad() bool { return t.requiresGrad }

// IsLeaf reports whether t was made by the user rather than by an op that
// recorded history.
func (t *Tensor) IsLeaf() bool { return t.node == nil }

// Grad returns the gradient accumulated into a leaf by Backward, or nil.
func (t *Tensor) Grad() *Tensor {
	if t.gradStale {
		clear(t.grad.Data())
		t.gradStale = false
	}
	return t.grad
}

// SetGrad replaces the accumulated gradient (nil clears it).
func (t *Tensor) SetGrad(g *Tensor) {
	t.grad = g
	t.gradStale = false
}

// ZeroGrad makes the accumulated gradient zero, keeping its buffer (like
// torch's zero_grad(set_to_none=False)). The zeroing is deferred: the next
// Backward writes the gradient instead of adding it to zeros.
func (t *Tensor) ZeroGrad() {
	if t.grad != nil {
		t.gradStale = true
	}
}

// Detach returns a view of t's data that is cut from the graph: it does not
// require gradients and Backward does not pass through it.
//
// The view shares t's buffer (writes to one show in the other, as torch's
// detach), and it outlives t's graph: FreeGraph of the graph t belongs to
// leaves the buffer alone, so the truncated-BPTT idiom
//
//	h = h.Detach() // carry the state into the next chunk
//	loss.FreeGraph()
//
// works. That buffer then goes to the garbage collector rather than back
// to the pool.
func (t *Tensor) Detach() *Tensor {
	t.live("Detach")
	t.st.escaped = true
	return t.view(t.shape, t.strides, t.offset)
}

// record attaches history to out when gradients are on and any input needs
// them. It returns out for chaining.
func record(out *Tensor, op string, inputs []*Tensor, backward func(g *Tensor, grads []*Tensor)) *Tensor {
	if !NeedsGrad(inputs...) {
		return out
	}
	out.requiresGrad = true
	out.node = &node{op: op, inputs: inputs, backward: backward, grads: make([]*Tensor, len(inputs))}
	return out
}

// Record attaches a custom op's history to out, the way a
// torch.autograd.Function does: when gradients are on and any input
// requires them, Backward will call backward with the gradient of out and
// expect the gradient of input i in grads[i] (nil where not needed; only
// inputs with RequiresGrad need one). backward must store new tensors or
// views of g, never an input or a tensor saved from the forward pass, so
// that the engine may free them. It returns out. Packages above tensor use
// it for fused kernels (LSTM over a whole sequence, attention, batch norm).
func Record(out *Tensor, op string, inputs []*Tensor, backward func(g *Tensor, grads []*Tensor)) *Tensor {
	return record(out, op, inputs, backward)
}

// needs reports whether input i of the node needs a gradient.
func (n *node) needs(i int) bool { return n.inputs[i] != nil && n.inputs[i].requiresGrad }

// Backward computes the gradient of t with respect to every leaf that
// requires gradients and adds it into the leaf's Grad, as
// torch.Tensor.backward() does. t must hold one element. The graph is freed
// afterwards: a second Backward through it panics (use BackwardWith to keep it).
func (t *Tensor) Backward() {
	if t.Numel() != 1 {
		panic(fmt.Sprintf("tensor: Backward on a tensor of shape %v: the gradient can be implied only for one-element outputs; use BackwardWith", t.shape))
	}
	t.BackwardWith(nil, false)
}

// BackwardWith runs Backward seeded with grad (the gradient of some scalar
// with respect to t, of t's shape; nil means ones). With retainGraph the
// graph's saved state is kept so Backward can run through it again.
func (t *Tensor) BackwardWith(grad *Tensor, retainGraph bool) {
	if !t.requiresGrad {
		panic("tensor: Backward on a tensor that does not require grad (no input required gradients, or they were inside a NoGrad scope)")
	}
	ownSeed := grad == nil
	if ownSeed {
		grad = Full(1, t.shape...)
	} else if !SameShape(grad.shape, t.shape) {
		shapePanic("Backward", "gradient shape must equal the output's", grad.shape, t.shape)
	}
	if t.node == nil { // a leaf: its gradient is the seed itself
		accumulateLeaf(t, grad)
		if ownSeed {
			grad.releaseOwned()
		}
		return
	}
	order := topoOrder(t)
	// The backward functions compute with saved tensors that require
	// gradients; they must not record history. Turning recording off for
	// this graph's tensors alone (not process-wide) keeps training in
	// other goroutines recording while this Backward runs.
	// Marking the tensors in place, without listing them, keeps Backward
	// free of allocations.
	markGraph(order, 1)
	defer markGraph(order, -1) // also when a backward function panics
	t.runBackward(order, grad)
	if ownSeed {
		grad.releaseOwned()
	}
	if !retainGraph {
		for _, x := range order {
			x.node.freed = true
			x.node.backward = nil
		}
	}
	t.node.graph = order
}

// markGraph adds d to the NoGrad count of every tensor of a graph: its
// non-leaf tensors (order) and every leaf they were computed from (a leaf
// used twice is counted twice, and uncounted twice).
func markGraph(order []*Tensor, d int32) {
	for _, x := range order {
		atomic.AddInt32(&x.gradOff, d)
		for _, in := range x.node.inputs {
			if in != nil && in.node == nil {
				atomic.AddInt32(&in.gradOff, d)
			}
		}
	}
}

// runBackward propagates grad from t through order (see BackwardWith).
func (t *Tensor) runBackward(order []*Tensor, grad *Tensor) {

	var temps []*Tensor
	t.pending = grad
	for i := len(order) - 1; i >= 0; i-- {
		x := order[i]
		n := x.node
		g := x.pending
		x.pending = nil
		if g == nil {
			continue // no path from the root's gradient reaches x
		}
		if n.freed {
			panic(fmt.Sprintf("tensor: Backward through the graph of %s a second time: its saved tensors were freed by the first Backward; call BackwardWith(nil, true) the first time to keep them", n.op))
		}
		clear(n.grads)
		n.backward(g, n.grads)
		for j, gj := range n.grads {
			if gj == nil || !n.needs(j) {
				continue
			}
			// An op may pass its output gradient through unchanged
			// (AddScalar, Add without broadcasting), so gj can be the
			// caller's seed: that buffer is the caller's, never ours to
			// release.
			if gj != grad {
				temps = append(temps, gj)
			}
			in := n.inputs[j]
			if !SameShape(gj.shape, in.shape) {
				panic(fmt.Sprintf("tensor: internal error: backward of %s gave a gradient of shape %v for an input of shape %v", n.op, gj.shape, in.shape))
			}
			if in.node == nil {
				accumulateLeaf(in, gj)
			} else if in.pending == nil {
				in.pending = gj
			} else {
				sum := addNoGrad(in.pending, gj)
				temps = append(temps, sum)
				in.pending = sum
			}
		}
		clear(n.grads)
	}
	for _, tmp := range temps {
		tmp.releaseOwned()
	}
}

// accumulateLeaf adds g into leaf's Grad, allocating it on first use. The
// leaf's Grad never aliases g, which may be released afterwards.
func accumulateLeaf(leaf, g *Tensor) {
	if g.gradView && leaf.grad != nil && g.st == leaf.grad.st {
		return // written in place (leafGradInto)
	}
	if leaf.grad == nil {
		leaf.grad = newGradBuffer(leaf)
		copyInto(leaf.grad, g)
		return
	}
	if leaf.gradStale {
		copyInto(leaf.grad, g)
		leaf.gradStale = false
		return
	}
	addInto(leaf.grad, g)
}

// newGradBuffer makes a leaf's gradient tensor: zeros of its shape, in a
// buffer of its own (never pooled: it lives as long as the leaf).
func newGradBuffer(leaf *Tensor) *Tensor {
	g := &Tensor{st: &storage{data: make([]float32, leaf.Numel())}}
	g.setShape(leaf.shape)
	g.setContiguousStrides()
	return g
}

// leafGradInto returns where a backward function may write the gradient of
// input in directly: a header over the leaf's own gradient buffer, and the
// beta to write it with (0 when the buffer holds nothing yet, new or
// zeroed by ZeroGrad; 1 when this gradient adds to what it holds). A
// product's backward then writes dW into the parameter's Grad, instead of
// into a new tensor that accumulateLeaf copies or adds there: for a
// weight matrix that is one pass over it saved per step. It returns nil
// for an input that is not a leaf taking gradients, or whose Grad is not
// a plain contiguous buffer of its shape; the caller then makes its own.
func leafGradInto(in *Tensor) (*Tensor, float32) {
	if in == nil || in.node != nil || !in.requiresGrad {
		return nil, 0
	}
	beta := float32(1)
	if in.grad == nil {
		in.grad = newGradBuffer(in)
		beta = 0
	} else if in.gradStale {
		beta = 0
	}
	gr := in.grad
	// A buffer of exactly its elements: callers may use st.data whole.
	if !gr.IsContiguous() || !SameShape(gr.shape, in.shape) || gr.offset != 0 || len(gr.st.data) != gr.Numel() {
		return nil, 0
	}
	in.gradStale = false // the caller overwrites all of it when beta is 0
	v := &Tensor{st: gr.st, gradView: true, prec: gr.prec}
	v.setShape(in.shape)
	v.setContiguousStrides()
	return v, beta
}

// leafGradSum returns the tensor a backward function that adds input in's
// gradient into a zeroed buffer (a convolution's dW and db) should add
// into: the leaf's own Grad, cleared first when it holds nothing yet
// (leafGradInto), or else a new zeroed tensor.
func leafGradSum(in *Tensor) *Tensor {
	if v, beta := leafGradInto(in); v != nil {
		if beta == 0 {
			clear(v.st.data)
		}
		return v
	}
	return newTensor(in.shape, true)
}

// topoOrder returns the non-leaf tensors reachable from root, each after
// all of its inputs (root last). It is iterative so that long recurrent
// graphs do not exhaust the goroutine stack.
func topoOrder(root *Tensor) []*Tensor {
	stamp := traversal.Add(1)
	var order []*Tensor
	type frame struct {
		t    *Tensor
		next int
	}
	stack := []frame{{t: root}}
	root.node.mark = stamp
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		n := top.t.node
		if top.next < len(n.inputs) {
			in := n.inputs[top.next]
			top.next++
			if in != nil && in.node != nil && in.node.mark != stamp {
				in.node.mark = stamp
				stack = append(stack, frame{t: in})
			}
			continue
		}
		order = append(order, top.t)
		stack = stack[:len(stack)-1]
	}
	return order
}

// FreeGraph hands the buffers of every intermediate tensor in t's graph,
// t included, back to the pool, and drops the graph. Leaves (parameters,
// inputs) and their gradients are untouched. Call it at the end of a
// training step, after reading what you need from the graph (the loss
// value, the logits for metrics): any tensor of the graph used afterwards
// panics. Freeing is what lets a fixed model's training step allocate
// almost nothing in steady state.
func (t *Tensor) FreeGraph() {
	if t.node == nil {
		return
	}
	order := t.node.graph
	if order == nil {
		order = topoOrder(t)
	}
	for _, x := range order {
		x.releaseBy(freedByFreeGraph)
		n := x.node
		n.freed = true
		n.backward = nil
		n.graph = nil
		n.inputs = nil
	}
}

// SharesStorage reports whether t and u are views of the same buffer.
func (t *Tensor) SharesStorage(u *Tensor) bool { return t.st == u.st }

// TakeOwnership makes t, a view sharing src's buffer, the one whose Release
// returns that buffer, so that a chain of views (Flatten after a pooling
// layer) can still hand its memory back after src is dropped. It does
// nothing when the two do not share a buffer or src does not own it.
func (t *Tensor) TakeOwnership(src *Tensor) {
	if t.st == src.st && src.owner && t != src {
		src.owner, t.owner = false, true
	}
}

// Release hands t's buffer back to the pool if t owns one (made it, as an
// op's output does, rather than being a view of another tensor's buffer).
// Use it for temporaries outside any graph, such as the output of a forward
// pass under NoGrad once it has been read; t and its views must not be used
// afterwards (a use panics, naming Release). Release of a leaf that
// requires gradients (a parameter, or an input being differentiated) or of
// a view of one panics: that buffer belongs to the model or the caller. A
// buffer shared by a Detach view is left to the garbage collector instead.
func (t *Tensor) Release() {
	if t == nil {
		return
	}
	if t.st.pinned {
		panic(fmt.Sprintf("tensor: Release of %s refused: it is a leaf that requires gradients (a parameter or an input being differentiated), or a view of one, and its buffer belongs to its owner", t.label()))
	}
	t.releaseBy(freedByRelease)
}

func (t *Tensor) releaseOwned() { t.releaseBy(freedByRelease) }

func (t *Tensor) releaseBy(by freer) {
	if t != nil && t.owner {
		t.st.release(by)
	}
}

// SetName labels t's buffer for error messages, once: nn names each
// parameter with its state-dict path (fc.weight) the first time it lists
// it, and later calls keep the first name. It returns t.
func (t *Tensor) SetName(name string) *Tensor {
	if t.st.named.Load() || !t.st.named.CompareAndSwap(false, true) {
		return t // named already: walks call this on every listing
	}
	key := weak.Make(t.st)
	names.Store(key, name)
	runtime.AddCleanup(t.st, func(k weak.Pointer[storage]) { names.Delete(k) }, key)
	return t
}

// HasName reports whether SetName has named t's buffer; it costs one
// atomic load, so callers can skip building a name that would be ignored.
func (t *Tensor) HasName() bool { return t.st.named.Load() }

// Name returns the label SetName gave t's buffer, or "".
func (t *Tensor) Name() string {
	if !t.st.named.Load() {
		return ""
	}
	v, _ := names.Load(weak.Make(t.st))
	s, _ := v.(string)
	return s
}

// label is how error messages name t: its name, or its shape.
func (t *Tensor) label() string {
	if n := t.Name(); n != "" {
		return fmt.Sprintf("%s (shape %v)", n, t.shape)
	}
	return fmt.Sprintf("a tensor of shape %v", t.shape)
}

// live panics, naming op and what released t's buffer, when t is used
// after FreeGraph or Release.
func (t *Tensor) live(op string) {
	if t.st.data == nil && t.Numel() > 0 {
		t.usedAfterFree(op)
	}
}

func (t *Tensor) usedAfterFree(op string) {
	switch by := t.st.freedBy; by {
	case freedByFreeGraph:
		panic(fmt.Sprintf("tensor: %s on %s whose buffer was released by FreeGraph: read what you need from the graph (loss.Item(), logits) or keep it with Detach before calling FreeGraph", op, t.label()))
	default:
		panic(fmt.Sprintf("tensor: %s on %s whose buffer was released by %s: it must not be used afterwards", op, t.label(), by))
	}
}
