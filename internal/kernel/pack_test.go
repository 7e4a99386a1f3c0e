package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// forPackPaths runs f once per transposing pack this CPU has (on an
// AVX-512 machine: AVX-512, AVX2 and Go), with packPath set to it.
func forPackPaths(t *testing.T, f func(t *testing.T)) {
	saved := packPath
	defer func() { packPath = saved }()
	for _, p := range packPaths {
		packPath = p
		t.Run(p.String(), f)
	}
}

// TestPackT checks the transposing pack (each path the CPU has) element by
// element against its definition, over panel widths of both micro-kernels
// and the generic one, every row count up to the width, K depths around the
// 8- and 16-column blocks, unaligned source and destination starts, source
// strides, and alpha 1 and not 1. Lanes past the panel width and floats
// past the panel end must be left alone.
func TestPackT(t *testing.T) { forPackPaths(t, testPackT) }

func testPackT(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const guard = 40
	for _, width := range []int{4, 6, 8, 12, 16, 20, 32} {
		for _, ldd := range []int{width, width + 3} {
			for rows := 0; rows <= width; rows++ {
				for _, kc := range []int{1, 3, 4, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 70, 256} {
					if testing.Short() && kc > 33 && rows%5 != 0 {
						continue
					}
					lds := kc + r.IntN(5)
					offS, offD := r.IntN(16), r.IntN(16)
					alpha := float32(1)
					if r.IntN(2) == 0 {
						alpha = -0.75
					}
					src := randSlice(r, offS+max(rows-1, 0)*lds+kc)[offS:]
					src = src[:len(src):len(src)] // nothing past the matrix
					dfull := randSlice(r, offD+(kc-1)*ldd+width+guard)
					orig := append([]float32(nil), dfull...)
					dst := dfull[offD:]
					packT(dst, ldd, width, src, lds, rows, kc, alpha)
					for p := 0; p < kc; p++ {
						for i := 0; i < ldd; i++ {
							got := dst[p*ldd+i]
							var want float32
							switch {
							case i >= width:
								want = orig[offD+p*ldd+i]
							case i < rows:
								want = alpha * src[i*lds+p]
							}
							if math.Float32bits(got) != math.Float32bits(want) {
								t.Fatalf("width %d ldd %d rows %d kc %d alpha %v: dst[%d][%d] = %v, want %v",
									width, ldd, rows, kc, alpha, p, i, got, want)
							}
						}
					}
					for i := offD + (kc-1)*ldd + width; i < len(dfull); i++ {
						if dfull[i] != orig[i] {
							t.Fatalf("width %d rows %d kc %d: wrote past the panel at +%d", width, rows, kc, i-offD)
						}
					}
					for i := 0; i < offD; i++ {
						if dfull[i] != orig[i] {
							t.Fatalf("width %d rows %d kc %d: wrote before the panel", width, rows, kc)
						}
					}
				}
			}
		}
	}
}

// TestPackTMatchesGo pins each fast pack to the portable one bit for bit,
// NaNs and signed zeros included, on the panel shapes the blocked drivers
// of both micro-kernels use (12x32 with AVX-512, 6x16 with AVX2).
func TestPackTMatchesGo(t *testing.T) { forPackPaths(t, testPackTMatchesGo) }

func testPackTMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, width := range []int{6, 12, 16, 32} {
		for _, rows := range []int{1, width / 2, width - 1, width} {
			kc, lds := 77, 801
			src := randSlice(r, (rows-1)*lds+kc)
			src[3] = float32(math.NaN())
			src[(rows-1)*lds+5] = float32(math.Copysign(0, -1))
			for _, alpha := range []float32{1, 2.5} {
				got, want := make([]float32, kc*width), make([]float32, kc*width)
				packT(got, width, width, src, lds, rows, kc, alpha)
				packTGo(want, width, width, src, lds, rows, kc, alpha)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("width %d rows %d alpha %v: [%d] = %x, Go gives %x", width, rows, alpha, i, math.Float32bits(got[i]), math.Float32bits(want[i]))
					}
				}
			}
		}
	}
}

// BenchmarkPackT times the transposing pack of one full B strip (NR rows of
// a transposed weight matrix, kc=256) and one full A panel (MR rows), at
// the panel widths of both micro-kernels, on each path the CPU has.
func BenchmarkPackT(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	const kc, lds = 256, 784
	saved := packPath
	defer func() { packPath = saved }()
	for _, width := range []int{32, 12, 16, 6} {
		src := randSlice(r, width*lds)
		dst := alignedFloats(kc * width)
		for _, p := range packPaths {
			b.Run(fmt.Sprintf("w%d/%s", width, p), func(b *testing.B) {
				packPath = p
				b.SetBytes(int64(4 * kc * width))
				for b.Loop() {
					packT(dst, width, width, src, lds, width, kc, 1)
				}
			})
		}
	}
}
