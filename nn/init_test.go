package nn

import (
	"math"
	"slices"
	"testing"

	"github.com/shenml/shen/tensor"
)

func TestFans(t *testing.T) {
	for _, c := range []struct {
		shape       []int
		fanIn, fout int
	}{{[]int{5, 7}, 7, 5}, {[]int{6, 3, 5, 5}, 75, 150}, {[]int{4, 2, 9}, 18, 36}} {
		if fi, fo := Fans(c.shape); fi != c.fanIn || fo != c.fout {
			t.Errorf("Fans(%v) = %d, %d; want %d, %d", c.shape, fi, fo, c.fanIn, c.fout)
		}
	}
}

// moments returns the largest magnitude and the variance of t.
func moments(t *tensor.Tensor) (maxAbs, variance float64) {
	var sum, sq float64
	for _, v := range t.Data() {
		maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	n := float64(t.Numel())
	return maxAbs, sq/n - (sum/n)*(sum/n)
}

// TestUniformInitBounds checks the bounds and spread of the uniform
// initialisers, which are what torch's defaults promise.
func TestUniformInitBounds(t *testing.T) {
	SetSeed(1)
	w := tensor.Zeros(256, 400)
	for _, c := range []struct {
		name  string
		init  func()
		bound float64
	}{
		{"kaiming a=sqrt5 (Linear default)", func() { KaimingUniform(w, math.Sqrt(5)) }, 1 / math.Sqrt(400)},
		{"kaiming relu", func() { KaimingUniform(w, 0) }, math.Sqrt(2) * math.Sqrt(3.0/400)},
		{"xavier", func() { XavierUniform(w, 1) }, math.Sqrt(6.0 / 656)},
	} {
		c.init()
		maxAbs, v := moments(w)
		if maxAbs > c.bound || maxAbs < 0.99*c.bound {
			t.Errorf("%s: largest |w| %.5f, want just under %.5f", c.name, maxAbs, c.bound)
		}
		if want := c.bound * c.bound / 3; math.Abs(v-want) > 0.03*want {
			t.Errorf("%s: variance %.6f, want %.6f (uniform)", c.name, v, want)
		}
	}
	Normal(w, 0, 0.5)
	if _, v := moments(w); math.Abs(v-0.25) > 0.01 {
		t.Errorf("Normal(0, 0.5): variance %.4f, want 0.25", v)
	}
	KaimingNormal(w, 0)
	if _, v := moments(w); math.Abs(v-2.0/400) > 0.03*2/400 {
		t.Errorf("KaimingNormal: variance %.6f, want %.6f", v, 2.0/400)
	}
}

// TestOrthogonal checks W·Wᵀ = gain²·I for wide matrices and Wᵀ·W for tall ones.
func TestOrthogonal(t *testing.T) {
	for _, shape := range [][]int{{4, 9}, {9, 4}, {3, 2, 2}} {
		w := tensor.Zeros(shape...)
		Orthogonal(w, 2)
		rows := shape[0]
		m := w.Reshape(rows, -1)
		var g *tensor.Tensor
		if rows <= m.Size(1) {
			g = tensor.Matmul(m, m.T())
		} else {
			g = tensor.Matmul(m.T(), m)
		}
		n := g.Size(0)
		for i := range n {
			for j := range n {
				want := 0.0
				if i == j {
					want = 4
				}
				if got := float64(g.At(i, j)); math.Abs(got-want) > 1e-4 {
					t.Fatalf("shape %v: gram[%d,%d] = %v, want %v", shape, i, j, got, want)
				}
			}
		}
	}
}

// TestSetSeedReproducible: the same seed builds the same weights.
func TestSetSeedReproducible(t *testing.T) {
	SetSeed(42)
	a := NewLinear(10, 5)
	SetSeed(42)
	b := NewLinear(10, 5)
	if !slices.Equal(a.Weight.Data(), b.Weight.Data()) || !slices.Equal(a.Bias.Data(), b.Bias.Data()) {
		t.Fatal("same seed gave different weights")
	}
	c := NewLinear(10, 5)
	if slices.Equal(a.Weight.Data(), c.Weight.Data()) {
		t.Fatal("the generator did not advance")
	}
}
