package kernel

import (
	"fmt"
	"math"
)

// Int8 products for quantised inference.
//
// A quantised layer multiplies int8 activations (per-tensor symmetric
// scale) by int8 weights (per-output-channel symmetric scales) with int32
// accumulation; the caller turns the int32 sums back into floats with the
// two scales. Both operands keep K contiguous (activations m×K, weights
// n×K as a Linear layer stores them), padded with zeros to Int8Pad(K) so
// that every assembly kernel runs whole vectors.
//
// Kernels, chosen at init: AVX512-VNNI (VPDPBUSD: 64 byte products a
// step; the activations are biased by +128 to make them unsigned and the
// bias is taken back with the weights' row sums), AVX2 (sign extension to
// int16 and VPMADDWD: 16 products a step), and pure Go elsewhere and under
// the noasm tag. All three give bit-identical int32 sums: integer
// arithmetic is exact while |values| <= 127 and K < 2^17.

// int8Align is the padding of the K dimension of Int8Weights and of the
// activation rows given to Int8Gemm: one step of the kernel in use (64
// bytes for VNNI, 16 for AVX2 and pure Go), so small K (a 5x5 convolution
// of one channel: 25) wastes little.
var int8Align = 16

// maxInt8K bounds K so that sums of products of values in [-127, 127]
// (and of the +128 bias of the VNNI path) fit in int32 with room to spare.
const maxInt8K = 1 << 16

// Int8Weights is the right-hand operand of Int8Gemm, prepared once per
// layer: N rows of K int8 values, each padded with zeros to KPad, then zero
// rows up to a multiple of 4 (the kernels' block), and the row sums the
// VNNI kernel needs.
type Int8Weights struct {
	N, K, KPad int
	Data       []int8  // NPad()*KPad
	Sums       []int32 // per row (NPad of them): the sum of its values
}

// NPad is N rounded up to the kernels' block of 4 rows.
func (w *Int8Weights) NPad() int { return (w.N + 3) &^ 3 }

// Int8Pad returns k rounded up to the kernels' step (16 or 64 bytes).
func Int8Pad(k int) int { return (k + int8Align - 1) / int8Align * int8Align }

// NewInt8Weights copies w (n rows of k values, row-major) into padded rows.
// It panics if the sizes disagree or k is out of the supported range.
func NewInt8Weights(n, k int, w []int8) *Int8Weights {
	if n < 0 || k < 0 || k > maxInt8K || len(w) != n*k {
		panic(fmt.Sprintf("kernel.NewInt8Weights: %d values for %dx%d (k at most %d)", len(w), n, k, maxInt8K))
	}
	kp := Int8Pad(k)
	q := &Int8Weights{N: n, K: k, KPad: kp}
	q.Data, q.Sums = make([]int8, q.NPad()*kp), make([]int32, q.NPad())
	for j := 0; j < n; j++ {
		row := q.Data[j*kp : j*kp+k]
		copy(row, w[j*k:(j+1)*k])
		var s int32
		for _, v := range row {
			s += int32(v)
		}
		q.Sums[j] = s
	}
	return q
}

// QuantizeInt8 writes the symmetric int8 code of x for step scale into dst
// and returns dst: x·(1/scale) in float32, clamped to [-127, 127], rounded
// to nearest with ties to even (as torch.quantize_per_tensor rounds); NaN
// codes as 0. scale must be positive; len(dst) >= len(x). The float32
// arithmetic is what the AVX2 loop does, so both give the same codes.
func QuantizeInt8(dst []int8, x []float32, scale float32) []int8 {
	inv := 1 / scale
	dst = dst[:len(x)]
	done := quantizeVec(dst, x, inv)
	for i, v := range x[done:] {
		dst[done+i] = quantizeOne(v, inv)
	}
	return dst
}

// quantizeOne is the code of one value (see QuantizeInt8).
func quantizeOne(v, inv float32) int8 {
	y := float32(v * inv)
	switch {
	case y != y: // NaN: no code means it; 0 keeps the products finite
		return 0
	case y > 127:
		return 127
	case y < -127:
		return -127
	}
	return int8(math.RoundToEven(float64(y)))
}

// An int8 kernel computes the 2x4 block C[r][j] = A_r·B_j for two
// activation rows a0, a1 and four weight rows starting at b (stride ldb),
// over kp (a multiple of int8Align) values, writing four int32 to c0 and
// to c1. sums holds the four weight rows' sums (used by the VNNI kernel).
// int8Block (per architecture) calls the one numbered kind directly, so
// that the pointers need not escape as they would through a func value.
const (
	int8Generic = iota
	int8AVX2
	int8VNNI
)

// int8Micro is the kernel chosen at init.
var int8Micro = int8Generic

// Int8Name reports which int8 kernel the run-time dispatch chose:
// "avx512vnni", "avx2" or "generic".
func Int8Name() string { return int8Name }

var int8Name = "generic"

// dotInt8 is the pure-Go dot product of two int8 rows.
func dotInt8(a, b []int8) int32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += int32(a[i]) * int32(b[i])
		s1 += int32(a[i+1]) * int32(b[i+1])
		s2 += int32(a[i+2]) * int32(b[i+2])
		s3 += int32(a[i+3]) * int32(b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += int32(a[i]) * int32(b[i])
	}
	return s0 + s1 + s2 + s3
}

// int8Ctx carries one Int8Gemm through the pool without allocating.
type int8Ctx struct {
	m    int
	a    []int8
	w    *Int8Weights
	c    []int32
	ldc  int
	kern int
	// spare, per participant, takes the outputs a block computes past
	// the matrix: the second row of a pair when m is odd (the kernel runs
	// the last row twice) and the padding rows of the last block of 4.
	spare [][2][4]int32
}

var freeInt8Ctx = make(freeList[*int8Ctx], 8)

// int8ParWork is the m*n*K (byte products) from which Int8Gemm splits rows
// across the pool: about 100 µs of one core on the AVX2 kernel.
const int8ParWork = 1 << 23

// Int8Gemm computes c[i*ldc+j] = Σ_p a[i*w.KPad+p] * w.Data[j*w.KPad+p] for
// i < m, j < w.N: the int32 product of m activation rows (each w.KPad
// int8 values, zero past w.K) by the transposed weights. Large products
// run on the worker pool, split by pairs of rows. Nothing allocates in
// steady state. It panics if a slice is too short.
func Int8Gemm(m int, a []int8, w *Int8Weights, c []int32, ldc int) {
	if m < 0 || len(a) < m*w.KPad || ldc < w.N || (m > 0 && len(c) < (m-1)*ldc+w.N) {
		panic(fmt.Sprintf("kernel.Int8Gemm: m=%d, len(a)=%d for rows of %d, len(c)=%d with ldc=%d for %d columns", m, len(a), w.KPad, len(c), ldc, w.N))
	}
	if m == 0 || w.N == 0 {
		return
	}
	g, ok := freeInt8Ctx.take()
	if !ok {
		g = new(int8Ctx)
	}
	g.m, g.a, g.w, g.c, g.ldc, g.kern = m, a, w, c, ldc, int8Micro
	pairs := (m + 1) / 2
	threads := maxThreads()
	if int64(m)*int64(w.N)*int64(w.KPad) < int8ParWork {
		threads = 1
	}
	for len(g.spare) < threads {
		g.spare = append(g.spare, [2][4]int32{})
	}
	chunks := min(pairs, chunksPerThread*threads)
	parallel(pairs, chunks, threads, g)
	g.a, g.w, g.c = nil, nil, nil
	freeInt8Ctx.put(g)
}

// run computes the row pairs [lo, hi).
func (g *int8Ctx) run(lo, hi, slot int) {
	w, kp, ldc := g.w, g.w.KPad, g.ldc
	spare := &g.spare[slot]
	for p := lo; p < hi; p++ {
		i0 := 2 * p
		i1 := min(i0+1, g.m-1)
		a0, a1 := g.a[i0*kp:(i0+1)*kp], g.a[i1*kp:(i1+1)*kp]
		c0, c1 := g.c[i0*ldc:i0*ldc+w.N], g.c[i1*ldc:i1*ldc+w.N]
		if g.kern == int8Generic {
			for j := 0; j < w.N; j++ {
				b := w.Data[j*kp : (j+1)*kp]
				c0[j] = dotInt8(a0, b)
				c1[j] = dotInt8(a1, b)
			}
			continue
		}
		for j := 0; j < w.N; j += 4 {
			out0, out1 := &spare[0][0], &spare[1][0]
			whole := j+4 <= w.N
			if whole {
				out0 = &c0[j]
				if i1 != i0 {
					out1 = &c1[j]
				}
			}
			int8Block(g.kern, kp, &a0[0], &a1[0], &w.Data[j*kp], kp, &w.Sums[j], out0, out1)
			if !whole {
				copy(c0[j:], spare[0][:w.N-j])
				if i1 != i0 {
					copy(c1[j:], spare[1][:w.N-j])
				}
			}
		}
	}
}
