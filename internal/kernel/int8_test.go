package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randInt8(r *rand.Rand, n int) []int8 {
	s := make([]int8, n)
	for i := range s {
		s[i] = int8(r.IntN(255) - 127)
	}
	return s
}

// naiveInt8 is the oracle: plain int64 sums of products.
func naiveInt8(m, n, k int, a []int8, lda int, w []int8) []int64 {
	c := make([]int64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s int64
			for p := 0; p < k; p++ {
				s += int64(a[i*lda+p]) * int64(w[j*k+p])
			}
			c[i*n+j] = s
		}
	}
	return c
}

// TestInt8Gemm checks every kernel this CPU can run, and pure Go, against
// exact integer sums, on shapes around the 2x4 block and the 64-byte
// padding, with extreme values included, on one and two threads.
func TestInt8Gemm(t *testing.T) {
	kernels := int8Kernels()
	kernels["generic"] = int8Generic
	defer func(k int) { int8Micro = k }(int8Micro)
	r := rand.New(rand.NewPCG(1, 2))
	shapes := [][3]int{{1, 1, 1}, {1, 10, 784}, {2, 4, 64}, {3, 5, 65}, {7, 13, 127}, {64, 10, 256}, {65, 37, 200}, {300, 130, 130}}
	for name, kern := range kernels {
		int8Micro = kern
		for _, th := range []int{1, 2} {
			for _, s := range shapes {
				m, n, k := s[0], s[1], s[2]
				w := randInt8(r, n*k)
				if n*k > 2 {
					w[0], w[1] = -127, 127
				}
				q := NewInt8Weights(n, k, w)
				a := make([]int8, m*q.KPad)
				for i := 0; i < m; i++ {
					copy(a[i*q.KPad:], randInt8(r, k))
				}
				a[0] = -127
				const ldc = 3 // extra columns: the product must leave them alone
				c := make([]int32, m*(n+ldc))
				for i := range c {
					c[i] = -1
				}
				old := SetThreads(th)
				Int8Gemm(m, a, q, c, n+ldc)
				SetThreads(old)
				want := naiveInt8(m, n, k, a, q.KPad, w)
				for i := 0; i < m; i++ {
					for j := 0; j < n+ldc; j++ {
						got := c[i*(n+ldc)+j]
						if j >= n {
							if got != -1 {
								t.Fatalf("%s %v t%d: wrote past the row at c[%d][%d]", name, s, th, i, j)
							}
							continue
						}
						if int64(got) != want[i*n+j] {
							t.Fatalf("%s %v t%d: c[%d][%d]=%d, want %d", name, s, th, i, j, got, want[i*n+j])
						}
					}
				}
			}
		}
	}
}

func TestQuantizeInt8(t *testing.T) {
	x := []float32{0, 0.5, 1.5, 2.5, -2.5, 1000, -1000, float32(math.NaN()), 0.49, -0.51}
	want := []int8{0, 0, 2, 2, -2, 127, -127, 0, 0, -1}
	got := QuantizeInt8(make([]int8, len(x)), x, 1)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("QuantizeInt8(%v)[%d]=%d, want %d", x[i], i, got[i], want[i])
		}
	}
}

func TestInt8GemmNoAlloc(t *testing.T) {
	defer SetThreads(SetThreads(2))
	r := rand.New(rand.NewPCG(3, 4))
	q := NewInt8Weights(512, 784, randInt8(r, 512*784))
	a := randInt8(r, 64*q.KPad)
	c := make([]int32, 64*512)
	if n := mallocsPerCall(20, func() { Int8Gemm(64, a, q, c, 512) }); n > 0.05 {
		t.Fatalf("Int8Gemm allocates %v times per call", n)
	}
	if n := mallocsPerCall(20, func() { Int8Gemm(1, a, q, c, 512) }); n > 0.05 {
		t.Fatalf("Int8Gemm with one row allocates %v times per call", n)
	}
}

func TestInt8Errors(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	q := NewInt8Weights(2, 3, make([]int8, 6))
	mustPanic("short weights", func() { NewInt8Weights(2, 3, make([]int8, 5)) })
	mustPanic("short a", func() { Int8Gemm(2, make([]int8, q.KPad), q, make([]int32, 4), 2) })
	mustPanic("short c", func() { Int8Gemm(1, make([]int8, q.KPad), q, make([]int32, 1), 2) })
}

// BenchmarkInt8Gemm reports int8 GOP/s (2 per byte product) on the MNIST
// MLP's first layer at batch 64 and for one sample, next to Sgemm on the
// same shape for the ratio.
func BenchmarkInt8Gemm(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	const n, k = 512, 784
	q := NewInt8Weights(n, k, randInt8(r, n*k))
	wf := randSlice(r, n*k)
	for _, m := range []int{1, 64} {
		a := randInt8(r, m*q.KPad)
		af := randSlice(r, m*k)
		c := make([]int32, m*n)
		cf := make([]float32, m*n)
		ops := 2 * float64(m*n*k)
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("int8/m%d/t%d", m, th), func(b *testing.B) {
				defer SetThreads(SetThreads(th))
				b.ReportAllocs()
				for b.Loop() {
					Int8Gemm(m, a, q, c, n)
				}
				b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
			})
			b.Run(fmt.Sprintf("fp32/m%d/t%d", m, th), func(b *testing.B) {
				defer SetThreads(SetThreads(th))
				b.ReportAllocs()
				for b.Loop() {
					Sgemm(false, true, m, n, k, 1, af, k, wf, k, 0, cf, n)
				}
				b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
			})
		}
	}
}

// TestQuantizeInt8Vector checks the AVX2 loop against quantizeOne on
// ties, the clamps, NaN, infinities, huge values and random data.
func TestQuantizeInt8Vector(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	x := make([]float32, 32*9+7)
	for i := range x {
		x[i] = (r.Float32()*2 - 1) * 160
	}
	special := []float32{0.5, 1.5, 2.5, -0.5, -1.5, 126.5, -126.5, 127.49, 127.5, 1e30, -1e30, 3e9,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), float32(math.Copysign(0, -1)), 0.49999997}
	copy(x[3:], special)
	copy(x[40:], special)
	for _, scale := range []float32{1, 0.5, 0.37} {
		got := QuantizeInt8(make([]int8, len(x)), x, scale)
		for i, v := range x {
			if want := quantizeOne(v, 1/scale); got[i] != want {
				t.Fatalf("scale %v: code of %v = %d, want %d", scale, v, got[i], want)
			}
		}
	}
}
