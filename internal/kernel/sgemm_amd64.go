//go:build amd64 && !noasm

package kernel

import "golang.org/x/sys/cpu"

//go:generate go run gen_asm.go

// kernAVX512 computes a 12x32 tile of C from packed panels with zmm FMAs:
// C = A·B + beta*C (beta==0: C is overwritten and never read). ldc in elements.
//
//go:noescape
func kernAVX512(k int, a *float32, b *float32, c *float32, ldc int, beta float32)

// kernAVX2 is the 6x16 ymm AVX2+FMA version of kernAVX512.
//
//go:noescape
func kernAVX2(k int, a *float32, b *float32, c *float32, ldc int, beta float32)

// kernAVX2RowA is kernAVX2 reading a row-major A in place (directFn).
//
//go:noescape
func kernAVX2RowA(k int, a *float32, lda int, b *float32, c *float32, ldc int, alpha, beta float32)

// kernAVX2ColA is kernAVX2 reading a transposed A in place (directFn).
//
//go:noescape
func kernAVX2ColA(k int, a *float32, lda int, b *float32, c *float32, ldc int, alpha, beta float32)

// hasAVX2 enables the AVX2 vector helpers (vec_amd64.go, relu_amd64.go);
// set once at init.
var hasAVX2 bool

func init() {
	switch {
	case cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL:
		micro = microKernel{name: "avx512", mr: 12, nr: 32, fn: kernAVX512}
		hasAVX2 = true
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		micro = microKernel{name: "avx2", mr: 6, nr: 16, fn: kernAVX2, rowA: kernAVX2RowA, colA: kernAVX2ColA}
		hasAVX2 = true
	}
}
