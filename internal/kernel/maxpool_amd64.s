//go:build amd64 && !noasm

#include "textflag.h"

// Eight blocks at a time. A row's 16 inputs are two vectors P = a0 b0 a1
// b1 a2 b2 a3 b3 and Q = a4 b4 ... a7 b7 (a, b: a block's left and right
// entries). VSHUFPS $0x88 / $0xDD split them into a and b, each in the
// order 0 1 4 5 2 3 6 7 (VSHUFPS works within 128-bit lanes); VPERMPD
// $0xD8 maps between that order and the natural one, and VUNPCKLPS /
// VUNPCKHPS of two split vectors give back P and Q. NaN inputs are only
// detected (VCMPPS unordered, ORed into Y14): the Go side redoes the row.

// func maxPool2x2AVX2(dst, r0, r1 *float32, n int) (nan bool)
TEXT ·maxPool2x2AVX2(SB), NOSPLIT, $0-33
	MOVQ dst+0(FP), DI
	MOVQ r0+8(FP), SI
	MOVQ r1+16(FP), DX
	MOVQ n+24(FP), CX
	VXORPS Y14, Y14, Y14
	SHRQ $3, CX
	JZ   fdone

floop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS (DX), Y2
	VMOVUPS 32(DX), Y3
	VCMPPS  $3, Y2, Y0, Y4 // unordered: a NaN in either
	VCMPPS  $3, Y3, Y1, Y5
	VORPS   Y4, Y14, Y14
	VORPS   Y5, Y14, Y14
	VMAXPS  Y2, Y0, Y0 // column maxima, interleaved
	VMAXPS  Y3, Y1, Y1
	VSHUFPS $0x88, Y1, Y0, Y4 // left columns
	VSHUFPS $0xDD, Y1, Y0, Y5 // right columns
	VMAXPS  Y5, Y4, Y4
	VPERMPD $0xD8, Y4, Y4
	VMOVUPS Y4, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $32, DI
	DECQ CX
	JNZ  floop

fdone:
	VMOVMSKPS Y14, AX
	TESTL AX, AX
	SETNE nan+32(FP)
	VZEROUPPER
	RET

// func maxPool2x2BwdAVX2(d0, d1, x0, x1, gr *float32, n int) (nan bool)
// Per block with m its maximum: the first of a, b, c, e (c, e: the lower
// row) that is >= m gets g, the others 0.
TEXT ·maxPool2x2BwdAVX2(SB), NOSPLIT, $0-49
	MOVQ d0+0(FP), DI
	MOVQ d1+8(FP), R8
	MOVQ x0+16(FP), SI
	MOVQ x1+24(FP), DX
	MOVQ gr+32(FP), BX
	MOVQ n+40(FP), CX
	VXORPS Y14, Y14, Y14
	SHRQ $3, CX
	JZ   bdone

bloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS (DX), Y2
	VMOVUPS 32(DX), Y3
	VCMPPS  $3, Y2, Y0, Y4
	VCMPPS  $3, Y3, Y1, Y5
	VORPS   Y4, Y14, Y14
	VORPS   Y5, Y14, Y14
	VSHUFPS $0x88, Y1, Y0, Y4 // a
	VSHUFPS $0xDD, Y1, Y0, Y5 // b
	VSHUFPS $0x88, Y3, Y2, Y6 // c
	VSHUFPS $0xDD, Y3, Y2, Y7 // e
	VMAXPS  Y5, Y4, Y8
	VMAXPS  Y7, Y6, Y9
	VMAXPS  Y9, Y8, Y8 // m
	VCMPPS  $13, Y8, Y4, Y10 // a >= m
	VCMPPS  $13, Y8, Y5, Y11 // b >= m
	VANDNPS Y11, Y10, Y11    // ... and not a
	VORPS   Y11, Y10, Y12    // taken: a or b
	VCMPPS  $13, Y8, Y6, Y13 // c >= m
	VANDNPS Y13, Y12, Y13    // ... and not taken
	VORPS   Y13, Y12, Y12    // taken: a, b or c
	VPERMPD $0xD8, (BX), Y9  // g in the split order
	VANDPS  Y9, Y10, Y10     // da
	VANDPS  Y9, Y11, Y11     // db
	VANDPS  Y9, Y13, Y13     // dc
	VANDNPS Y9, Y12, Y12     // de: g where none before
	VUNPCKLPS Y11, Y10, Y0
	VUNPCKHPS Y11, Y10, Y1
	VUNPCKLPS Y12, Y13, Y2
	VUNPCKHPS Y12, Y13, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, (R8)
	VMOVUPS Y3, 32(R8)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $32, BX
	DECQ CX
	JNZ  bloop

bdone:
	VMOVMSKPS Y14, AX
	TESTL AX, AX
	SETNE nan+48(FP)
	VZEROUPPER
	RET
