//go:build openblas && cgo

package bench

import (
	"flag"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/shenml/shen/internal/kernel"
)

var (
	rounds = flag.Int("rounds", 7, "interleaved timing rounds per shape and thread count")
	slice  = flag.Duration("slice", 40*time.Millisecond, "time per library per round")
)

// TestSgemmVsOpenBLAS times Shen and OpenBLAS on the same shapes, alternating
// short slices of each so both see the same machine load, and prints the best
// slice of each (the least disturbed) and their ratio. It also checks that the
// two agree numerically.
func TestSgemmVsOpenBLAS(t *testing.T) {
	shapes := []struct {
		name           string
		m, n, k        int
		transA, transB bool
	}{
		{"sq128", 128, 128, 128, false, false},
		{"sq256", 256, 256, 256, false, false},
		{"sq512", 512, 512, 512, false, false},
		{"sq1024", 1024, 1024, 1024, false, false},
		{"sq2048", 2048, 2048, 2048, false, false},
		{"mlp_fwd", 256, 512, 784, false, false},
		{"mlp_dW", 784, 512, 256, true, false},
		{"mlp_dX", 256, 784, 512, false, true},
	}
	fmt.Printf("# interleaved: shen=%s openblas core=%s rounds=%d slice=%v\n", kernel.CPUName(), openblasCore(), *rounds, *slice)
	fmt.Printf("%-8s %3s %10s %10s %8s\n", "shape", "thr", "Shen", "OpenBLAS", "Shen/OB")
	for _, s := range shapes {
		lda, ldb := s.k, s.n
		if s.transA {
			lda = s.m
		}
		if s.transB {
			ldb = s.k
		}
		a, b := make([]float32, s.m*s.k), make([]float32, s.k*s.n)
		for i := range a {
			a[i] = float32(i*7%13)/13 - 0.5
		}
		for i := range b {
			b[i] = float32(i*5%11)/11 - 0.5
		}
		c1, c2 := make([]float32, s.m*s.n), make([]float32, s.m*s.n)
		kernel.Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c1, s.n)
		openblasSgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c2, s.n)
		for i := range c1 {
			if d := math.Abs(float64(c1[i] - c2[i])); d > 1e-3*(1+math.Abs(float64(c2[i]))) {
				t.Fatalf("%s: C[%d] shen %v openblas %v", s.name, i, c1[i], c2[i])
			}
		}
		flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		for _, th := range []int{1, 2} {
			kernel.SetThreads(th)
			openblasThreads(th)
			best := func(f func()) float64 {
				var n int
				start := time.Now()
				for time.Since(start) < *slice {
					f()
					n++
				}
				return flops * float64(n) / time.Since(start).Seconds() / 1e9
			}
			var bs, bo float64
			for r := 0; r < *rounds; r++ {
				bs = max(bs, best(func() { kernel.Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c1, s.n) }))
				bo = max(bo, best(func() { openblasSgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c2, s.n) }))
			}
			fmt.Printf("%-8s %3d %10.1f %10.1f %8.2f\n", s.name, th, bs, bo, bs/bo)
		}
	}
	kernel.SetThreads(0)
}
