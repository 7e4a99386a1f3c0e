package nn

import (
	"math"
	"testing"

	"github.com/shenml/shen/tensor"
)

func TestSinusoidalPositionalEncoding(t *testing.T) {
	const maxLen, d = 50, 7 // odd width: the last column is a sine
	p := NewSinusoidalPositionalEncoding(maxLen, d)
	if len(StateDict(p)) != 0 {
		t.Fatalf("the table must not be in the state dict")
	}
	tab := p.Table()
	for pos := 0; pos < maxLen; pos++ {
		for i := 0; i < d; i++ {
			angle := float64(pos) / math.Pow(10000, float64(i-i%2)/d)
			want := math.Sin(angle)
			if i%2 == 1 {
				want = math.Cos(angle)
			}
			if got := float64(tab.At(pos, i)); math.Abs(got-want) > 1e-6 {
				t.Fatalf("PE[%d,%d] = %g, want %g", pos, i, got, want)
			}
		}
	}
	x := tensor.RandN(tensor.NewRNG(1), 2, 5, d).SetRequiresGrad(true)
	y := p.Forward(x)
	for b := 0; b < 2; b++ {
		for l := 0; l < 5; l++ {
			for i := 0; i < d; i++ {
				if y.At(b, l, i) != x.At(b, l, i)+tab.At(l, i) {
					t.Fatalf("y[%d,%d,%d] wrong", b, l, i)
				}
			}
		}
	}
	tensor.Sum(y, false).Backward()
	for _, v := range x.Grad().Data() {
		if v != 1 {
			t.Fatalf("gradient through the encoding should be 1, got %g", v)
		}
	}
}

func TestLearnedPositionalEmbedding(t *testing.T) {
	SetSeed(2)
	e := NewLearnedPositionalEmbedding(10, 4)
	sd := StateDict(e)
	if len(sd) != 1 || sd[0].Name != "weight" || sd[0].Value.Size(0) != 10 {
		t.Fatalf("state dict %v", sd)
	}
	var s, ss float64
	for _, v := range e.Weight.Data() {
		s += float64(v)
		ss += float64(v) * float64(v)
	}
	if n := float64(e.Weight.Numel()); math.Abs(s/n) > 0.5 || math.Abs(ss/n-1) > 0.5 {
		t.Errorf("weights do not look N(0,1): mean %g, mean square %g", s/n, ss/n)
	}
	x := tensor.Zeros(3, 6, 4)
	y := e.Forward(x)
	if y.At(2, 5, 3) != e.Weight.At(5, 3) {
		t.Errorf("y should be the position rows")
	}
	tensor.Sum(y, false).Backward()
	g := e.Weight.Grad()
	for pos := 0; pos < 10; pos++ {
		want := float32(0)
		if pos < 6 {
			want = 3 // summed over the batch
		}
		if g.At(pos, 0) != want {
			t.Fatalf("grad row %d = %g, want %g", pos, g.At(pos, 0), want)
		}
	}
}
