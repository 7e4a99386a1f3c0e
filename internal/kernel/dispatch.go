package kernel

import "unsafe"

// microKernel is one entry of the dispatch table: an mr x nr register-tile
// kernel over packed panels (A: k steps of mr values, B: k steps of nr values)
// computing C = A·B + beta*C on a full tile (beta==0 overwrites C).
//
// rowA and colA, where a CPU has them, are the same tile with A read in
// place (see directFn); nil means A is always packed.
type microKernel struct {
	name       string
	mr, nr     int
	fn         func(k int, a, b, c *float32, ldc int, beta float32)
	rowA, colA directFn
}

// directFn computes C = alpha*A·B + beta*C on a full mr x nr tile with B
// packed and A read where it lies: A(i,p) = a[i*lda+p] for rowA (A
// row-major), a[p*lda+i] for colA (A stored transposed).
type directFn func(k int, a *float32, lda int, b, c *float32, ldc int, alpha, beta float32)

// micro is the kernel chosen at init for this CPU; the pure-Go one unless an
// architecture file finds something better. With the per-architecture
// feature flags (hasAVX2 on amd64) and path variables it is the package's
// only mutable global besides the pool, written once during init.
var micro = microKernel{name: "generic", mr: 4, nr: 8, fn: kernGeneric}

// CPUName reports which micro-kernel the run-time dispatch chose: "avx512",
// "avx2" or "neon", or "generic" for the pure-Go one. It costs nothing.
func CPUName() string { return micro.name }

// kernGeneric is the portable 4x8 micro-kernel. Thirty-two scalar
// accumulators fit the register file of arm64 (and mostly of amd64); the
// compiler keeps them in registers because the loop body is straight-line.
func kernGeneric(k int, a, b, c *float32, ldc int, beta float32) {
	ap := unsafe.Slice(a, k*4)
	bp := unsafe.Slice(b, k*8)
	var c00, c01, c02, c03, c04, c05, c06, c07 float32
	var c10, c11, c12, c13, c14, c15, c16, c17 float32
	var c20, c21, c22, c23, c24, c25, c26, c27 float32
	var c30, c31, c32, c33, c34, c35, c36, c37 float32
	for p := 0; p < k; p++ {
		av := ap[p*4 : p*4+4 : p*4+4]
		bv := bp[p*8 : p*8+8 : p*8+8]
		a0, a1, a2, a3 := av[0], av[1], av[2], av[3]
		b0, b1, b2, b3, b4, b5, b6, b7 := bv[0], bv[1], bv[2], bv[3], bv[4], bv[5], bv[6], bv[7]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c04 += a0 * b4
		c05 += a0 * b5
		c06 += a0 * b6
		c07 += a0 * b7
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c14 += a1 * b4
		c15 += a1 * b5
		c16 += a1 * b6
		c17 += a1 * b7
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c24 += a2 * b4
		c25 += a2 * b5
		c26 += a2 * b6
		c27 += a2 * b7
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
		c34 += a3 * b4
		c35 += a3 * b5
		c36 += a3 * b6
		c37 += a3 * b7
	}
	cs := unsafe.Slice(c, 3*ldc+8)
	rows := [4][8]float32{
		{c00, c01, c02, c03, c04, c05, c06, c07},
		{c10, c11, c12, c13, c14, c15, c16, c17},
		{c20, c21, c22, c23, c24, c25, c26, c27},
		{c30, c31, c32, c33, c34, c35, c36, c37},
	}
	for i := range rows {
		row := cs[i*ldc : i*ldc+8 : i*ldc+8]
		if beta == 0 {
			row[0], row[1], row[2], row[3] = rows[i][0], rows[i][1], rows[i][2], rows[i][3]
			row[4], row[5], row[6], row[7] = rows[i][4], rows[i][5], rows[i][6], rows[i][7]
			continue
		}
		for j := range row {
			row[j] = rows[i][j] + beta*row[j]
		}
	}
}
