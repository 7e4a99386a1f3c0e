//go:build amd64 && !noasm

#include "textflag.h"

// func int8x2x4AVX2(kp int, a0, a1, b *int8, ldb int, sums, c0, c1 *int32)
// Two activation rows by four weight rows, kp (a multiple of 16) int8
// values each: 16 bytes per step are sign-extended to int16 (VPMOVSXBW)
// and multiplied pairwise into int32 (VPMADDWD). Y0-Y3 accumulate row a0
// against b0-b3, Y4-Y7 row a1. sums is unused (the VNNI kernel needs it).
TEXT ·int8x2x4AVX2(SB), NOSPLIT, $0-64
	MOVQ kp+0(FP), CX
	MOVQ a0+8(FP), SI
	MOVQ a1+16(FP), R11
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R9
	LEAQ (DI)(R9*1), R12
	LEAQ (R12)(R9*1), R13
	LEAQ (R13)(R9*1), BX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	XORQ AX, AX

loop:
	VPMOVSXBW (SI)(AX*1), Y8
	VPMOVSXBW (R11)(AX*1), Y9

	VPMOVSXBW (DI)(AX*1), Y10
	VPMADDWD  Y10, Y8, Y11
	VPADDD    Y11, Y0, Y0
	VPMADDWD  Y10, Y9, Y11
	VPADDD    Y11, Y4, Y4

	VPMOVSXBW (R12)(AX*1), Y10
	VPMADDWD  Y10, Y8, Y11
	VPADDD    Y11, Y1, Y1
	VPMADDWD  Y10, Y9, Y11
	VPADDD    Y11, Y5, Y5

	VPMOVSXBW (R13)(AX*1), Y10
	VPMADDWD  Y10, Y8, Y11
	VPADDD    Y11, Y2, Y2
	VPMADDWD  Y10, Y9, Y11
	VPADDD    Y11, Y6, Y6

	VPMOVSXBW (BX)(AX*1), Y10
	VPMADDWD  Y10, Y8, Y11
	VPADDD    Y11, Y3, Y3
	VPMADDWD  Y10, Y9, Y11
	VPADDD    Y11, Y7, Y7

	ADDQ $16, AX
	CMPQ AX, CX
	JLT  loop

	// Horizontal sums: hadd(acc0, acc1), hadd(acc2, acc3), hadd of those
	// leaves [acc0, acc1, acc2, acc3] partial sums in each 128-bit lane.
	MOVQ    c0+48(FP), DX
	VPHADDD Y1, Y0, Y0
	VPHADDD Y3, Y2, Y2
	VPHADDD Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD  X1, X0, X0
	VMOVDQU X0, (DX)

	MOVQ    c1+56(FP), DX
	VPHADDD Y5, Y4, Y4
	VPHADDD Y7, Y6, Y6
	VPHADDD Y6, Y4, Y4
	VEXTRACTI128 $1, Y4, X5
	VPADDD  X5, X4, X4
	VMOVDQU X4, (DX)
	VZEROUPPER
	RET

// func int8x2x4VNNI(kp int, a0, a1, b *int8, ldb int, sums, c0, c1 *int32)
// The AVX512-VNNI version: VPDPBUSD multiplies unsigned bytes by signed
// bytes, four per int32 lane, 64 per instruction. The activations are made
// unsigned by flipping their sign bit (a XOR 0x80 = a+128), so each sum
// holds 128·(row sum of b) too, which is subtracted at the end.
TEXT ·int8x2x4VNNI(SB), NOSPLIT, $0-64
	MOVQ kp+0(FP), CX
	MOVQ a0+8(FP), SI
	MOVQ a1+16(FP), R11
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R9
	LEAQ (DI)(R9*1), R12
	LEAQ (R12)(R9*1), R13
	LEAQ (R13)(R9*1), BX
	MOVL $0x80808080, AX
	VPBROADCASTD AX, Z15
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	XORQ AX, AX

vloop:
	VPXORD   (SI)(AX*1), Z15, Z8
	VPXORD   (R11)(AX*1), Z15, Z9
	VMOVDQU8 (DI)(AX*1), Z10
	VPDPBUSD Z10, Z8, Z0
	VPDPBUSD Z10, Z9, Z4
	VMOVDQU8 (R12)(AX*1), Z10
	VPDPBUSD Z10, Z8, Z1
	VPDPBUSD Z10, Z9, Z5
	VMOVDQU8 (R13)(AX*1), Z10
	VPDPBUSD Z10, Z8, Z2
	VPDPBUSD Z10, Z9, Z6
	VMOVDQU8 (BX)(AX*1), Z10
	VPDPBUSD Z10, Z8, Z3
	VPDPBUSD Z10, Z9, Z7
	ADDQ $64, AX
	CMPQ AX, CX
	JLT  vloop

	// Fold each zmm to a ymm, then as in the AVX2 kernel.
	VEXTRACTI64X4 $1, Z0, Y8
	VPADDD Y8, Y0, Y0
	VEXTRACTI64X4 $1, Z1, Y8
	VPADDD Y8, Y1, Y1
	VEXTRACTI64X4 $1, Z2, Y8
	VPADDD Y8, Y2, Y2
	VEXTRACTI64X4 $1, Z3, Y8
	VPADDD Y8, Y3, Y3
	VEXTRACTI64X4 $1, Z4, Y8
	VPADDD Y8, Y4, Y4
	VEXTRACTI64X4 $1, Z5, Y8
	VPADDD Y8, Y5, Y5
	VEXTRACTI64X4 $1, Z6, Y8
	VPADDD Y8, Y6, Y6
	VEXTRACTI64X4 $1, Z7, Y8
	VPADDD Y8, Y7, Y7

	// 128·sums, to take back the bias of the activations.
	MOVQ    sums+40(FP), R8
	VMOVDQU (R8), X9
	VPSLLD  $7, X9, X9

	MOVQ    c0+48(FP), DX
	VPHADDD Y1, Y0, Y0
	VPHADDD Y3, Y2, Y2
	VPHADDD Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD  X1, X0, X0
	VPSUBD  X9, X0, X0
	VMOVDQU X0, (DX)

	MOVQ    c1+56(FP), DX
	VPHADDD Y5, Y4, Y4
	VPHADDD Y7, Y6, Y6
	VPHADDD Y6, Y4, Y4
	VEXTRACTI128 $1, Y4, X5
	VPADDD  X5, X4, X4
	VPSUBD  X9, X4, X4
	VMOVDQU X4, (DX)
	VZEROUPPER
	RET

// func quantizeAVX2(dst []int8, x []float32, inv float32)
// 32 floats a step: y = x·inv, NaN lanes zeroed (VCMPPS unordered +
// VANDNPS), clamped to [-127, 127], rounded to nearest even by VCVTPS2DQ
// (MXCSR's default mode, which Go keeps), then packed to bytes; the packs
// interleave 128-bit lanes, which VPERMQ puts back in order.
TEXT ·quantizeAVX2(SB), NOSPLIT, $0-52
	MOVQ dst_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	VBROADCASTSS inv+48(FP), Y15
	MOVL $0x42fe0000, AX // 127.0
	MOVL AX, X14
	VBROADCASTSS X14, Y14
	MOVL $0xc2fe0000, AX // -127.0
	MOVL AX, X13
	VBROADCASTSS X13, Y13
	XORQ AX, AX

qloop:
	VMULPS (SI)(AX*4), Y15, Y0
	VMULPS 32(SI)(AX*4), Y15, Y1
	VMULPS 64(SI)(AX*4), Y15, Y2
	VMULPS 96(SI)(AX*4), Y15, Y3
	VCMPPS $3, Y0, Y0, Y4
	VANDNPS Y0, Y4, Y0
	VCMPPS $3, Y1, Y1, Y4
	VANDNPS Y1, Y4, Y1
	VCMPPS $3, Y2, Y2, Y4
	VANDNPS Y2, Y4, Y2
	VCMPPS $3, Y3, Y3, Y4
	VANDNPS Y3, Y4, Y3
	VMINPS Y14, Y0, Y0
	VMINPS Y14, Y1, Y1
	VMINPS Y14, Y2, Y2
	VMINPS Y14, Y3, Y3
	VMAXPS Y13, Y0, Y0
	VMAXPS Y13, Y1, Y1
	VMAXPS Y13, Y2, Y2
	VMAXPS Y13, Y3, Y3
	VCVTPS2DQ Y0, Y0
	VCVTPS2DQ Y1, Y1
	VCVTPS2DQ Y2, Y2
	VCVTPS2DQ Y3, Y3
	VPACKSSDW Y1, Y0, Y0 // lanes: [x0 lo, x1 lo | x0 hi, x1 hi]
	VPACKSSDW Y3, Y2, Y2
	VPACKSSWB Y2, Y0, Y0 // [x0l x1l x2l x3l | x0h x1h x2h x3h] in dwords
	VMOVDQU ·quantPerm<>(SB), Y5
	VPERMD Y0, Y5, Y0
	VMOVDQU Y0, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, CX
	JLT  qloop
	VZEROUPPER
	RET

// quantPerm restores element order after the two packs: the dwords come out
// as x0[0:4] x1[0:4] x2[0:4] x3[0:4] x0[4:8] x1[4:8] x2[4:8] x3[4:8].
DATA ·quantPerm<>+0(SB)/4, $0
DATA ·quantPerm<>+4(SB)/4, $4
DATA ·quantPerm<>+8(SB)/4, $1
DATA ·quantPerm<>+12(SB)/4, $5
DATA ·quantPerm<>+16(SB)/4, $2
DATA ·quantPerm<>+20(SB)/4, $6
DATA ·quantPerm<>+24(SB)/4, $3
DATA ·quantPerm<>+28(SB)/4, $7
GLOBL ·quantPerm<>(SB), RODATA|NOPTR, $32
