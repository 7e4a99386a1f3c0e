package tensor

import (
	"strings"
	"testing"
)

// TestDetachSurvivesFreeGraph is truncated BPTT: the hidden state carried
// into the next chunk is h.Detach(), and the chunk's graph is freed before
// the next one starts. The detached state must keep its values.
func TestDetachSurvivesFreeGraph(t *testing.T) {
	w := RandN(NewRNG(1), 3, 3).SetRequiresGrad(true)
	h := Zeros(1, 3)
	for chunk := 0; chunk < 4; chunk++ {
		x := Full(0.5, 1, 3)
		for step := 0; step < 3; step++ {
			h = Tanh(Add(Matmul(h, w), x))
		}
		loss := Sum(h, false)
		loss.Backward()
		want := append([]float32(nil), h.Data()...)
		h = h.Detach()
		loss.FreeGraph()
		for i, v := range h.Data() {
			if v != want[i] {
				t.Fatalf("chunk %d: detached state [%d] = %v after FreeGraph, want %v", chunk, i, v, want[i])
			}
		}
		if h.RequiresGrad() || !h.IsLeaf() {
			t.Fatal("Detach must give a leaf that does not require gradients")
		}
	}
}

// TestUseAfterFreeSaysWhich: reading a tensor whose buffer went back to the
// pool names what released it, for every way of reading.
func TestUseAfterFreeSaysWhich(t *testing.T) {
	reads := map[string]func(*Tensor){
		"Item":         func(x *Tensor) { Sum(x, false).Item() },
		"Data":         func(x *Tensor) { _ = x.Data() },
		"At":           func(x *Tensor) { x.At(0, 0) },
		"Add":          func(x *Tensor) { Add(x, x) },
		"Exp":          func(x *Tensor) { Exp(x) },
		"Softmax":      func(x *Tensor) { Softmax(x, -1) },
		"LogSoftmax":   func(x *Tensor) { LogSoftmax(x, -1) },
		"Matmul":       func(x *Tensor) { Matmul(x, x) },
		"Linear":       func(x *Tensor) { Linear(x, x, nil) },
		"Reshape":      func(x *Tensor) { x.Reshape(4) },
		"Transpose":    func(x *Tensor) { x.Transpose(0, 1) },
		"Contiguous":   func(x *Tensor) { x.Transpose(0, 1).Contiguous() },
		"Clone":        func(x *Tensor) { x.Clone() },
		"MaxPool2D":    func(x *Tensor) { MaxPool2D(x.Reshape(1, 1, 2, 2), PoolOptions{Kernel: [2]int{2, 2}}) },
		"AvgPool2D":    func(x *Tensor) { AvgPool2D(x.Reshape(1, 1, 2, 2), PoolOptions{Kernel: [2]int{2, 2}}) },
		"Conv2D":       func(x *Tensor) { Conv2D(x.Reshape(1, 1, 2, 2), Ones(1, 1, 1, 1), nil, Conv2DOptions{}) },
		"IndexSelect":  func(x *Tensor) { IndexSelect(x, 0, IntFromSlice([]int64{1})) },
		"Embedding":    func(x *Tensor) { Embedding(IntFromSlice([]int64{1}), x, -1) },
		"Gather":       func(x *Tensor) { Gather(x, 1, IntFromSlice([]int64{0, 1}, 2, 1)) },
		"Sum":          func(x *Tensor) { Sum(x, false) },
		"Max":          func(x *Tensor) { Max(x, false) },
		"Argmax":       func(x *Tensor) { Argmax(x, 1, false) },
		"ReLU":         func(x *Tensor) { ReLU(x) },
		"Where":        func(x *Tensor) { Where(x, x, x) },
		"String":       func(x *Tensor) { _ = x.Data() },
		"CrossEntropy": func(x *Tensor) { CrossEntropyWithLogits(x, IntFromSlice([]int64{0, 1}), nil, -100, 0, "mean") },
	}
	for name, read := range reads {
		w := Ones(2, 2).SetRequiresGrad(true)
		y := Exp(MulScalar(w, 2))
		loss := Sum(y, false)
		loss.Backward()
		loss.FreeGraph()
		msg := panicMessage(func() { read(y) })
		if !strings.Contains(msg, "FreeGraph") {
			t.Errorf("%s after FreeGraph: panic %q, want it to name FreeGraph", name, msg)
		}
		z := Exp(Full(1, 2, 2))
		z.Release()
		msg = panicMessage(func() { read(z) })
		if !strings.Contains(msg, "Release") || strings.Contains(msg, "FreeGraph") {
			t.Errorf("%s after Release: panic %q, want it to name Release (not FreeGraph)", name, msg)
		}
	}
	// Item straight on a freed scalar (the loss itself).
	w := Ones(2).SetRequiresGrad(true)
	loss := Sum(Exp(w), false)
	loss.Backward()
	loss.FreeGraph()
	if msg := panicMessage(func() { loss.Item() }); !strings.Contains(msg, "FreeGraph") {
		t.Errorf("loss.Item() after FreeGraph: panic %q, want it to name FreeGraph", msg)
	}
}

// TestReleaseOfParameterRefused: a leaf that requires gradients (a
// parameter or an input the user is differentiating) belongs to the user;
// Release must refuse it instead of handing its buffer to the next op.
func TestReleaseOfParameterRefused(t *testing.T) {
	w := Zeros(3, 3).SetRequiresGrad(true).SetName("fc.weight")
	msg := panicMessage(func() { w.Release() })
	if !strings.Contains(msg, "fc.weight") || !strings.Contains(msg, "Release") {
		t.Fatalf("Release of a parameter: panic %q, want a refusal naming fc.weight", msg)
	}
	w.Set(1, 0, 0) // still usable
	// A detached view of the parameter cannot free it either.
	d := w.Detach()
	if msg := panicMessage(func() { d.Release() }); !strings.Contains(msg, "fc.weight") {
		t.Fatalf("Release of a view of a parameter: panic %q, want a refusal", msg)
	}
	if w.At(0, 0) != 1 {
		t.Fatal("parameter changed")
	}
	// Temporaries are still released.
	tmp := Exp(Zeros(4))
	tmp.Release()
}
