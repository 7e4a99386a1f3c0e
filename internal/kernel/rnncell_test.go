package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// uniformRows returns a maker of n-long rows of values uniform in [lo, hi).
func uniformRows(r *rand.Rand, n int) func(lo, hi float32) []float32 {
	return func(lo, hi float32) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = lo + (hi-lo)*r.Float32()
		}
		return s
	}
}

// TestLSTMCellBackward checks the vector loop against the scalar formula
// bit for bit, over lengths that leave every tail size, with the carried
// dc updated in place.
func TestLSTMCellBackward(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for n := 1; n <= 41; n++ {
		row := uniformRows(r, n)
		g := &LSTMGrad{I: row(0, 1), F: row(0, 1), G: row(-1, 1), O: row(0, 1), TanhC: row(-1, 1), CPrev: row(-3, 3),
			DH: row(-1, 1), DOut: row(-1, 1), DC: row(-1, 1),
			DI: make([]float32, n), DF: make([]float32, n), DG: make([]float32, n), DO: make([]float32, n)}
		dcIn := append([]float32(nil), g.DC...)
		LSTMCellBackward(g)
		for j := 0; j < n; j++ {
			i, f, gv, o, tc := g.I[j], g.F[j], g.G[j], g.O[j], g.TanhC[j]
			dh := g.DH[j] + g.DOut[j]
			dc := dcIn[j] + dh*o*(1-tc*tc)
			want := [5]float32{dc * gv * i * (1 - i), dc * g.CPrev[j] * f * (1 - f), dc * i * (1 - gv*gv), dh * tc * o * (1 - o), dc * f}
			got := [5]float32{g.DI[j], g.DF[j], g.DG[j], g.DO[j], g.DC[j]}
			for k := range want {
				if math.Float32bits(got[k]) != math.Float32bits(want[k]) {
					t.Fatalf("n=%d element %d output %d: %v, want %v", n, j, k, got[k], want[k])
				}
			}
		}
	}
}

// TestGRUCellBackward checks the vector loop against the scalar formula bit
// for bit, over lengths that leave every tail size.
func TestGRUCellBackward(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for n := 1; n <= 41; n++ {
		row := uniformRows(r, n)
		g := &GRUGrad{R: row(0, 1), Z: row(0, 1), N: row(-1, 1), HN: row(-2, 2), HPrev: row(-1, 1),
			DH: row(-1, 1), DOut: row(-1, 1),
			DR: make([]float32, n), DZ: make([]float32, n), DHN: make([]float32, n), DN: make([]float32, n), NX: make([]float32, n)}
		GRUCellBackward(g)
		for j := 0; j < n; j++ {
			rv, z, nv := g.R[j], g.Z[j], g.N[j]
			dh := g.DH[j] + g.DOut[j]
			dnp := dh * (1 - z) * (1 - nv*nv)
			want := [5]float32{dnp * g.HN[j] * rv * (1 - rv), dh * (g.HPrev[j] - nv) * z * (1 - z), dnp * rv, dnp, dh * z}
			got := [5]float32{g.DR[j], g.DZ[j], g.DHN[j], g.DN[j], g.NX[j]}
			for k := range want {
				if math.Float32bits(got[k]) != math.Float32bits(want[k]) {
					t.Fatalf("n=%d element %d output %d: %v, want %v", n, j, k, got[k], want[k])
				}
			}
		}
	}
}
