//go:build amd64 && !noasm

#include "textflag.h"

// func sgdAVX2(w, g, buf []float32, p *sgdParams)
//
// Per element, 8 lanes at a time, with the roundings of the scalar loop in
// sgd.go (wd is 0 when there is no weight decay, making the first step exact):
//   d = fma(wd, w, g)
//   mode 0:  w = fma(nlr, d, w)
//   mode 1:  b = fma(damp1, d, buf*mom); buf = b; w = fma(nlr, b, w)
//   mode 2:  b = (as mode 1); d = fma(mom, b, d); w = fma(nlr, d, w)
// len(w) must be a multiple of 8 and the other slices at least as long.
TEXT ·sgdAVX2(SB), NOSPLIT, $0-80
	MOVQ w_base+0(FP), SI
	MOVQ w_len+8(FP), CX
	MOVQ g_base+24(FP), DI
	MOVQ buf_base+48(FP), R8
	MOVQ p+72(FP), DX
	VBROADCASTSS 0(DX), Y0  // wd
	VBROADCASTSS 4(DX), Y1  // 1 - dampening
	VBROADCASTSS 8(DX), Y2  // momentum
	VBROADCASTSS 12(DX), Y3 // -lr
	MOVL 16(DX), AX         // mode
	SHRQ $3, CX
	JZ   done
	CMPL AX, $1
	JEQ  momentum
	CMPL AX, $2
	JEQ  nesterov

plain:
	VMOVUPS (DI), Y9
	VMOVUPS (SI), Y10
	VFMADD231PS Y10, Y0, Y9  // d = wd*w + g
	VFMADD231PS Y9, Y3, Y10  // w = -lr*d + w
	VMOVUPS Y10, (SI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  plain
	JMP  done

momentum:
	VMOVUPS (DI), Y9
	VMOVUPS (SI), Y10
	VFMADD231PS Y10, Y0, Y9  // d = wd*w + g
	VMULPS (R8), Y2, Y11     // buf*mom
	VFMADD231PS Y9, Y1, Y11  // b = damp1*d + buf*mom
	VMOVUPS Y11, (R8)
	VFMADD231PS Y11, Y3, Y10 // w = -lr*b + w
	VMOVUPS Y10, (SI)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R8
	DECQ CX
	JNZ  momentum
	JMP  done

nesterov:
	VMOVUPS (DI), Y9
	VMOVUPS (SI), Y10
	VFMADD231PS Y10, Y0, Y9  // d = wd*w + g
	VMULPS (R8), Y2, Y11     // buf*mom
	VFMADD231PS Y9, Y1, Y11  // b = damp1*d + buf*mom
	VMOVUPS Y11, (R8)
	VFMADD231PS Y11, Y2, Y9  // d = mom*b + d
	VFMADD231PS Y9, Y3, Y10  // w = -lr*d + w
	VMOVUPS Y10, (SI)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R8
	DECQ CX
	JNZ  nesterov

done:
	VZEROUPPER
	RET
