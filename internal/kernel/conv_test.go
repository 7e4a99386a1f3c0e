package kernel

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// forConvPaths runs f once per direct-convolution path this CPU has (on an
// AVX-512 machine: AVX-512, AVX2 and Go), with convPath set to it.
func forConvPaths(t *testing.T, f func(t *testing.T)) {
	saved := convPath
	defer func() { convPath = saved }()
	for _, p := range convPaths {
		convPath = p
		t.Run(p.String(), f)
	}
}

// TestShiftGemm checks every path against the float64 oracle on random
// shapes: row counts across the tile sizes of both vector widths, position
// counts with tails, unaligned starts of in, wt and out.
func TestShiftGemm(t *testing.T) { forConvPaths(t, testShiftGemm) }

func testShiftGemm(t *testing.T) {
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
			in := randVec(rng, 7+maxOff+pad)[rng.IntN(8):]
			ldw := m + rng.IntN(3)
			wt := randVec(rng, 3+k*ldw)[rng.IntN(4):]
			ldo := pad + rng.IntN(5)
			out := randVec(rng, 7+(m-1)*ldo+pad)[rng.IntN(8):]
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

// TestShiftDots checks every path against the float64 oracle; the paths
// sum in different orders (16 or 8 lanes), so only within rounding.
func TestShiftDots(t *testing.T) { forConvPaths(t, testShiftDots) }

func testShiftDots(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, m := range []int{1, 2, 3, 4, 5, 6, 7, 16} {
		for _, nb := range []int{1, 4, 5, 6, 9, 25, 27} {
			for _, n := range []int{1, 7, 8, 15, 16, 24, 33, 144} {
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
				a := randVec(rng, 3+ns*sa)[rng.IntN(4):]
				b := randVec(rng, 3+ns*sb)[rng.IntN(4):]
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

// TestShiftGemmPathsAgree pins the AVX2 kernels to the AVX-512 ones bit for
// bit: both take, per output, the bias and then one FMA per tap in order,
// so only the tiling differs. It needs a CPU with both.
func TestShiftGemmPathsAgree(t *testing.T) {
	if !slices.Contains(convPaths, convAVX512) || !slices.Contains(convPaths, convAVX2) {
		t.Skip("needs AVX-512 and AVX2")
	}
	saved := convPath
	defer func() { convPath = saved }()
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := 0; trial < 300; trial++ {
		m, np, k := 1+rng.IntN(20), 1+rng.IntN(700), 1+rng.IntN(150)
		off := make([]int, k)
		maxOff := 0
		for r := range off {
			off[r] = rng.IntN(300)
			maxOff = max(maxOff, off[r])
		}
		pad := ShiftGemmPad(m, np)
		in := randVec(rng, maxOff+pad+5)[rng.IntN(6):]
		wt := randVec(rng, k*m+3)[rng.IntN(4):]
		var bias []float32
		if trial%3 != 0 {
			bias = randVec(rng, m)
		}
		outs := [2][]float32{}
		for i, p := range []convImpl{convAVX512, convAVX2} {
			convPath = p
			outs[i] = make([]float32, m*pad)
			ShiftGemm(m, np, k, off, in, wt, m, outs[i], pad, bias)
		}
		for i := 0; i < m; i++ {
			for p := 0; p < np; p++ {
				a, b := outs[0][i*pad+p], outs[1][i*pad+p]
				if math.Float32bits(a) != math.Float32bits(b) {
					t.Fatalf("m=%d np=%d k=%d: out[%d][%d]: avx512 %v, avx2 %v", m, np, k, i, p, a, b)
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
