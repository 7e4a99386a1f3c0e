package kernel

import (
	"math"
	"testing"
)

// TestRelu checks both ReLU loops against the scalar definition, with NaN,
// ±0 and ±Inf, at every length up to 70 and unaligned starts.
func TestRelu(t *testing.T) {
	specials := []float32{float32(math.NaN()), float32(math.Copysign(0, -1)), 0, float32(math.Inf(1)), float32(math.Inf(-1)), -1e-40, 1e-40}
	for off := 0; off < 3; off++ {
		for n := 0; n <= 70; n++ {
			x := make([]float32, n+off)
			g := make([]float32, n+off)
			for i := range x {
				x[i] = float32(i%7) - 3.5 + float32(i)*0.01
				if i%5 == 0 {
					x[i] = specials[i%len(specials)]
				}
				g[i] = float32(i) + 0.5
			}
			xs, gs := x[off:], g[off:]
			y := make([]float32, n+1)
			y[n] = 42 // guard
			ReluForward(y[:n], xs)
			dx := make([]float32, n+1)
			dx[n] = 42
			ReluBackward(dx[:n], gs, y[:n])
			if y[n] != 42 || dx[n] != 42 {
				t.Fatalf("n=%d: wrote past the end", n)
			}
			for i, v := range xs {
				want := v
				switch {
				case v != v:
				case v > 0:
				default:
					want = 0
				}
				if got := y[i]; !(got == want && math.Signbit(float64(got)) == math.Signbit(float64(want))) && !(got != got && want != want) {
					t.Fatalf("n=%d off=%d: relu(%v) = %v, want %v", n, off, v, got, want)
				}
				wantG := float32(0)
				if !(want == 0) {
					wantG = gs[i]
				}
				if dx[i] != wantG {
					t.Fatalf("n=%d: relu grad at y=%v: %v, want %v", n, y[i], dx[i], wantG)
				}
			}
		}
	}
}
