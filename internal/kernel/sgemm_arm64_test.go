//go:build arm64 && !noasm

package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestNEONSelected(t *testing.T) {
	if CPUName() != "neon" || micro.mr != 8 || micro.nr != 12 {
		t.Fatalf("arm64 dispatch chose %s %dx%d, want neon 8x12", CPUName(), micro.mr, micro.nr)
	}
}

// TestKernNEONTile calls the micro-kernel directly on one tile: every k
// remainder of the 4x unrolled loop (k = 0 included), beta 0 over a C full
// of NaN, beta 1 and -0.5, and a C stride wider than the tile, whose gaps
// and surroundings must stay untouched.
func TestKernNEONTile(t *testing.T) {
	const mr, nr = 8, 12
	r := rand.New(rand.NewPCG(11, 12))
	for _, k := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 64, 255, 256} {
		for _, beta := range []float32{0, 1, -0.5} {
			for _, ldc := range []int{nr, nr + 5} {
				a := randSlice(r, k*mr+1)[:k*mr]
				b := randSlice(r, k*nr+1)[:k*nr]
				const guard = 7
				buf := randSlice(r, 2*guard+(mr-1)*ldc+nr)
				c := buf[guard : len(buf)-guard]
				if beta == 0 {
					for i := 0; i < mr; i++ {
						for j := 0; j < nr; j++ {
							c[i*ldc+j] = float32(math.NaN())
						}
					}
				}
				orig := append([]float32(nil), buf...)
				var ap, bp *float32
				if k > 0 {
					ap, bp = &a[0], &b[0]
				} else {
					ap, bp = &buf[0], &buf[0] // never read
				}
				kernNEON(k, ap, bp, &c[0], ldc, beta)
				for idx := range buf {
					i, j := (idx-guard)/ldc, (idx-guard)%ldc
					inTile := idx >= guard && i < mr && j < nr && idx < len(buf)-guard
					if !inTile {
						if math.Float32bits(buf[idx]) != math.Float32bits(orig[idx]) {
							t.Fatalf("k=%d beta=%v ldc=%d: wrote outside the tile at %d", k, beta, ldc, idx-guard)
						}
						continue
					}
					var want, mag float64
					for p := 0; p < k; p++ {
						v := float64(a[p*mr+i]) * float64(b[p*nr+j])
						want += v
						mag += math.Abs(v)
					}
					if beta != 0 {
						cv := float64(beta) * float64(orig[idx])
						want += cv
						mag += math.Abs(cv)
					}
					if d := math.Abs(float64(buf[idx]) - want); !(d <= 1e-6*mag+1e-7) {
						t.Fatalf("k=%d beta=%v ldc=%d: C[%d][%d] = %v, want %v", k, beta, ldc, i, j, buf[idx], want)
					}
				}
			}
		}
	}
}
