package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

func close32(got, want float64, n int) bool {
	return math.Abs(got-want) <= 1e-5*float64(n+1)*(1+math.Abs(want))
}

// TestVectorHelpers checks every helper against a float64 loop for lengths
// 0..70 (all SIMD tails) at unaligned offsets 0..3, and that no element
// outside dst changes.
func TestVectorHelpers(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for n := 0; n <= 70; n++ {
		for off := 0; off < 4; off++ {
			x := randSlice(r, n+off+1)[off : off+n]
			y := randSlice(r, n+off+1)[off : off+n]
			x64 := func(i int) float64 { return float64(x[i]) }
			y64 := func(i int) float64 { return float64(y[i]) }

			var wd, ws float64
			for i := 0; i < n; i++ {
				wd += x64(i) * y64(i)
				ws += x64(i)
			}
			if got := Dot(x, y); !close32(float64(got), wd, n) {
				t.Fatalf("Dot n=%d off=%d: %v want %v", n, off, got, wd)
			}
			if got := Sum(x); !close32(float64(got), ws, n) {
				t.Fatalf("Sum n=%d off=%d: %v want %v", n, off, got, ws)
			}
			if n > 0 {
				wm := x[0]
				for _, v := range x {
					wm = max(wm, v)
				}
				if got := Max(x); got != wm {
					t.Fatalf("Max n=%d off=%d: %v want %v", n, off, got, wm)
				}
			}

			elementwise := []struct {
				name string
				f    func(dst []float32)
				want func(i int) float64
			}{
				{"Add", func(d []float32) { Add(d, x, y) }, func(i int) float64 { return x64(i) + y64(i) }},
				{"Mul", func(d []float32) { Mul(d, x, y) }, func(i int) float64 { return x64(i) * y64(i) }},
				{"Scale", func(d []float32) { Scale(d, -1.5, x) }, func(i int) float64 { return -1.5 * x64(i) }},
				{"AddScalar", func(d []float32) { AddScalar(d, 0.25, x) }, func(i int) float64 { return x64(i) + 0.25 }},
				{"Relu", func(d []float32) { Relu(d, x) }, func(i int) float64 { return math.Max(x64(i), 0) }},
				{"Axpy", func(d []float32) { copy(d, y); Axpy(0.5, x, d) }, func(i int) float64 { return y64(i) + 0.5*x64(i) }},
			}
			for _, e := range elementwise {
				buf := make([]float32, n+off+2)
				for i := range buf {
					buf[i] = 42
				}
				dst := buf[off+1 : off+1+n]
				e.f(dst)
				for i := 0; i < n; i++ {
					if !close32(float64(dst[i]), e.want(i), 1) {
						t.Fatalf("%s n=%d off=%d: dst[%d]=%v want %v", e.name, n, off, i, dst[i], e.want(i))
					}
				}
				for i, v := range buf {
					if (i <= off || i > off+n) && v != 42 {
						t.Fatalf("%s n=%d off=%d: wrote outside dst at %d", e.name, n, off, i)
					}
				}
			}
			// In place.
			z := append([]float32(nil), x...)
			Relu(z, z)
			Scale(z, 2, z)
			for i := range z {
				if want := 2 * math.Max(x64(i), 0); !close32(float64(z[i]), want, 1) {
					t.Fatalf("in-place Relu+Scale n=%d: %v want %v", n, z[i], want)
				}
			}
		}
	}
}

func TestMaxEmptyPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Max(nil) did not panic")
		}
	}()
	Max(nil)
}

func BenchmarkVector(b *testing.B) {
	x, y, d := make([]float32, 4096), make([]float32, 4096), make([]float32, 4096)
	for i := range x {
		x[i], y[i] = float32(i%5)-2, float32(i%3)
	}
	var sink float32
	b.Run("Dot", func(b *testing.B) {
		for b.Loop() {
			sink += Dot(x, y)
		}
	})
	b.Run("Axpy", func(b *testing.B) {
		for b.Loop() {
			Axpy(1e-3, x, d)
		}
	})
	b.Run("Add", func(b *testing.B) {
		for b.Loop() {
			Add(d, x, y)
		}
	})
	b.Run("Relu", func(b *testing.B) {
		for b.Loop() {
			Relu(d, x)
		}
	})
	b.Run("Max", func(b *testing.B) {
		for b.Loop() {
			sink += Max(x)
		}
	})
	_ = sink
}
