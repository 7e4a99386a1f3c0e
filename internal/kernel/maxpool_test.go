package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// maxPoolInputs returns two rows of 2n values drawn from a few levels, so
// that blocks often tie (the first maximum must win), with signed zeros,
// infinities, and NaN in some rows.
func maxPoolInputs(r *rand.Rand, n int, withNaN bool) (r0, r1 []float32) {
	levels := []float32{-2, -1, float32(math.Copysign(0, -1)), 0, 0.5, 1, 3, float32(math.Inf(1)), float32(math.Inf(-1))}
	row := func() []float32 {
		s := make([]float32, 2*n+3) // a longer row: only 2n are read
		for i := range s {
			if r.IntN(3) == 0 {
				s[i] = levels[r.IntN(len(levels))]
			} else {
				s[i] = r.Float32()*4 - 2
			}
		}
		return s
	}
	r0, r1 = row(), row()
	if withNaN && n > 0 {
		r1[r.IntN(2*n)] = float32(math.NaN())
	}
	return r0, r1
}

// TestMaxPool2x2Row checks the vector forward and backward against the
// portable loops on rows of every length up to 40 blocks (vector body and
// tail), with ties, signed zeros, infinities and NaN; the backward must
// write every entry of every block.
func TestMaxPool2x2Row(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	same := func(a, b float32) bool {
		return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b) || (a == 0 && b == 0)
	}
	for n := 0; n <= 40; n++ {
		for _, withNaN := range []bool{false, true} {
			r0, r1 := maxPoolInputs(r, n, withNaN)
			got, want := make([]float32, n), make([]float32, n)
			MaxPool2x2Row(got, r0, r1)
			maxPool2x2Go(want, r0, r1)
			for j := range want {
				if !same(got[j], want[j]) {
					t.Fatalf("n=%d nan=%v: forward[%d] = %v, want %v", n, withNaN, j, got[j], want[j])
				}
			}
			g := make([]float32, n)
			for j := range g {
				g[j] = float32(j + 1)
			}
			// The rows as one plane with a row stride of 2n+3: the
			// three entries past each row must keep their stale value.
			w := 2*n + 3
			x := append(append([]float32(nil), r0[:w]...), r1[:w]...)
			gotD, wantD := make([]float32, 2*w), make([]float32, 2*w)
			for i := range gotD { // stale values must be overwritten
				gotD[i], wantD[i] = 7, 7
			}
			MaxPool2x2RowBackward(gotD, x, w, g)
			maxPool2x2BwdGo(wantD, x, w, g)
			for i := range wantD {
				if gotD[i] != wantD[i] {
					t.Fatalf("n=%d nan=%v: backward at %d = %v, want %v", n, withNaN, i, gotD[i], wantD[i])
				}
				if i%w >= 2*n && gotD[i] != 7 {
					t.Fatalf("n=%d: backward wrote %v past its row at %d", n, gotD[i], i)
				}
			}
		}
	}
}

// BenchmarkMaxPool2x2Row times one LeNet first-layer batch of rows (64
// images × 6 planes × 14 rows of 14 blocks) forward and backward, the
// vector path beside the portable loops.
func BenchmarkMaxPool2x2Row(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	const rows, n, w = 64 * 6 * 14, 14, 2 * 14
	x := randSlice(r, rows*4*n)
	d := make([]float32, len(x))
	out := make([]float32, rows*n)
	for _, dir := range []string{"forward", "backward", "forward/portable", "backward/portable"} {
		b.Run(dir, func(b *testing.B) {
			for b.Loop() {
				for i := 0; i < rows; i++ {
					xs, ds, o := x[i*2*w:(i+1)*2*w], d[i*2*w:(i+1)*2*w], out[i*n:(i+1)*n]
					switch dir {
					case "forward":
						MaxPool2x2Row(o, xs, xs[w:])
					case "backward":
						MaxPool2x2RowBackward(ds, xs, w, o)
					case "forward/portable":
						maxPool2x2Go(o, xs, xs[w:])
					default:
						maxPool2x2BwdGo(ds, xs, w, o)
					}
				}
			}
			b.ReportMetric(float64(rows*n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mblocks/s")
		})
	}
}
