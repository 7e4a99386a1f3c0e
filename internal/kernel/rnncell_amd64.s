//go:build amd64 && !noasm

#include "textflag.h"

// func lstmBackAVX2(p *[13]*float32, n int)
// See LSTMCellBackward. p holds the rows I, F, G, O, TanhC, CPrev, DH,
// DOut, DC, DI, DF, DG, DO; n is a multiple of 8. SI is the byte offset of
// the current 8 lanes in every row. Each product and difference is taken
// in the scalar loop's order, without FMA, so the lanes match it bit for
// bit.
TEXT ·lstmBackAVX2(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), CX
	SHRQ $3, CX
	JZ   done
	XORQ SI, SI
	MOVL $0x3f800000, DX
	VMOVD DX, X15
	VBROADCASTSS X15, Y15 // 1.0

loop:
	MOVQ 0(AX), R8
	VMOVUPS (R8)(SI*1), Y0 // i
	MOVQ 8(AX), R8
	VMOVUPS (R8)(SI*1), Y1 // f
	MOVQ 16(AX), R8
	VMOVUPS (R8)(SI*1), Y2 // g
	MOVQ 24(AX), R8
	VMOVUPS (R8)(SI*1), Y3 // o
	MOVQ 32(AX), R8
	VMOVUPS (R8)(SI*1), Y4 // tanh c
	MOVQ 48(AX), R8
	VMOVUPS (R8)(SI*1), Y6 // dh = DH + DOut
	MOVQ 56(AX), R8
	VADDPS  (R8)(SI*1), Y6, Y6

	// dc = DC + dh·o·(1 − t·t)
	VMULPS Y4, Y4, Y7
	VSUBPS Y7, Y15, Y7
	VMULPS Y3, Y6, Y8
	VMULPS Y7, Y8, Y8
	MOVQ   64(AX), R9
	VMOVUPS (R9)(SI*1), Y9
	VADDPS Y8, Y9, Y9 // dc

	// DI = dc·g·i·(1 − i)
	VMULPS Y2, Y9, Y10
	VMULPS Y0, Y10, Y10
	VSUBPS Y0, Y15, Y11
	VMULPS Y11, Y10, Y10
	MOVQ   72(AX), R8
	VMOVUPS Y10, (R8)(SI*1)

	// DF = dc·c₋₁·f·(1 − f)
	MOVQ   40(AX), R8
	VMULPS (R8)(SI*1), Y9, Y10
	VMULPS Y1, Y10, Y10
	VSUBPS Y1, Y15, Y11
	VMULPS Y11, Y10, Y10
	MOVQ   80(AX), R8
	VMOVUPS Y10, (R8)(SI*1)

	// DG = dc·i·(1 − g·g)
	VMULPS Y0, Y9, Y10
	VMULPS Y2, Y2, Y11
	VSUBPS Y11, Y15, Y11
	VMULPS Y11, Y10, Y10
	MOVQ   88(AX), R8
	VMOVUPS Y10, (R8)(SI*1)

	// DO = dh·t·o·(1 − o)
	VMULPS Y4, Y6, Y10
	VMULPS Y3, Y10, Y10
	VSUBPS Y3, Y15, Y11
	VMULPS Y11, Y10, Y10
	MOVQ   96(AX), R8
	VMOVUPS Y10, (R8)(SI*1)

	// DC = dc·f
	VMULPS Y1, Y9, Y9
	VMOVUPS Y9, (R9)(SI*1)

	ADDQ $32, SI
	DECQ CX
	JNZ  loop

done:
	VZEROUPPER
	RET

// func gruBackAVX2(p *[12]*float32, n int)
// See GRUCellBackward. p holds the rows R, Z, N, HN, HPrev, DH, DOut, DR,
// DZ, DHN, DN, NX; n is a multiple of 8; SI is the byte offset of the
// current 8 lanes. Same order of operations as the scalar loop, no FMA.
TEXT ·gruBackAVX2(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), CX
	SHRQ $3, CX
	JZ   gdone
	XORQ SI, SI
	MOVL $0x3f800000, DX
	VMOVD DX, X15
	VBROADCASTSS X15, Y15 // 1.0

gloop:
	MOVQ 0(AX), R8
	VMOVUPS (R8)(SI*1), Y0 // r
	MOVQ 8(AX), R8
	VMOVUPS (R8)(SI*1), Y1 // z
	MOVQ 16(AX), R8
	VMOVUPS (R8)(SI*1), Y2 // n
	MOVQ 40(AX), R8
	VMOVUPS (R8)(SI*1), Y3 // dh = DH + DOut
	MOVQ 48(AX), R8
	VADDPS  (R8)(SI*1), Y3, Y3

	// dn' = dh·(1 − z)·(1 − n·n)
	VSUBPS Y1, Y15, Y4
	VMULPS Y4, Y3, Y5
	VMULPS Y2, Y2, Y6
	VSUBPS Y6, Y15, Y6
	VMULPS Y6, Y5, Y5 // dn'

	// DZ = dh·(h₋₁ − n)·z·(1 − z)
	MOVQ   32(AX), R8
	VMOVUPS (R8)(SI*1), Y7
	VSUBPS Y2, Y7, Y7
	VMULPS Y7, Y3, Y7
	VMULPS Y1, Y7, Y7
	VMULPS Y4, Y7, Y7
	MOVQ   64(AX), R8
	VMOVUPS Y7, (R8)(SI*1)

	// DR = dn'·HN·r·(1 − r)
	MOVQ   24(AX), R8
	VMULPS (R8)(SI*1), Y5, Y7
	VMULPS Y0, Y7, Y7
	VSUBPS Y0, Y15, Y8
	VMULPS Y8, Y7, Y7
	MOVQ   56(AX), R8
	VMOVUPS Y7, (R8)(SI*1)

	// DHN = dn'·r, DN = dn', NX = dh·z
	VMULPS Y0, Y5, Y7
	MOVQ   72(AX), R8
	VMOVUPS Y7, (R8)(SI*1)
	MOVQ   80(AX), R8
	VMOVUPS Y5, (R8)(SI*1)
	VMULPS Y1, Y3, Y7
	MOVQ   88(AX), R8
	VMOVUPS Y7, (R8)(SI*1)

	ADDQ $32, SI
	DECQ CX
	JNZ  gloop

gdone:
	VZEROUPPER
	RET
