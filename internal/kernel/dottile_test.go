package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDotTile4x4 checks every path (AVX-512, AVX2, Go) against the
// float64 oracle, with k around both vector widths and unaligned rows.
func TestDotTile4x4(t *testing.T) { forConvPaths(t, testDotTile4x4) }

func testDotTile4x4(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range []int{1, 7, 8, 9, 15, 16, 17, 24, 64, 100, 1000} {
		for ma := 1; ma <= 4; ma++ {
			for nb := 1; nb <= 4; nb++ {
				var a, b [4][]float32
				for i := range a {
					a[i], b[i] = randVec(rng, k+3)[rng.IntN(3):], randVec(rng, k+3)[rng.IntN(3):]
				}
				const ldc = 7
				c := make([]float32, 4*ldc)
				for i := range c {
					c[i] = 1
				}
				DotTile4x4(k, a, b, ma, nb, c, ldc)
				for i := 0; i < 4; i++ {
					for j := 0; j < ldc; j++ {
						want := 1.0
						if i < ma && j < nb {
							for p := 0; p < k; p++ {
								want += float64(a[i][p]) * float64(b[j][p])
							}
						}
						if got := float64(c[i*ldc+j]); math.Abs(got-want) > 1e-4*(1+math.Sqrt(float64(k))) {
							t.Fatalf("k=%d %dx%d: c[%d][%d] = %v, want %v", k, ma, nb, i, j, got, want)
						}
					}
				}
			}
		}
	}
}
