package tensor

import (
	"runtime"
	"strings"
	"testing"
)

// panicMessage runs fn and returns the message it panicked with ("" if it did not).
func panicMessage(fn func()) (msg string) {
	defer func() {
		switch v := recover().(type) {
		case nil:
		case string:
			msg = v
		case error:
			msg = v.Error()
		default:
			msg = "non-string panic"
		}
	}()
	fn()
	return ""
}

func expectData(t *testing.T, what string, got *Tensor, want ...float32) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil tensor", what)
	}
	d := got.Data()
	if len(d) != len(want) {
		t.Fatalf("%s = %v, want %v", what, d, want)
	}
	for i := range d {
		if diff := d[i] - want[i]; diff > 1e-5 || diff < -1e-5 {
			t.Fatalf("%s = %v, want %v", what, d, want)
		}
	}
}

// Gradients add into a leaf across Backward calls until cleared, as in PyTorch.
func TestGradAccumulatesAcrossBackward(t *testing.T) {
	x := FromSlice([]float32{1, -2, 3}).SetRequiresGrad(true)
	Sum(Mul(x, x), false).Backward()
	expectData(t, "first grad", x.Grad(), 2, -4, 6)
	Sum(MulScalar(x, 3), false).Backward()
	expectData(t, "accumulated grad", x.Grad(), 5, -1, 9)
	x.ZeroGrad()
	expectData(t, "after ZeroGrad", x.Grad(), 0, 0, 0)
}

// A tensor used several times in one graph receives the sum of the
// gradients along every path.
func TestGradTensorReusedInGraph(t *testing.T) {
	x := FromSlice([]float32{1, -2, 3}).SetRequiresGrad(true)
	Sum(Add(Mul(x, x), x), false).Backward() // d/dx (x² + x) = 2x + 1
	expectData(t, "x*x + x", x.Grad(), 3, -3, 7)

	x.SetGrad(nil)
	y := Mul(x, x) // a non-leaf reused too: d/dx (x²·x² + x²) = 4x³ + 2x
	Sum(Add(Mul(y, y), y), false).Backward()
	expectData(t, "y*y + y", x.Grad(), 6, -36, 114)
}

// Detach cuts the graph: no gradient flows through the detached operand.
func TestDetachStopsGradient(t *testing.T) {
	x := FromSlice([]float32{1, -2, 3}).SetRequiresGrad(true)
	d := x.Detach()
	if d.RequiresGrad() || !d.IsLeaf() {
		t.Fatal("Detach returned a tensor that requires grad")
	}
	Sum(Mul(d, x), false).Backward() // only the x path: gradient is d = x
	expectData(t, "grad through x*detach(x)", x.Grad(), 1, -2, 3)
}

// Under NoGrad ops record nothing, and Backward says why it cannot run.
func TestNoGradBuildsNoGraph(t *testing.T) {
	x := FromSlice([]float32{1, 2}).SetRequiresGrad(true)
	var y *Tensor
	NoGrad([]*Tensor{x}, func() {
		if NeedsGrad(x) {
			t.Error("NeedsGrad(x) inside NoGrad over x")
		}
		y = Sum(GELU(Mul(x, x)), false)
	})
	if !NeedsGrad(x) {
		t.Error("NeedsGrad(x) false after NoGrad returned")
	}
	if y.RequiresGrad() || !y.IsLeaf() {
		t.Fatal("an op under NoGrad recorded history")
	}
	if msg := panicMessage(y.Backward); !strings.Contains(msg, "does not require grad") {
		t.Errorf("Backward of a NoGrad result: panic %q", msg)
	}
}

// A second Backward through a graph whose saved state was freed panics
// with a message that says how to keep it.
func TestBackwardTwicePanics(t *testing.T) {
	x := FromSlice([]float32{1, 2}).SetRequiresGrad(true)
	y := Sum(Sigmoid(x), false)
	y.Backward()
	msg := panicMessage(y.Backward)
	for _, want := range []string{"second time", "BackwardWith(nil, true)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("second Backward: panic %q does not mention %q", msg, want)
		}
	}
}

// BackwardWith(nil, true) keeps the graph for another pass.
func TestBackwardRetainGraph(t *testing.T) {
	x := FromSlice([]float32{1, 2}).SetRequiresGrad(true)
	y := Sum(Mul(Exp(x), x), false) // d/dx x·eˣ = (x+1)eˣ
	y.BackwardWith(nil, true)
	first := append([]float32(nil), x.Grad().Data()...)
	y.Backward()
	for i, g := range x.Grad().Data() {
		if d := g - 2*first[i]; d > 1e-4 || d < -1e-4 {
			t.Fatalf("after two passes grad = %v, want twice %v", x.Grad().Data(), first)
		}
	}
}

// FreeGraph releases the intermediates (using one afterwards panics) but
// leaves leaves and their gradients intact.
func TestFreeGraph(t *testing.T) {
	w := FromSlice([]float32{0.5, -1, 2}).SetRequiresGrad(true)
	x := FromSlice([]float32{1, 2, 3})
	h := Tanh(Mul(w, x))
	loss := Sum(h, false)
	loss.Backward()
	grad := append([]float32(nil), w.Grad().Data()...)
	loss.FreeGraph()
	if msg := panicMessage(func() { h.Data() }); !strings.Contains(msg, "FreeGraph") {
		t.Errorf("reading a freed intermediate: panic %q", msg)
	}
	if msg := panicMessage(loss.Backward); msg == "" {
		t.Error("Backward after FreeGraph did not panic")
	}
	expectData(t, "parameter after FreeGraph", w, 0.5, -1, 2)
	expectData(t, "input after FreeGraph", x, 1, 2, 3)
	expectData(t, "gradient after FreeGraph", w.Grad(), grad...)
	loss.FreeGraph() // a second free is harmless
}

// TestSteadyStateAllocation runs a fixed two-layer step (forward, loss,
// backward, FreeGraph) many times. After warm-up every tensor buffer comes
// from the pool, so the bytes allocated per step are only the small
// headers and graph records: far below the bytes of the tensors the step
// uses.
func TestSteadyStateAllocation(t *testing.T) {
	const n, d = 64, 256
	g := NewRNG(5)
	x := RandN(g, n, d)
	w1 := RandN(g, n, d).SetRequiresGrad(true)
	b1 := RandN(g, d).SetRequiresGrad(true)
	w2 := RandN(g, n, d).SetRequiresGrad(true)
	target := IntZeros(n)
	for i := range target.Data() {
		target.Data()[i] = int64(g.IntN(d))
	}
	params := []*Tensor{w1, b1, w2}
	step := func() {
		h := GELU(Add(Mul(x, w1), b1))
		z := Tanh(Mul(ReLU(h), w2))
		s := Sigmoid(Softmax(z, 1))
		loss := Add(CrossEntropyWithLogits(z, target, nil, -100, 0.1, "mean"), Mean(s, false))
		loss.Backward()
		loss.FreeGraph()
		for _, p := range params {
			p.ZeroGrad()
		}
	}
	for range 3 {
		step() // warm the pool and allocate the parameters' Grad once
	}
	allocs := testing.AllocsPerRun(20, step)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const steps = 20
	for range steps {
		step()
	}
	runtime.ReadMemStats(&after)
	perStep := (after.TotalAlloc - before.TotalAlloc) / steps
	// Forward: Mul, Add, GELU, ReLU, Mul, Tanh, Softmax, Sigmoid; backward
	// about as many again: ~16 buffers of n·d float32.
	tensorBytes := uint64(16 * n * d * 4)
	t.Logf("steady state: %.0f allocations and %d bytes per step; the step's tensors hold ~%d bytes", allocs, perStep, tensorBytes)
	if perStep > tensorBytes/20 {
		t.Errorf("%d bytes allocated per step, want well under %d: tensor buffers are not being reused", perStep, tensorBytes/20)
	}
}

// TestZeroGradIsLazyButExact: after ZeroGrad the gradient reads as zeros,
// and the next Backward yields exactly the new gradient (written, not
// added to a stale buffer).
func TestZeroGradIsLazyButExact(t *testing.T) {
	x := FromSlice([]float32{1, 2, 3}).SetRequiresGrad(true)
	Sum(Mul(x, x), false).Backward() // grad 2x
	x.ZeroGrad()
	for i, v := range x.Grad().Data() {
		if v != 0 {
			t.Fatalf("after ZeroGrad grad[%d] = %v, want 0", i, v)
		}
	}
	Sum(Mul(x, x), false).Backward()
	x.ZeroGrad()
	Sum(MulScalar(x, 3), false).Backward() // grad 3, not 3+2x
	Sum(MulScalar(x, 1), false).Backward() // accumulates: 4
	for i, v := range x.Grad().Data() {
		if v != 4 {
			t.Fatalf("grad[%d] = %v, want 4", i, v)
		}
	}
}

// NoGrad is scoped to the tensors it names: another goroutine's ops on
// other tensors keep recording while the scope is open, which is what
// lets a process serve one model while it trains another.
func TestNoGradScopedToTensors(t *testing.T) {
	served := FromSlice([]float32{1, 2}).SetRequiresGrad(true)
	trained := FromSlice([]float32{3, 4}).SetRequiresGrad(true)
	inside := make(chan struct{})
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		NoGrad([]*Tensor{served}, func() {
			close(inside)
			<-done
		})
	}()
	<-inside
	y := Sum(Mul(trained, trained), false)
	close(done)
	<-finished
	if !y.RequiresGrad() || y.IsLeaf() {
		t.Fatal("an op on other tensors recorded nothing while a NoGrad scope was open elsewhere")
	}
	y.Backward()
	if g := trained.Grad().Data(); g[0] != 6 || g[1] != 8 {
		t.Fatalf("gradient %v, want [6 8]", g)
	}
	// Nested and concurrent scopes over one tensor count, not toggle.
	NoGrad([]*Tensor{served}, func() {
		NoGrad([]*Tensor{served}, func() {})
		if NeedsGrad(served) {
			t.Error("the outer scope ended with the inner one")
		}
	})
	if !NeedsGrad(served) {
		t.Error("scope did not end")
	}
}
