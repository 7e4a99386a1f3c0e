//go:build amd64 && !noasm

#include "textflag.h"

// func reluForwardAVX2(dst, x []float32)
// dst = max(0, x) + 0: VMAXPS returns its second source when either is
// NaN, so x goes second and NaN propagates; adding +0 turns -0 into +0.
// len(dst) is a multiple of 8.
TEXT ·reluForwardAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	VXORPS Y15, Y15, Y15
	SHRQ $3, CX
	JZ   fdone

floop:
	VMOVUPS (SI), Y0
	VMAXPS  Y0, Y15, Y1 // Y1 = max(0, x), x when NaN
	VADDPS  Y15, Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  floop

fdone:
	VZEROUPPER
	RET

// func reluBackwardAVX2(dst, g, y []float32)
// dst = g where y != 0 (unordered-not-equal, so NaN passes), else 0.
// len(dst) is a multiple of 8.
TEXT ·reluBackwardAVX2(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ g_base+24(FP), SI
	MOVQ y_base+48(FP), DX
	VXORPS Y15, Y15, Y15
	SHRQ $3, CX
	JZ   bdone

bloop:
	VMOVUPS (DX), Y0
	VCMPPS  $4, Y15, Y0, Y1 // y != 0 (NEQ_UQ)
	VANDPS  (SI), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ  bloop

bdone:
	VZEROUPPER
	RET
