package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestShiftGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, m := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 16, 17, 32} {
		for _, np := range []int{1, 15, 16, 47, 48, 100, 140, 896} {
			k := 1 + rng.IntN(60)
			off := make([]int, k)
			maxOff := 0
			for r := range off {
				off[r] = rng.IntN(200)
				maxOff = max(maxOff, off[r])
			}
			pad := ShiftGemmPad(m, np)
			in := randVec(rng, maxOff+pad)
			ldw := m + rng.IntN(3)
			wt := randVec(rng, k*ldw)
			ldo := pad + rng.IntN(5)
			out := randVec(rng, (m-1)*ldo+pad)
			var bias []float32
			if np%2 == 0 {
				bias = randVec(rng, m)
			}
			ShiftGemm(m, np, k, off, in, wt, ldw, out, ldo, bias)
			for i := 0; i < m; i++ {
				for p := 0; p < np; p++ {
					want := 0.0
					if bias != nil {
						want = float64(bias[i])
					}
					for r := 0; r < k; r++ {
						want += float64(wt[r*ldw+i]) * float64(in[off[r]+p])
					}
					if got := float64(out[i*ldo+p]); math.Abs(got-want) > 1e-4*(1+math.Sqrt(float64(k))) {
						t.Fatalf("m=%d np=%d k=%d: out[%d][%d] = %v, want %v", m, np, k, i, p, got, want)
					}
				}
			}
		}
	}
}

func TestShiftDots(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, m := range []int{1, 2, 3, 4, 5, 6, 7, 16} {
		for _, nb := range []int{1, 4, 5, 6, 9, 25, 27} {
			for _, n := range []int{1, 15, 16, 33, 144} {
				ns := 1 + rng.IntN(4)
				lda := n + rng.IntN(4)
				sa := m*lda + rng.IntN(4)
				boff := make([]int, nb)
				maxOff := 0
				for j := range boff {
					boff[j] = rng.IntN(100)
					maxOff = max(maxOff, boff[j])
				}
				sb := maxOff + n + rng.IntN(4)
				a := randVec(rng, ns*sa)
				b := randVec(rng, ns*sb)
				const ldc = 31
				c := randVec(rng, m*ldc)
				c0 := append([]float32(nil), c...)
				ShiftDots(m, nb, n, ns, a, lda, sa, boff, b, sb, c, ldc)
				for i := 0; i < m; i++ {
					for j := 0; j < ldc; j++ {
						want := float64(c0[i*ldc+j])
						if j < nb {
							for s := 0; s < ns; s++ {
								for p := 0; p < n; p++ {
									want += float64(a[s*sa+i*lda+p]) * float64(b[s*sb+boff[j]+p])
								}
							}
						}
						if got := float64(c[i*ldc+j]); math.Abs(got-want) > 1e-4*(1+math.Sqrt(float64(n*ns))) {
							t.Fatalf("m=%d nb=%d n=%d ns=%d: c[%d][%d] = %v, want %v", m, nb, n, ns, i, j, got, want)
						}
					}
				}
			}
		}
	}
}

func randVec(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = rng.Float32()*2 - 1
	}
	return v
}
