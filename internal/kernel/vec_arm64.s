//go:build arm64 && !noasm

#include "textflag.h"

// NEON vector helpers (vec_arm64.go). Each takes a length that is a
// multiple of 4 (the Go wrapper runs the last 0-3 elements), works 16
// floats per iteration, then 4 at a time. Go's assembler has no vector
// FADD, so sums are FMLAs against a vector of ones: x*1 is exact, so each
// is one correctly rounded add, the same as FADD.

// func axpyNEON(alpha float32, x, y []float32)
TEXT ·axpyNEON(SB), NOSPLIT, $0-56
	FMOVS alpha+0(FP), F0
	VDUP  V0.S[0], V0.S4
	MOVD  x_base+8(FP), R0
	MOVD  y_base+32(FP), R1
	MOVD  y_len+40(FP), R2
	LSR   $4, R2, R3
	AND   $15, R2, R4
	LSR   $2, R4
	CBZ   R3, axpyrem

axpyloop:
	VLD1.P 64(R0), [V1.S4, V2.S4, V3.S4, V4.S4]
	VLD1   (R1), [V5.S4, V6.S4, V7.S4, V8.S4]
	VFMLA  V0.S4, V1.S4, V5.S4
	VFMLA  V0.S4, V2.S4, V6.S4
	VFMLA  V0.S4, V3.S4, V7.S4
	VFMLA  V0.S4, V4.S4, V8.S4
	VST1.P [V5.S4, V6.S4, V7.S4, V8.S4], 64(R1)
	SUBS   $1, R3
	BNE    axpyloop

axpyrem:
	CBZ R4, axpydone

axpyloop4:
	VLD1.P 16(R0), [V1.S4]
	VLD1   (R1), [V5.S4]
	VFMLA  V0.S4, V1.S4, V5.S4
	VST1.P [V5.S4], 16(R1)
	SUBS   $1, R4
	BNE    axpyloop4

axpydone:
	RET

// hsum4 leaves (V0[0]+V0[1]) + (V0[2]+V0[3]) in F0, the order dotGo and
// sumGo combine their four accumulators in.
#define HSUM4 \
	VMOV  V0.S[1], V1.S[0] \
	VMOV  V0.S[2], V2.S[0] \
	VMOV  V0.S[3], V3.S[0] \
	FADDS F1, F0, F0       \
	FADDS F3, F2, F2       \
	FADDS F2, F0, F0

// func dotNEON(x, y []float32) float32
TEXT ·dotNEON(SB), NOSPLIT, $0-52
	MOVD  x_base+0(FP), R0
	MOVD  x_len+8(FP), R2
	MOVD  y_base+24(FP), R1
	FMOVS $(1.0), F31
	VDUP  V31.S[0], V31.S4
	VEOR  V0.B16, V0.B16, V0.B16
	VEOR  V1.B16, V1.B16, V1.B16
	VEOR  V2.B16, V2.B16, V2.B16
	VEOR  V3.B16, V3.B16, V3.B16
	LSR   $4, R2, R3
	AND   $15, R2, R4
	LSR   $2, R4
	CBZ   R3, dotrem

dotloop:
	VLD1.P 64(R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P 64(R1), [V16.S4, V17.S4, V18.S4, V19.S4]
	VFMLA  V4.S4, V16.S4, V0.S4
	VFMLA  V5.S4, V17.S4, V1.S4
	VFMLA  V6.S4, V18.S4, V2.S4
	VFMLA  V7.S4, V19.S4, V3.S4
	SUBS   $1, R3
	BNE    dotloop

dotrem:
	CBZ R4, dotreduce

dotloop4:
	VLD1.P 16(R0), [V4.S4]
	VLD1.P 16(R1), [V16.S4]
	VFMLA  V4.S4, V16.S4, V0.S4
	SUBS   $1, R4
	BNE    dotloop4

dotreduce:
	VFMLA V31.S4, V1.S4, V0.S4
	VFMLA V31.S4, V3.S4, V2.S4
	VFMLA V31.S4, V2.S4, V0.S4
	HSUM4
	FMOVS F0, ret+48(FP)
	RET

// func sumNEON(x []float32) float32
TEXT ·sumNEON(SB), NOSPLIT, $0-28
	MOVD  x_base+0(FP), R0
	MOVD  x_len+8(FP), R2
	FMOVS $(1.0), F31
	VDUP  V31.S[0], V31.S4
	VEOR  V0.B16, V0.B16, V0.B16
	VEOR  V1.B16, V1.B16, V1.B16
	VEOR  V2.B16, V2.B16, V2.B16
	VEOR  V3.B16, V3.B16, V3.B16
	LSR   $4, R2, R3
	AND   $15, R2, R4
	LSR   $2, R4
	CBZ   R3, sumrem

sumloop:
	VLD1.P 64(R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	VFMLA  V31.S4, V4.S4, V0.S4
	VFMLA  V31.S4, V5.S4, V1.S4
	VFMLA  V31.S4, V6.S4, V2.S4
	VFMLA  V31.S4, V7.S4, V3.S4
	SUBS   $1, R3
	BNE    sumloop

sumrem:
	CBZ R4, sumreduce

sumloop4:
	VLD1.P 16(R0), [V4.S4]
	VFMLA  V31.S4, V4.S4, V0.S4
	SUBS   $1, R4
	BNE    sumloop4

sumreduce:
	VFMLA V31.S4, V1.S4, V0.S4
	VFMLA V31.S4, V3.S4, V2.S4
	VFMLA V31.S4, V2.S4, V0.S4
	HSUM4
	FMOVS F0, ret+24(FP)
	RET
