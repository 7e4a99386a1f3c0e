//go:build amd64 && !noasm

#include "textflag.h"

// AVX-512 transcendentals; see transc.go for the algorithms and their error
// bounds, and transc_amd64.go for the Go declarations. Each function loads
// its constants into Z11-Z31 once, walks 16 floats per iteration, and does
// the last 1-15 with an opmask (K1) so that loads and stores never touch
// memory outside the slices. Iterations are independent, so the out-of-
// order core overlaps the long dependency chain of one with the next.

DATA transc<>+0(SB)/4, $0x3fb8aa3b  // log2(e)
DATA transc<>+4(SB)/4, $0xbf318000  // -ln2 high part (0.693359375)
DATA transc<>+8(SB)/4, $0x395e8083  // -ln2 low part
DATA transc<>+12(SB)/4, $0x39506967 // exp polynomial P0..P5
DATA transc<>+16(SB)/4, $0x3ab743ce
DATA transc<>+20(SB)/4, $0x3c088908
DATA transc<>+24(SB)/4, $0x3d2aa9c1
DATA transc<>+28(SB)/4, $0x3e2aaaaa
DATA transc<>+32(SB)/4, $0x3f000000
DATA transc<>+36(SB)/4, $0x3f800000 // 1
DATA transc<>+40(SB)/4, $0x42b20000 // 89: e^89 overflows
DATA transc<>+44(SB)/4, $0xc2dc0000 // -110: e^-110 underflows to 0
DATA transc<>+48(SB)/4, $0x40000000 // 2
DATA transc<>+52(SB)/4, $0x3f200000 // 0.625: tanh polynomial below, exp above
DATA transc<>+56(SB)/4, $0xbbbaf0ea // tanh polynomial T0..T4
DATA transc<>+60(SB)/4, $0x3ca9134e
DATA transc<>+64(SB)/4, $0xbd5c1e2d
DATA transc<>+68(SB)/4, $0x3e088393
DATA transc<>+72(SB)/4, $0xbeaaaa99
DATA transc<>+76(SB)/4, $0x7fffffff // |x| mask
DATA transc<>+80(SB)/4, $0x80000000 // sign mask
GLOBL transc<>(SB), RODATA|NOPTR, $84

#define LOADCONSTS \
	VBROADCASTSS transc<>+0(SB), Z31; \
	VBROADCASTSS transc<>+4(SB), Z30; \
	VBROADCASTSS transc<>+8(SB), Z29; \
	VBROADCASTSS transc<>+12(SB), Z28; \
	VBROADCASTSS transc<>+16(SB), Z27; \
	VBROADCASTSS transc<>+20(SB), Z26; \
	VBROADCASTSS transc<>+24(SB), Z25; \
	VBROADCASTSS transc<>+28(SB), Z24; \
	VBROADCASTSS transc<>+32(SB), Z23; \
	VBROADCASTSS transc<>+36(SB), Z22; \
	VBROADCASTSS transc<>+40(SB), Z21; \
	VBROADCASTSS transc<>+44(SB), Z20; \
	VBROADCASTSS transc<>+48(SB), Z19; \
	VBROADCASTSS transc<>+76(SB), Z18; \
	VBROADCASTSS transc<>+52(SB), Z17; \
	VBROADCASTSS transc<>+56(SB), Z16; \
	VBROADCASTSS transc<>+60(SB), Z15; \
	VBROADCASTSS transc<>+64(SB), Z14; \
	VBROADCASTSS transc<>+68(SB), Z13; \
	VBROADCASTSS transc<>+72(SB), Z12; \
	VBROADCASTSS transc<>+80(SB), Z11

// EXP sets X = e^X using N, R, P as temporaries. The clamp keeps NaN (MINPS
// and MAXPS return their second source, here X, when either is NaN); n is
// rounded to nearest; VSCALEFPS computes p·2^n with one rounding, giving
// +Inf on overflow and correctly scaled denormals or 0 on underflow.
#define EXP(X, N, R, P) \
	VMINPS X, Z21, X; \
	VMAXPS X, Z20, X; \
	VMULPS Z31, X, N; \
	VRNDSCALEPS $0, N, N; \
	VMOVAPS X, R; \
	VFMADD231PS Z30, N, R; \
	VFMADD231PS Z29, N, R; \
	VMOVAPS Z28, P; \
	VFMADD213PS Z27, R, P; \
	VFMADD213PS Z26, R, P; \
	VFMADD213PS Z25, R, P; \
	VFMADD213PS Z24, R, P; \
	VFMADD213PS Z23, R, P; \
	VMULPS R, R, X; \
	VFMADD213PS R, X, P; \
	VADDPS Z22, P, P; \
	VSCALEFPS N, P, X

// TANH sets X = tanh(X) using A, E, N, R, P as temporaries: both branches
// on a = |x| (the polynomial below 0.625, 1 - 2/(e^2a + 1) above), a blend
// under K2, then x's sign ORed in (so tanh(-0) = -0 and NaN stays NaN).
#define TANH(X, A, E, N, R, P) \
	VPANDD Z18, X, A; \
	VADDPS A, A, E; \
	EXP(E, N, R, P); \
	VADDPS Z22, E, E; \
	VDIVPS E, Z19, E; \
	VSUBPS E, Z22, E; \
	VMULPS A, A, N; \
	VMOVAPS Z16, R; \
	VFMADD213PS Z15, N, R; \
	VFMADD213PS Z14, N, R; \
	VFMADD213PS Z13, N, R; \
	VFMADD213PS Z12, N, R; \
	VMULPS N, R, R; \
	VFMADD213PS A, A, R; \
	VCMPPS $1, Z17, A, K2; \
	VMOVAPS R, K2, E; \
	VPXORD A, X, X; \
	VPORD E, X, X

// SIGMOID sets X = 1/(1 + e^-X) using A, N, R, P as temporaries, as
// e^-|x| = A, then 1/(1+A), times A where x's sign bit is set (K2): the
// exponential never overflows, and large negative x gives e^x itself,
// denormals included, rather than 1/Inf.
#define SIGMOID(X, A, N, R, P) \
	VPORD Z11, X, A; \
	EXP(A, N, R, P); \
	VADDPS Z22, A, N; \
	VDIVPS N, Z22, N; \
	VPTESTMD Z11, X, K2; \
	VMULPS A, N, K2, N; \
	VMOVAPS N, X

// TAILMASK sets K1 to the low CX bits (CX in 1..15).
#define TAILMASK \
	MOVL $1, AX; \
	SHLL CX, AX; \
	DECL AX; \
	KMOVW AX, K1

// HSUM leaves the sum of Z9's 16 lanes in X0.
#define HSUM \
	VEXTRACTF64X4 $1, Z9, Y0; \
	VADDPS Y9, Y0, Y0; \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS X1, X0, X0; \
	VMOVHLPS X0, X0, X1; \
	VADDPS X1, X0, X0; \
	VMOVSHDUP X0, X1; \
	VADDSS X1, X0, X0

DATA erfc<>+0(SB)/4, $0x7fffffff // |x| mask
DATA erfc<>+4(SB)/4, $0x80000000 // sign mask
DATA erfc<>+8(SB)/4, $0x3f800000 // 1
DATA erfc<>+12(SB)/4, $0x40800000 // 4: erf(4) rounds to 1
DATA erfc<>+16(SB)/4, $0xaf95df0b // numerator A13..A1
DATA erfc<>+20(SB)/4, $0x32edffee
DATA erfc<>+24(SB)/4, $0xb60cff51
DATA erfc<>+28(SB)/4, $0xb86ec2d2
DATA erfc<>+32(SB)/4, $0xba40ac63
DATA erfc<>+36(SB)/4, $0xbb41a1f6
DATA erfc<>+40(SB)/4, $0xbc83dbd4
DATA erfc<>+44(SB)/4, $0xb77460cd // denominator B8..B0
DATA erfc<>+48(SB)/4, $0xb95fbd29
DATA erfc<>+52(SB)/4, $0xbadc924e
DATA erfc<>+56(SB)/4, $0xbbf19bf8
DATA erfc<>+60(SB)/4, $0xbc69b6a7
GLOBL erfc<>(SB), RODATA|NOPTR, $64

#define ERFCONSTS \
	VBROADCASTSS erfc<>+0(SB), Z31; \
	VBROADCASTSS erfc<>+4(SB), Z30; \
	VBROADCASTSS erfc<>+8(SB), Z29; \
	VBROADCASTSS erfc<>+12(SB), Z28; \
	VBROADCASTSS erfc<>+16(SB), Z27; \
	VBROADCASTSS erfc<>+20(SB), Z26; \
	VBROADCASTSS erfc<>+24(SB), Z25; \
	VBROADCASTSS erfc<>+28(SB), Z24; \
	VBROADCASTSS erfc<>+32(SB), Z23; \
	VBROADCASTSS erfc<>+36(SB), Z22; \
	VBROADCASTSS erfc<>+40(SB), Z21; \
	VBROADCASTSS erfc<>+44(SB), Z20; \
	VBROADCASTSS erfc<>+48(SB), Z19; \
	VBROADCASTSS erfc<>+52(SB), Z18; \
	VBROADCASTSS erfc<>+56(SB), Z17; \
	VBROADCASTSS erfc<>+60(SB), Z16

// ERF sets X = erf(X) using A, S, P, Q as temporaries: the rational
// (P(x²)/Q(x²))·|x| (divided first so that tiny x keeps its relative
// accuracy) on |x| clamped to 4 (MINPS keeps NaN), capped at 1, with x's
// sign put back.
#define ERF(X, A, S, P, Q) \
	VPANDD Z31, X, A; \
	VPANDD Z30, X, X; \
	VMINPS A, Z28, A; \
	VMULPS A, A, S; \
	VMOVAPS Z27, P; \
	VFMADD213PS Z26, S, P; \
	VFMADD213PS Z25, S, P; \
	VFMADD213PS Z24, S, P; \
	VFMADD213PS Z23, S, P; \
	VFMADD213PS Z22, S, P; \
	VFMADD213PS Z21, S, P; \
	VMOVAPS Z20, Q; \
	VFMADD213PS Z19, S, Q; \
	VFMADD213PS Z18, S, Q; \
	VFMADD213PS Z17, S, Q; \
	VFMADD213PS Z16, S, Q; \
	VDIVPS Q, P, P; \
	VMULPS A, P, P; \
	VMINPS P, Z29, P; \
	VPORD P, X, X

// func expAVX512(dst, x []float32)
TEXT ·expAVX512(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	LOADCONSTS
loop:
	CMPQ CX, $16
	JB   tail
	VMOVUPS (SI), Z0
	EXP(Z0, Z1, Z2, Z3)
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  loop
tail:
	TESTQ CX, CX
	JZ    done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	EXP(Z0, Z1, Z2, Z3)
	VMOVUPS Z0, K1, (DI)
done:
	VZEROUPPER
	RET

// func tanhAVX512(dst, x []float32)
TEXT ·tanhAVX512(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	LOADCONSTS
loop:
	CMPQ CX, $16
	JB   tail
	VMOVUPS (SI), Z0
	TANH(Z0, Z1, Z2, Z3, Z4, Z5)
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  loop
tail:
	TESTQ CX, CX
	JZ    done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	TANH(Z0, Z1, Z2, Z3, Z4, Z5)
	VMOVUPS Z0, K1, (DI)
done:
	VZEROUPPER
	RET

// func sigmoidAVX512(dst, x []float32)
TEXT ·sigmoidAVX512(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	LOADCONSTS
loop:
	CMPQ CX, $16
	JB   tail
	VMOVUPS (SI), Z0
	SIGMOID(Z0, Z1, Z2, Z3, Z4)
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  loop
tail:
	TESTQ CX, CX
	JZ    done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	SIGMOID(Z0, Z1, Z2, Z3, Z4)
	VMOVUPS Z0, K1, (DI)
done:
	VZEROUPPER
	RET

// func expSumAVX512(dst, x []float32, shift float32) float32
TEXT ·expSumAVX512(SB), NOSPLIT, $0-60
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	LOADCONSTS
	VBROADCASTSS shift+48(FP), Z10
	VPXORD Z9, Z9, Z9
loop:
	CMPQ CX, $16
	JB   tail
	VMOVUPS (SI), Z0
	VSUBPS Z10, Z0, Z0
	EXP(Z0, Z1, Z2, Z3)
	VMOVUPS Z0, (DI)
	VADDPS Z0, Z9, Z9
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  loop
tail:
	TESTQ CX, CX
	JZ    done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VSUBPS Z10, Z0, Z0
	EXP(Z0, Z1, Z2, Z3)
	VMOVUPS Z0, K1, (DI)
	VADDPS Z0, Z9, K1, Z9
done:
	HSUM
	VZEROUPPER
	MOVSS X0, ret+56(FP)
	RET

// func sumExpAVX512(x []float32, shift float32) float32
TEXT ·sumExpAVX512(SB), NOSPLIT, $0-36
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	LOADCONSTS
	VBROADCASTSS shift+24(FP), Z10
	VPXORD Z9, Z9, Z9
loop:
	CMPQ CX, $16
	JB   tail
	VMOVUPS (SI), Z0
	VSUBPS Z10, Z0, Z0
	EXP(Z0, Z1, Z2, Z3)
	VADDPS Z0, Z9, Z9
	ADDQ $64, SI
	SUBQ $16, CX
	JMP  loop
tail:
	TESTQ CX, CX
	JZ    done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VSUBPS Z10, Z0, Z0
	EXP(Z0, Z1, Z2, Z3)
	VADDPS Z0, Z9, K1, Z9
done:
	HSUM
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// func erfAVX512(dst, x []float32)
TEXT ·erfAVX512(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	ERFCONSTS
loop:
	CMPQ CX, $16
	JB   tail
	VMOVUPS (SI), Z0
	ERF(Z0, Z1, Z2, Z3, Z4)
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  loop
tail:
	TESTQ CX, CX
	JZ    done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	ERF(Z0, Z1, Z2, Z3, Z4)
	VMOVUPS Z0, K1, (DI)
done:
	VZEROUPPER
	RET
