package kernel

// bf16 products on CPUs without bf16 units.
//
// A bfloat16 has 8 significant bits, so the product of two of them has at
// most 16 and is exact in float32: what the bf16 instructions compute is
// float32 sums of exact products of rounded operands. Rounding copies of
// both operands and handing them to Sgemm therefore gives the same
// products; only the order of the float32 sums differs from the hardware
// (and denormal sums are not flushed). It is slower than Sgemm (two extra
// passes over the operands), but it lets bf16 training and inference run,
// and be tested for accuracy, on any CPU.

// bf16Scratch holds the rounded copies of one call's operands; recycled so
// that steady-state calls allocate nothing.
type bf16Scratch struct{ a, b []float32 }

var freeBF16Scratch = make(freeList[*bf16Scratch], 4)

// sgemmBF16Rounded is SgemmBF16 by emulation: op(A) (times alpha) and
// op(B) rounded to bfloat16 as ToBF16 rounds (to nearest even, denormals
// to zero) into scratch copies of the same layout, then Sgemm with alpha 1.
// The shapes are already checked.
func sgemmBF16Rounded(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 || k == 0 || alpha == 0 {
		Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	ar, ac, br, bc := storedShapes(transA, transB, m, n, k)
	s, ok := freeBF16Scratch.take()
	if !ok {
		s = new(bf16Scratch)
	}
	s.a = roundBF16Matrix(s.a, a, lda, ar, ac, alpha)
	s.b = roundBF16Matrix(s.b, b, ldb, br, bc, 1)
	Sgemm(transA, transB, m, n, k, 1, s.a, ac, s.b, bc, beta, c, ldc)
	freeBF16Scratch.put(s)
}

// roundBF16Matrix writes the rows x cols matrix src (row stride ld) times
// alpha, each element rounded to bfloat16 and widened back, into dst
// (grown when short) with row stride cols, and returns dst.
func roundBF16Matrix(dst, src []float32, ld, rows, cols int, alpha float32) []float32 {
	if cap(dst) < rows*cols {
		dst = make([]float32, rows*cols)
	}
	dst = dst[:rows*cols]
	for i := 0; i < rows; i++ {
		RoundBF16(dst[i*cols:(i+1)*cols], src[i*ld:i*ld+cols], alpha)
	}
	return dst
}

// RoundBF16 sets dst[i] to alpha*src[i] rounded to bfloat16 (ToBF16) and
// widened back to float32; dst and src may be the same slice. AVX2 does
// 8 elements at a time (bit for bit the same), Go the rest.
func RoundBF16(dst, src []float32, alpha float32) {
	dst = dst[:len(src)]
	done := roundBF16Vec(dst, src, alpha)
	dst, src = dst[done:], src[done:]
	if alpha == 1 {
		for i, x := range src {
			dst[i] = FromBF16(ToBF16(x))
		}
		return
	}
	for i, x := range src {
		dst[i] = FromBF16(ToBF16(alpha * x))
	}
}
