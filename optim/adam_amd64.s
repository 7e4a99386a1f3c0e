//go:build amd64 && !noasm

#include "textflag.h"

// func adamAVX2(w, g, m, v []float32, p *adamParams)
//
// Per element, 8 lanes at a time, with the roundings of the scalar loop
// in adam.go:
//   g = fma(wd, w, g)        (wd is 0 unless Adam's L2 weight decay)
//   w = w * decay            (decay is 1 unless AdamW)
//   m = fma(c1, g, m*b1)
//   v = fma(c2*g, g, v*b2)
//   w = w + (nss*m) / (sqrt(v)/bc2s + eps)
// len(w) must be a multiple of 8 and the other slices at least as long.
TEXT ·adamAVX2(SB), NOSPLIT, $0-104
	MOVQ w_base+0(FP), SI
	MOVQ w_len+8(FP), CX
	MOVQ g_base+24(FP), DI
	MOVQ m_base+48(FP), R8
	MOVQ v_base+72(FP), R9
	MOVQ p+96(FP), DX
	VBROADCASTSS 0(DX), Y0  // b1
	VBROADCASTSS 4(DX), Y1  // c1
	VBROADCASTSS 8(DX), Y2  // b2
	VBROADCASTSS 12(DX), Y3 // c2
	VBROADCASTSS 16(DX), Y4 // nss = -lr/bc1
	VBROADCASTSS 20(DX), Y5 // sqrt(bc2)
	VBROADCASTSS 24(DX), Y6 // eps
	VBROADCASTSS 28(DX), Y7 // wd
	VBROADCASTSS 32(DX), Y8 // decay
	SHRQ $3, CX
	JZ   done

loop:
	VMOVUPS (DI), Y9
	VMOVUPS (SI), Y10
	VFMADD231PS Y10, Y7, Y9   // g = wd*w + g
	VMULPS Y8, Y10, Y10       // w = w*decay
	VMULPS (R8), Y0, Y11      // m*b1
	VFMADD231PS Y9, Y1, Y11   // m = c1*g + m*b1
	VMOVUPS Y11, (R8)
	VMULPS Y9, Y3, Y12        // c2*g
	VMULPS (R9), Y2, Y13      // v*b2
	VFMADD231PS Y9, Y12, Y13  // v = (c2*g)*g + v*b2
	VMOVUPS Y13, (R9)
	VSQRTPS Y13, Y14
	VDIVPS Y5, Y14, Y14       // sqrt(v)/bc2s
	VADDPS Y6, Y14, Y14       // + eps
	VMULPS Y11, Y4, Y15       // nss*m
	VDIVPS Y14, Y15, Y15      // (nss*m)/den
	VADDPS Y15, Y10, Y10      // w + step
	VMOVUPS Y10, (SI)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R8
	ADDQ $32, R9
	DECQ CX
	JNZ  loop

done:
	VZEROUPPER
	RET
