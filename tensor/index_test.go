package tensor

import (
	"math"
	"strings"
	"testing"
)

// TestIndexMatchesTorch replays testdata/torch/index.json: Gather,
// IndexSelect, ScatterAdd (repeated targets), OneHot, Embedding (with a
// padding row) and cross_entropy over weights, label smoothing,
// ignore_index and reductions.
func TestIndexMatchesTorch(t *testing.T) {
	for _, c := range loadFixtures(t, "index") {
		t.Run(c.Name, func(t *testing.T) {
			var a struct {
				Dim, Classes, Padding, Ignore int
				Smoothing                     float32
				Reduction                     string
				Weight                        []float32
			}
			c.args(t, &a)
			op, strided := strings.CutSuffix(c.Op, "_t")
			checkCase(t, c, 1e-5, func(in []*Tensor) *Tensor {
				switch op {
				case "gather":
					x := in[0]
					if strided {
						x = x.T()
					}
					return Gather(x, a.Dim, c.Inputs[1].ints())
				case "index_select":
					return IndexSelect(in[0], a.Dim, c.Inputs[1].ints())
				case "scatter_add":
					return ScatterAdd(in[0], a.Dim, c.Inputs[1].ints(), in[2])
				case "one_hot":
					return OneHot(c.Inputs[0].ints(), a.Classes)
				case "embedding":
					return Embedding(c.Inputs[0].ints(), in[1], a.Padding)
				case "cross_entropy":
					var w *Tensor
					if a.Weight != nil {
						w = FromSlice(a.Weight)
					}
					tg := c.Inputs[1].ints()
					if len(c.Inputs[1].Shape) == 0 { // ints() makes a 0-d fixture 1-d
						tg = tg.Reshape()
					}
					return CrossEntropyWithLogits(in[0], tg, w, a.Ignore, a.Smoothing, a.Reduction)
				}
				t.Fatalf("no Go op for fixture op %q", c.Op)
				return nil
			})
		})
	}
}

// mustPanic runs fn and checks that it panics with a message containing
// every one of want.
func mustPanic(t *testing.T, what string, fn func(), want ...string) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("%s: no panic", what)
			return
		}
		msg := ""
		switch v := r.(type) {
		case string:
			msg = v
		case error:
			msg = v.Error()
		}
		for _, w := range want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: panic %q does not mention %q", what, msg, w)
			}
		}
	}()
	fn()
}

// TestIndexErrors checks that a bad index names the op, the index and the
// size of the dimension it indexes.
func TestIndexErrors(t *testing.T) {
	x := Zeros(3, 4)
	mustPanic(t, "Gather", func() { Gather(x, 1, IntFromSlice([]int64{0, 4}, 1, 2)) }, "Gather", "index 4", "dimension 1 of size 4")
	mustPanic(t, "Gather negative", func() { Gather(x, 0, IntFromSlice([]int64{-1}, 1, 1)) }, "Gather", "index -1", "size 3")
	mustPanic(t, "Gather rank", func() { Gather(x, 0, IntFromSlice([]int64{0})) }, "Gather", "[1]", "[3 4]")
	mustPanic(t, "IndexSelect", func() { IndexSelect(x, 0, IntFromSlice([]int64{2, 3})) }, "IndexSelect", "index 3", "size 3")
	mustPanic(t, "ScatterAdd", func() { ScatterAdd(x, 1, IntFromSlice([]int64{9}, 1, 1), Ones(1, 1)) }, "ScatterAdd", "index 9", "size 4")
	mustPanic(t, "OneHot", func() { OneHot(IntFromSlice([]int64{1, 5}), 3) }, "OneHot", "index 5", "size 3")
	mustPanic(t, "Embedding", func() { Embedding(IntFromSlice([]int64{10}), x, -1) }, "Embedding", "index 10", "size 3")
	mustPanic(t, "CrossEntropy target", func() {
		CrossEntropyWithLogits(x, IntFromSlice([]int64{0, 4, -100}), nil, -100, 0, "mean")
	}, "CrossEntropyWithLogits", "index 4", "size 4")
	mustPanic(t, "CrossEntropy shape", func() {
		CrossEntropyWithLogits(x, IntFromSlice([]int64{0, 1}), nil, -100, 0, "mean")
	}, "CrossEntropyWithLogits", "[3 4]", "[2]")
	mustPanic(t, "CrossEntropy reduction", func() {
		CrossEntropyWithLogits(x, IntFromSlice([]int64{0, 1, 2}), nil, -100, 0, "avg")
	}, "avg")
}

// TestCrossEntropyEdges: every target ignored gives NaN under "mean" (0/0,
// as PyTorch) and 0 under "sum"; large logits do not overflow.
func TestCrossEntropyEdges(t *testing.T) {
	x := FromSlice([]float32{1, 2, 3, 4}, 2, 2)
	ign := IntFromSlice([]int64{-100, -100})
	if v := CrossEntropyWithLogits(x, ign, nil, -100, 0, "mean").Item(); v == v {
		t.Errorf("mean over all-ignored targets = %v, want NaN", v)
	}
	if v := CrossEntropyWithLogits(x, ign, nil, -100, 0, "sum").Item(); v != 0 {
		t.Errorf("sum over all-ignored targets = %v, want 0", v)
	}
	big := FromSlice([]float32{1000, 0, -1000}, 1, 3).SetRequiresGrad(true)
	l := CrossEntropyWithLogits(big, IntFromSlice([]int64{1}), nil, -100, 0, "mean")
	if v := l.Item(); math.Abs(float64(v)-1000) > 1e-3 {
		t.Errorf("loss with logits ±1000 = %v, want 1000", v)
	}
	l.Backward()
	if g := big.Grad().Data(); g[0] != 1 || g[1] != -1 || g[2] != 0 {
		t.Errorf("gradient with logits ±1000 = %v, want [1 -1 0]", g)
	}
}
