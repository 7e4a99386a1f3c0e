package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// naiveGemm is the oracle: a triple loop in float64. It also returns, per
// element, the sum of magnitudes of the terms, which bounds float32 rounding.
func naiveGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (want, mag []float64) {
	want = make([]float64, m*n)
	mag = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, sm float64
			for p := 0; p < k; p++ {
				var av, bv float64
				if transA {
					av = float64(a[p*lda+i])
				} else {
					av = float64(a[i*lda+p])
				}
				if transB {
					bv = float64(b[j*ldb+p])
				} else {
					bv = float64(b[p*ldb+j])
				}
				s += av * bv
				sm += math.Abs(av * bv)
			}
			w := float64(alpha) * s
			mg := math.Abs(float64(alpha)) * sm
			if beta != 0 {
				cv := float64(c[i*ldc+j])
				w += float64(beta) * cv
				mg += math.Abs(float64(beta) * cv)
			}
			want[i*n+j] = w
			mag[i*n+j] = mg
		}
	}
	return want, mag
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

type gemmCase struct {
	transA, transB   bool
	m, n, k          int
	alpha, beta      float32
	padA, padB, padC int // extra columns in the leading dimension
	offA, offB, offC int // slice start offsets (misalignment)
	nanC             bool
}

// runCase runs one Sgemm against the oracle and reports the first mismatch.
func runCase(t testing.TB, r *rand.Rand, tc gemmCase) {
	t.Helper()
	ar, ac, br, bc := storedShapes(tc.transA, tc.transB, tc.m, tc.n, tc.k)
	lda, ldb, ldc := ac+tc.padA, bc+tc.padB, tc.n+tc.padC
	a := randSlice(r, tc.offA+ar*lda)[tc.offA:]
	b := randSlice(r, tc.offB+br*ldb)[tc.offB:]
	cfull := randSlice(r, tc.offC+tc.m*ldc)
	c := cfull[tc.offC:]
	if tc.nanC {
		for i := range c {
			c[i] = float32(math.NaN())
		}
	}
	orig := append([]float32(nil), c...)
	want, mag := naiveGemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	for i := 0; i < tc.m; i++ {
		for j := 0; j < ldc && i*ldc+j < len(c); j++ {
			got := c[i*ldc+j]
			if j >= tc.n { // padding must be untouched
				if math.Float32bits(got) != math.Float32bits(orig[i*ldc+j]) {
					t.Fatalf("%+v: padding C[%d][%d] changed: %v -> %v", tc, i, j, orig[i*ldc+j], got)
				}
				continue
			}
			w := want[i*tc.n+j]
			tol := 1e-5*mag[i*tc.n+j] + 1e-6
			if d := math.Abs(float64(got) - w); !(d <= tol) {
				t.Fatalf("%+v [%s]: C[%d][%d] = %v, want %v (tol %g)", tc, CPUName(), i, j, got, w, tol)
			}
		}
	}
}

// withKernel runs f with the micro-kernel swapped, so the pure-Go kernel is
// tested on amd64 too and both are checked against the same oracle.
func withKernel(mk microKernel, f func()) {
	old := micro
	micro = mk
	defer func() { micro = old }()
	f()
}

var genericKernel = microKernel{name: "generic", mr: 4, nr: 8, fn: kernGeneric}

func kernelsUnderTest() []microKernel {
	if micro.name == "generic" {
		return []microKernel{micro}
	}
	return []microKernel{micro, genericKernel}
}

func TestSgemmRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphas := []float32{1, -0.5, 2}
	betas := []float32{0, 1, 0.25}
	n := 24
	if testing.Short() {
		n = 8
	}
	for _, mk := range kernelsUnderTest() {
		withKernel(mk, func() {
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					for it := 0; it < n; it++ {
						tc := gemmCase{
							transA: ta, transB: tb,
							m: 1 + r.IntN(300), n: 1 + r.IntN(300), k: 1 + r.IntN(300),
							alpha: alphas[r.IntN(3)], beta: betas[r.IntN(3)],
							offA: r.IntN(16), offB: r.IntN(16), offC: r.IntN(16),
						}
						if it%3 == 0 {
							tc.padA, tc.padB, tc.padC = r.IntN(9), r.IntN(9), r.IntN(9)
						}
						if it%4 == 1 {
							tc.m, tc.n, tc.k = 1+r.IntN(40), 1+r.IntN(40), 1+r.IntN(40)
						}
						tc.nanC = tc.beta == 0 && it%2 == 0
						runCase(t, r, tc)
					}
				}
			}
		})
	}
}

// TestSgemmPackedAndDirect runs random products with A always packed and
// with A always read in place (where the kernel can), so both paths of the
// blocked driver are checked whatever the width threshold says.
func TestSgemmPackedAndDirect(t *testing.T) {
	if micro.rowA == nil {
		t.Skipf("the %s kernel reads A only packed", CPUName())
	}
	r := rand.New(rand.NewPCG(11, 12))
	old := directMaxStrips
	defer func() { directMaxStrips = old }()
	cases, maxM, maxK := 24, 400, 600
	if testing.Short() {
		cases, maxM, maxK = 6, 100, 200 // the race detector's run
	}
	for _, strips := range []int{0, 1 << 20} {
		directMaxStrips = strips
		for _, th := range []int{1, 2} {
			prev := SetThreads(th)
			for it := 0; it < cases; it++ {
				tc := gemmCase{
					transA: it%2 == 1, transB: it%4 >= 2,
					m: 33 + r.IntN(maxM), n: 1 + r.IntN(700), k: 1 + r.IntN(maxK),
					alpha: []float32{1, -0.5, 2}[it%3], beta: []float32{0, 1, 0.25}[it%3],
					offA: r.IntN(16), offB: r.IntN(16), offC: r.IntN(16),
					padA: r.IntN(9), padB: r.IntN(9), padC: r.IntN(9),
				}
				runCase(t, r, tc)
			}
			SetThreads(prev)
		}
	}
}

// TestSgemmSwapped runs short, wide products (a batch of rows against a
// wide weight matrix, where swapOperands computes Cᵀ) with every transpose,
// alpha, beta, stride padding and misalignment, on one and two threads,
// and checks that the swap was taken.
func TestSgemmSwapped(t *testing.T) {
	if micro.rowA == nil {
		t.Skipf("the %s kernel reads A only packed: nothing to swap", CPUName())
	}
	r := rand.New(rand.NewPCG(21, 22))
	cases, maxM, maxN, maxK := 16, 90, 500, 600
	if testing.Short() {
		cases, maxM, maxN, maxK = 4, 40, 200, 200 // the race detector's run
	}
	swapped := 0
	for _, th := range []int{1, 2} {
		prev := SetThreads(th)
		for it := 0; it < cases; it++ {
			tc := gemmCase{
				transA: it%2 == 1, transB: it%4 >= 2,
				m: 5 + r.IntN(maxM), n: 300 + r.IntN(maxN), k: 200 + r.IntN(maxK),
				alpha: []float32{1, -0.5, 2}[it%3], beta: []float32{0, 1, 0.25}[(it/3)%3],
				offA: r.IntN(16), offB: r.IntN(16), offC: r.IntN(16),
				padA: r.IntN(9), padB: r.IntN(9), padC: r.IntN(9),
				nanC: it%5 == 0,
			}
			if tc.nanC {
				tc.beta = 0
			}
			_, _, _, bc := storedShapes(tc.transA, tc.transB, tc.m, tc.n, tc.k)
			ldb := bc + tc.padB // as runCase lays B out
			if swapOperands(tc.m, tc.n, tc.k, ldb) {
				swapped++
			}
			runCase(t, r, tc)
		}
		SetThreads(prev)
	}
	if swapped < cases {
		t.Errorf("only %d of %d products took the swapped path", swapped, 2*cases)
	}
}

// TestSgemmEdges pins shapes around the tile and block boundaries, threads 1
// and 2, and small blocking so every loop of the blocked driver iterates.
func TestSgemmEdges(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	defer SetThreads(SetThreads(2))
	oldKC, oldMC, oldNC := kcBlk, mcBlk, ncBlk
	defer func() { kcBlk, mcBlk, ncBlk = oldKC, oldMC, oldNC }()
	for _, mk := range kernelsUnderTest() {
		withKernel(mk, func() {
			for _, blk := range [][3]int{{256, 192, 4096}, {16, 48, 64}} {
				kcBlk, mcBlk, ncBlk = blk[0], blk[1], blk[2]
				for _, th := range []int{1, 2} {
					SetThreads(th)
					for _, s := range [][3]int{
						{1, 1, 1}, {12, 32, 1}, {13, 33, 2}, {11, 31, 257}, {24, 64, 100},
						{36, 100, 33}, {200, 5, 77}, {5, 300, 40}, {97, 129, 65}, {130, 70, 260},
					} {
						for _, ta := range []bool{false, true} {
							for _, tb := range []bool{false, true} {
								runCase(t, r, gemmCase{transA: ta, transB: tb, m: s[0], n: s[1], k: s[2],
									alpha: 1.5, beta: 0.5, padC: 3, offA: 1, offB: 3, offC: 5})
							}
						}
					}
				}
			}
		})
	}
}

// TestSgemmThin covers the unpacked few-row path at sizes large enough to
// be split across the pool (single-sample inference through a big layer).
func TestSgemmThin(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	defer SetThreads(SetThreads(2))
	for _, th := range []int{1, 2} {
		SetThreads(th)
		for _, m := range []int{1, 2, 4} {
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					runCase(t, r, gemmCase{transA: ta, transB: tb, m: m, n: 700, k: 1300,
						alpha: 1.5, beta: 0.5, padA: 2, padB: 1, padC: 3, offA: 1, offB: 3, offC: 5})
				}
			}
		}
	}
}

func TestSgemmDegenerate(t *testing.T) {
	c := []float32{1, 2, float32(math.NaN()), 4}
	Sgemm(false, false, 2, 2, 0, 1, nil, 1, nil, 2, 0, c, 2)
	for _, v := range c {
		if v != 0 {
			t.Fatalf("k=0 beta=0 should zero C, got %v", c)
		}
	}
	c = []float32{1, 2, 3, 4}
	Sgemm(false, false, 2, 2, 0, 1, nil, 1, nil, 2, 2, c, 2)
	if c[3] != 8 {
		t.Fatalf("k=0 beta=2 should scale C, got %v", c)
	}
	Sgemm(false, false, 0, 5, 5, 1, nil, 5, nil, 5, 0, nil, 5) // nothing to do
	defer func() {
		if recover() == nil {
			t.Fatal("short C slice did not panic")
		}
	}()
	Sgemm(false, false, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 4), 2, 0, make([]float32, 3), 2)
}

// TestSgemmNoAlloc checks that steady-state calls, small and blocked, single
// and multi-threaded, do not allocate.
func TestSgemmNoAlloc(t *testing.T) {
	defer SetThreads(SetThreads(2))
	for _, s := range []int{16, 200} {
		a, b, c := make([]float32, s*s), make([]float32, s*s), make([]float32, s*s)
		Sgemm(false, false, s, s, s, 1, a, s, b, s, 0, c, s)
		if n := mallocsPerCall(50, func() {
			Sgemm(false, true, s, s, s, 1, a, s, b, s, 0, c, s)
		}); n > 0.1 {
			t.Errorf("Sgemm %d³ allocates %v times per call", s, n)
		}
	}
	// A batch through a wide layer (the swapped path), with and without beta.
	x, w, y := make([]float32, 64*784), make([]float32, 512*784), make([]float32, 64*512)
	for _, beta := range []float32{0, 1} {
		Sgemm(false, true, 64, 512, 784, 1, x, 784, w, 784, beta, y, 512)
		if n := mallocsPerCall(50, func() {
			Sgemm(false, true, 64, 512, 784, 1, x, 784, w, 784, beta, y, 512)
		}); n > 0.1 {
			t.Errorf("Sgemm 64x512x784 (beta %v) allocates %v times per call", beta, n)
		}
	}
}

// FuzzSgemmSizes checks random shapes, transposes and misalignments against
// the naive loop.
func FuzzSgemmSizes(f *testing.F) {
	f.Add(uint16(13), uint16(33), uint16(7), false, true, uint8(3))
	f.Add(uint16(64), uint16(64), uint16(64), true, false, uint8(0))
	f.Add(uint16(1), uint16(100), uint16(300), true, true, uint8(17))
	f.Fuzz(func(t *testing.T, m, n, k uint16, ta, tb bool, off uint8) {
		m, n, k = m%200+1, n%200+1, k%300+1
		r := rand.New(rand.NewPCG(uint64(m)<<32|uint64(n)<<16|uint64(k), uint64(off)))
		runCase(t, r, gemmCase{transA: ta, transB: tb, m: int(m), n: int(n), k: int(k),
			alpha: 1, beta: float32(off%3) * 0.5, offA: int(off % 16), offB: int(off / 16), offC: int(off % 7),
			padA: int(off % 5), padC: int(off % 3)})
	})
}

// BenchmarkSgemm reports GFLOP/s for square sizes and the MLP training shapes
// (the same shapes bench/ runs through OpenBLAS and PyTorch).
func BenchmarkSgemm(b *testing.B) {
	type shape struct {
		name           string
		m, n, k        int
		transA, transB bool
	}
	shapes := []shape{
		{"sq128", 128, 128, 128, false, false},
		{"sq256", 256, 256, 256, false, false},
		{"sq512", 512, 512, 512, false, false},
		{"sq1024", 1024, 1024, 1024, false, false},
		{"sq2048", 2048, 2048, 2048, false, false},
		{"mlp_fwd", 256, 512, 784, false, false}, // X[256x784]·W[784x512]
		{"mlp_dW", 784, 512, 256, true, false},   // Xᵀ·dY
		{"mlp_dX", 256, 784, 512, false, true},   // dY·Wᵀ
		// One batch-64 step of the MNIST MLP (784-512-256-10): the small
		// products where two threads must still beat one.
		{"b64_fwd1", 64, 512, 784, false, false},
		{"b64_dW1", 784, 512, 64, true, false},
		{"b64_fwd2", 64, 256, 512, false, false},
		{"b64_dW2", 512, 256, 64, true, false},
		{"b64_dX2", 64, 512, 256, false, true},
		// The same step as tensor.Linear lays it out (W is out×in):
		// forward X·Wᵀ, backward dY·W and dYᵀ·X; and one batch of 256
		// through the first layer at inference.
		{"lin_fwd1", 64, 512, 784, false, true},
		{"lin_fwd2", 64, 256, 512, false, true},
		{"lin_dX2", 64, 512, 256, false, false},
		{"lin_dW1", 512, 784, 64, true, false},
		{"lin_fwd1_b256", 256, 512, 784, false, true},
		// One batch-64 step of the MNIST ViT (examples/vit: 49 tokens,
		// d 64, 4 heads, feed-forward 256): tall, thin products of
		// 64*49 = 3136 token rows, and one attention head's products.
		{"vit_qkv", 3136, 192, 64, false, true}, // X·Wᵀ
		{"vit_ff2", 3136, 64, 256, false, true},
		{"vit_dX", 3136, 64, 256, false, false}, // dY·W
		{"vit_dW", 256, 64, 3136, true, false},  // dYᵀ·X
		{"vit_scores", 49, 49, 16, false, true}, // Q·Kᵀ of one head
		{"vit_pv", 49, 16, 49, false, false},    // P·V
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, s := range shapes {
		_, lda, _, ldb := storedShapes(s.transA, s.transB, s.m, s.n, s.k)
		a, bm, c := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), make([]float32, s.m*s.n)
		variants := []bool{true}
		if swapOperands(s.m, s.n, s.k, ldb) {
			variants = append(variants, false) // the unswapped path beside it
		}
		for _, th := range []int{1, 2} {
			for _, swap := range variants {
				name := fmt.Sprintf("%s/t%d", s.name, th)
				if !swap {
					name += "/noswap"
				}
				b.Run(name, func(b *testing.B) {
					defer SetThreads(SetThreads(th))
					defer func(was bool) { swapEnabled = was }(swapEnabled)
					swapEnabled = swap
					b.ReportAllocs()
					Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
					b.ResetTimer()
					best := time.Duration(1<<63 - 1)
					for b.Loop() {
						t := time.Now()
						Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
						best = min(best, time.Since(t))
					}
					flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					// The fastest call is the least disturbed estimate on a
					// machine shared with other jobs.
					b.ReportMetric(flops/best.Seconds()/1e9, "best-GFLOP/s")
				})
			}
		}
	}
}

// TestSgemmStripInFlight drives the blocked product by hand as two
// participants would, with some B strips marked as being packed by a third
// thread that never finishes (it lost its core): the participants must copy
// those strips privately instead of waiting, and the result must not change.
func TestSgemmStripInFlight(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct {
		m, n, k        int
		transA, transB bool
		beta           float32
	}{
		{100, 70, 300, false, false, 0},
		{40, 300, 200, true, true, 0.5},
		{130, 33, 520, false, true, 1},
	} {
		lda, ldb := tc.k, tc.n
		if tc.transA {
			lda = tc.m
		}
		if tc.transB {
			ldb = tc.k
		}
		a, b, c := randSlice(r, tc.m*tc.k), randSlice(r, tc.k*tc.n), randSlice(r, tc.m*tc.n)
		want, mag := naiveGemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, 0.75, a, lda, b, ldb, tc.beta, c, tc.n)
		g := &gemmCtx{transA: tc.transA, transB: tc.transB, m: tc.m, n: tc.n, k: tc.k, alpha: 0.75, beta: tc.beta,
			a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: tc.n}
		g.plan(2)
		if g.helpers != 2 {
			t.Fatalf("%dx%dx%d: plan gave %d helpers, want 2", tc.m, tc.n, tc.k, g.helpers)
		}
		for jc := 0; jc < tc.n; jc += g.ncMax {
			g.startSlice(jc)
			nStrips := (g.nc + g.mk.nr - 1) / g.mk.nr
			for i := 0; i < nStrips*g.kSlices; i += 3 {
				g.bstate[i].Store(1) // held by a packer that is not running
			}
			for ch := 0; ch < g.chunks; ch++ {
				g.compute(ch, ch%2)
			}
		}
		for i, w := range want {
			if d := math.Abs(float64(c[i]) - w); d > 1e-5*mag[i]+1e-6 {
				t.Fatalf("%dx%dx%d: c[%d]=%v, want %v", tc.m, tc.n, tc.k, i, c[i], w)
			}
		}
	}
}
