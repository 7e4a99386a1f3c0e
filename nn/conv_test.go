package nn

import (
	"strings"
	"testing"

	"github.com/shenml/shen/tensor"
)

// TestConvNonSquareMatchesTorch replays the non-square and unbatched
// cases of testdata/torch/conv.json through the nn layers, built as a
// torch user writes Conv2d(c, o, (3, 1), stride=(2, 1), ...).
func TestConvNonSquareMatchesTorch(t *testing.T) {
	seen := 0
	for _, c := range loadGolden(t, "conv") {
		if c.Op != "conv2d" && c.Op != "conv1d" {
			continue
		}
		var a struct {
			Stride, Padding, Dilation []int
			Groups                    int
		}
		if c.Op == "conv2d" {
			if err := c.DecodeArgs(&a); err != nil {
				t.Fatal(err)
			}
		}
		in := goldenLeaves(c)
		x, w := in[0], in[1]
		var out *tensor.Tensor
		switch {
		case c.Op == "conv2d" && (w.Size(2) != w.Size(3) || x.Dim() == 3):
			conv := NewConv2D(w.Size(1)*a.Groups, w.Size(0), [2]int{w.Size(2), w.Size(3)},
				Stride(a.Stride...), Padding(a.Padding...), Dilation(a.Dilation...), Groups(a.Groups))
			conv.Weight, conv.Bias = w, nil
			if len(in) > 2 {
				conv.Bias = in[2]
			}
			out = conv.Forward(x)
		case c.Op == "conv1d" && x.Dim() == 2:
			var b struct{ Stride, Padding, Dilation, Groups int }
			if err := c.DecodeArgs(&b); err != nil {
				t.Fatal(err)
			}
			conv := NewConv1D(w.Size(1)*b.Groups, w.Size(0), w.Size(2), Stride(b.Stride), Padding(b.Padding), Dilation(b.Dilation), Groups(b.Groups))
			conv.Weight, conv.Bias = w, in[2]
			out = conv.Forward(x)
		default:
			continue
		}
		seen++
		checkGolden(t, c, in, out, 1e-4)
	}
	if seen < 5 {
		t.Fatalf("only %d non-square or unbatched conv cases in conv.json", seen)
	}
}

// TestPoolNonSquareMatchesTorch replays the dilated, non-square max
// pooling cases of testdata/torch/pooling.json through the nn layers.
func TestPoolNonSquareMatchesTorch(t *testing.T) {
	seen := 0
	for _, c := range loadGolden(t, "pooling") {
		var out *tensor.Tensor
		in := goldenLeaves(c)
		switch c.Op {
		case "maxpool2d":
			var a struct {
				Kernel, Stride, Padding, Dilation []int
				Ceil                              bool
			}
			if err := c.DecodeArgs(&a); err != nil {
				t.Fatal(err)
			}
			if a.Dilation == nil {
				continue
			}
			opts := []ConvOption{Stride(a.Stride...), Padding(a.Padding...), Dilation(a.Dilation...)}
			if a.Ceil {
				opts = append(opts, CeilMode())
			}
			out = NewMaxPool2D([2]int(a.Kernel), opts...).Forward(in[0])
		case "maxpool1d":
			var a struct{ Kernel, Stride, Padding, Dilation int }
			if err := c.DecodeArgs(&a); err != nil {
				t.Fatal(err)
			}
			if a.Dilation == 0 {
				continue
			}
			out = NewMaxPool1D(a.Kernel, Stride(a.Stride), Padding(a.Padding), Dilation(a.Dilation)).Forward(in[0])
		default:
			continue
		}
		seen++
		checkGolden(t, c, in, out, 1e-6)
	}
	if seen < 6 {
		t.Fatalf("only %d dilated pooling cases in pooling.json", seen)
	}
}

// TestAvgPoolCountIncludePadDefault: every entry point counts the padding
// in the divisor by default, as torch's count_include_pad=True; the corner
// window of a 2x2 image of ones with padding 1 then averages to 1/4.
func TestAvgPoolCountIncludePadDefault(t *testing.T) {
	img := tensor.Ones(1, 1, 2, 2)
	seq := tensor.Ones(1, 1, 2)
	cases := map[string]struct {
		got  *tensor.Tensor
		want float32
	}{
		"tensor.AvgPool2D zero options":     {tensor.AvgPool2D(img, tensor.PoolOptions{Kernel: [2]int{2, 2}, Stride: [2]int{1, 1}, Padding: [2]int{1, 1}}), 0.25},
		"tensor.AvgPool1D zero options":     {tensor.AvgPool1D(seq, tensor.Pool1DOptions{Kernel: 2, Stride: 1, Padding: 1}), 0.5},
		"nn.NewAvgPool2D":                   {NewAvgPool2D(2, Stride(1), Padding(1)).Forward(img), 0.25},
		"nn.NewAvgPool2D rect":              {NewAvgPool2D([2]int{2, 2}, Stride(1, 1), Padding(1, 1)).Forward(img), 0.25},
		"nn.NewAvgPool1D":                   {NewAvgPool1D(2, Stride(1), Padding(1)).Forward(seq), 0.5},
		"nn.NewAvgPool2D exclude":           {NewAvgPool2D(2, Stride(1), Padding(1), CountIncludePad(false)).Forward(img), 1},
		"nn.NewAvgPool1D exclude":           {NewAvgPool1D(2, Stride(1), Padding(1), CountIncludePad(false)).Forward(seq), 1},
		"tensor.AvgPool2D ExcludePad":       {tensor.AvgPool2D(img, tensor.PoolOptions{Kernel: [2]int{2, 2}, Stride: [2]int{1, 1}, Padding: [2]int{1, 1}, ExcludePad: true}), 1},
		"nn.NewAvgPool2D unbatched [C,H,W]": {NewAvgPool2D(2, Stride(1), Padding(1)).Forward(img.Reshape(1, 2, 2)), 0.25},
	}
	for name, c := range cases {
		if v := c.got.Data()[0]; v != c.want {
			t.Errorf("%s: corner %v, want %v", name, v, c.want)
		}
	}
}

// TestUnbatchedLayers: layers take one sample without the batch
// dimension where torch 1.13 does, giving the batched result's row.
func TestUnbatchedLayers(t *testing.T) {
	SetSeed(3)
	g := tensor.NewRNG(5)
	check := func(name string, batched, single *tensor.Tensor) {
		t.Helper()
		want := batched.Data()
		got := single.Data()
		if len(got) != len(want) {
			t.Fatalf("%s: %d values unbatched, %d batched", name, len(got), len(want))
		}
		for i := range want {
			if d := got[i] - want[i]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("%s: [%d] = %v unbatched, %v batched", name, i, got[i], want[i])
			}
		}
	}
	x2 := tensor.RandN(g, 3, 7, 6)
	for name, l := range map[string]Layer{
		"Conv2D": NewConv2D(3, 4, [2]int{3, 1}, Padding(1, 0)), "MaxPool2D": NewMaxPool2D(2),
		"AvgPool2D": NewAvgPool2D([2]int{1, 3}), "GlobalAvgPool2D": GlobalAvgPool2D{},
	} {
		check(name, l.Forward(x2.Unsqueeze(0)), l.Forward(x2))
	}
	x1 := tensor.RandN(g, 3, 9)
	for name, l := range map[string]Layer{"Conv1D": NewConv1D(3, 2, 3), "MaxPool1D": NewMaxPool1D(2), "AvgPool1D": NewAvgPool1D(3)} {
		check(name, l.Forward(x1.Unsqueeze(0)), l.Forward(x1))
	}
	// BatchNorm refuses unbatched input, as torch 1.13 does, and says so.
	msg := panicMessage(func() { NewBatchNorm2D(3).Forward(x2) })
	if !strings.Contains(msg, "unbatched") {
		t.Errorf("BatchNorm2D on [C, H, W]: panic %q, want it to say unbatched input is not taken", msg)
	}
}

// TestRNNUnbatched: recurrent layers take one [seq, input] sequence and a
// [layers*dirs, hidden] state, as torch 1.13 does, in both layouts.
func TestRNNUnbatched(t *testing.T) {
	g := tensor.NewRNG(9)
	for _, batchFirst := range []bool{false, true} {
		cfg := RNNConfig{NumLayers: 2, Bidirectional: true, BatchFirst: batchFirst}
		for name, r := range map[string]*RNNBase{"LSTM": &NewLSTM(3, 4, cfg).RNNBase, "GRU": &NewGRU(3, 4, cfg).RNNBase} {
			x := tensor.RandN(g, 5, 3)
			h0 := tensor.RandN(g, 4, 4)
			st := &RNNState{H: h0}
			bst := &RNNState{H: h0.Unsqueeze(1)}
			if name == "LSTM" {
				c0 := tensor.RandN(g, 4, 4)
				st.C, bst.C = c0, c0.Unsqueeze(1)
			}
			out, fin := r.Forward(x, st, nil)
			xb := x.Unsqueeze(1)
			if batchFirst {
				xb = x.Unsqueeze(0)
			}
			bout, bfin := r.Forward(xb, bst, nil)
			if !tensor.SameShape(out.Shape(), []int{5, 8}) || !tensor.SameShape(fin.H.Shape(), []int{4, 4}) {
				t.Fatalf("%s batchFirst=%v: output %v state %v, want [5 8] and [4 4]", name, batchFirst, out.Shape(), fin.H.Shape())
			}
			for i, v := range bout.Data() {
				if out.Data()[i] != v {
					t.Fatalf("%s batchFirst=%v: output differs from the batched pass", name, batchFirst)
				}
			}
			for i, v := range bfin.H.Data() {
				if fin.H.Data()[i] != v {
					t.Fatalf("%s: final state differs from the batched pass", name)
				}
			}
			if lh := r.LastHidden(fin); !tensor.SameShape(lh.Shape(), []int{8}) {
				t.Fatalf("%s: LastHidden of an unbatched state %v, want [8]", name, lh.Shape())
			}
		}
	}
}

// TestEmbeddingInSequential: an Embedding is a Layer, first in a
// Sequential fed float ids, and trains its weight.
func TestEmbeddingInSequential(t *testing.T) {
	emb := NewEmbedding(10, 4, -1)
	net := NewSequential(emb, NewFlatten(), NewLinear(3*4, 2))
	ids := tensor.FromSlice([]float32{1, 2, 3, 9, 0, 4}, 2, 3)
	out := net.Forward(ids)
	if !tensor.SameShape(out.Shape(), []int{2, 2}) {
		t.Fatalf("output %v, want [2 2]", out.Shape())
	}
	want := emb.Lookup(tensor.IntFromSlice([]int64{1, 2, 3, 9, 0, 4}, 2, 3)).Data()
	for i, v := range emb.Forward(ids).Data() {
		if v != want[i] {
			t.Fatal("Forward and Lookup differ")
		}
	}
	tensor.Sum(out, false).Backward()
	if g := emb.Weight.Grad(); g == nil || g.At(9, 0) == 0 || g.At(5, 0) != 0 {
		t.Fatal("embedding rows looked up must get gradients, others none")
	}
	for _, bad := range []float32{1.5, -1, 10} {
		msg := panicMessage(func() { emb.Forward(tensor.FromSlice([]float32{0, bad}, 2)) })
		if !strings.Contains(msg, "position 1") {
			t.Errorf("id %v: panic %q, want it to name position 1", bad, msg)
		}
	}
	// A 0-d id gives one row.
	if s := emb.Forward(tensor.FromSlice([]float32{3}).Reshape()).Shape(); !tensor.SameShape(s, []int{4}) {
		t.Errorf("0-d id gives %v, want [4]", s)
	}
}
