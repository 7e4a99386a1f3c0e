//go:build amd64 && !noasm

#include "textflag.h"

// func roundBF16AVX2(dst, src []float32, alpha float32)
// dst = FromBF16(ToBF16(alpha*src)), 8 lanes at a time, lane for lane as
// ToBF16 does it:
//   finite non-zero normal: (b + 0x7fff + (b>>16 & 1)) & 0xffff0000
//     (ties to even; a carry into the exponent rounds up, to Inf past the
//     largest bf16);
//   zero or denormal (exponent 0): the sign alone;
//   Inf or NaN (exponent all ones): b & 0xffff0000, with the quiet bit
//     0x00400000 set for NaN (so a NaN whose payload was all in the low
//     half stays NaN).
// len(src) is a multiple of 8.
TEXT ·roundBF16AVX2(SB), NOSPLIT, $0-52
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	VBROADCASTSS alpha+48(FP), Y14
	MOVL $1, AX
	VMOVD AX, X13
	VPBROADCASTD X13, Y13 // 1
	MOVL $0x7fff, AX
	VMOVD AX, X12
	VPBROADCASTD X12, Y12 // half an ulp, less one
	MOVL $0xffff0000, AX
	VMOVD AX, X11
	VPBROADCASTD X11, Y11 // the bf16 bits
	MOVL $0x7f800000, AX
	VMOVD AX, X10
	VPBROADCASTD X10, Y10 // exponent
	MOVL $0x80000000, AX
	VMOVD AX, X9
	VPBROADCASTD X9, Y9 // sign
	MOVL $0x7fffffff, AX
	VMOVD AX, X8
	VPBROADCASTD X8, Y8 // magnitude
	MOVL $0x00400000, AX
	VMOVD AX, X7
	VPBROADCASTD X7, Y7 // quiet NaN bit
	VPXOR Y15, Y15, Y15
	SHRQ $3, CX
	JZ   done

loop:
	VMULPS  (SI), Y14, Y0   // b = alpha*x
	VPSRLD  $16, Y0, Y1
	VPAND   Y13, Y1, Y1     // kept bit
	VPADDD  Y12, Y1, Y1
	VPADDD  Y0, Y1, Y1
	VPAND   Y11, Y1, Y1     // rounded normal
	VPAND   Y10, Y0, Y2     // exponent bits
	VPCMPEQD Y15, Y2, Y3    // zero or denormal
	VPAND   Y9, Y0, Y4      // signed zero
	VPBLENDVB Y3, Y4, Y1, Y1
	VPCMPEQD Y10, Y2, Y3    // Inf or NaN
	VPAND   Y8, Y0, Y5
	VPCMPGTD Y10, Y5, Y6    // NaN: magnitude above Inf's
	VPAND   Y7, Y6, Y6
	VPOR    Y6, Y0, Y5
	VPAND   Y11, Y5, Y5     // Inf, or quiet NaN cut to bf16
	VPBLENDVB Y3, Y5, Y1, Y1
	VMOVDQU Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  loop

done:
	VZEROUPPER
	RET
