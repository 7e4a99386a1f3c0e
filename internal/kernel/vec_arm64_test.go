//go:build arm64 && !noasm

package kernel

import (
	"math/rand/v2"
	"testing"
)

// TestVecNEONLong runs the NEON reductions and Axpy over lengths with many
// 16-float iterations and every 4-float and scalar remainder, against
// float64 loops, and checks that Axpy writes nothing past y.
func TestVecNEONLong(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{8, 15, 16, 17, 31, 32, 35, 1000, 1001, 1002, 1003, 4099} {
		x, y := randSlice(r, n), randSlice(r, n+1)
		var wd, ws float64
		for i := 0; i < n; i++ {
			wd += float64(x[i]) * float64(y[i])
			ws += float64(x[i])
		}
		if got := Dot(x, y[:n]); !close32(float64(got), wd, n) {
			t.Fatalf("Dot n=%d: %v want %v", n, got, wd)
		}
		if got := Sum(x); !close32(float64(got), ws, n) {
			t.Fatalf("Sum n=%d: %v want %v", n, got, ws)
		}
		orig := append([]float32(nil), y...)
		Axpy(-0.75, x, y[:n])
		for i := 0; i < n; i++ {
			if want := float64(orig[i]) - 0.75*float64(x[i]); !close32(float64(y[i]), want, 1) {
				t.Fatalf("Axpy n=%d: y[%d]=%v want %v", n, i, y[i], want)
			}
		}
		if y[n] != orig[n] {
			t.Fatalf("Axpy n=%d wrote past y", n)
		}
	}
}
