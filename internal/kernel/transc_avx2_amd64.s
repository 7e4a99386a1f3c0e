//go:build amd64 && !noasm

#include "textflag.h"

// AVX2+FMA transcendentals for CPUs without AVX-512: the algorithms of
// transc_amd64.s (see transc.go for them and their error bounds) on 8-lane
// YMM vectors. Where the AVX-512 code uses an instruction AVX2 lacks, the
// replacement computes the same IEEE operations, so the two paths give
// bit-identical results (checked over all 2^32 inputs once, and on a
// strided sweep by TestTranscAVX2MatchesAVX512):
//   - VSCALEFPS (p·2^n) becomes two multiplies by 2^(n>>1) and
//     2^(n-(n>>1)), each built by shifting the integer into the exponent
//     field and adding the bias. Both factors are normal for n in
//     [-159, 128], the first product is exact and the second rounds once,
//     into a denormal, 0 or Inf where the result needs it, as VSCALEFPS
//     does.
//   - VRNDSCALEPS $0 becomes VROUNDPS $0 (round to nearest even).
//   - Opmask blends become VBLENDVPS on a compare result or on x's sign bit.
//   - Masked tails use VMASKMOVPS with a lane mask from tmask8, so loads
//     and stores never touch memory outside the slices (masked-off lanes
//     neither fault nor store).
//
// Each main loop takes two vectors (16 floats) per iteration through an X2
// macro, which is its one-vector macro with every instruction issued for
// both in turn: each vector is a ~60-cycle dependency chain, and
// interleaving two in program order lets the scheduler keep the FMA pipes
// busy (Exp on Zen 5, best of 3000 runs over 4096 floats: 1.18 µs one
// vector per iteration, 0.96 µs two, 1.04 µs three, 0.44 µs AVX-512).
// Only 16 YMM registers exist, so a few constants stay in registers and the
// others are memory operands from tc8, each a 32-byte vector of one value
// (an L1 load folded into the instruction, no extra uop).

DATA tc8<>+0(SB)/8, $0x3fb8aa3b3fb8aa3b // 0: log2e
DATA tc8<>+8(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA tc8<>+16(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA tc8<>+24(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA tc8<>+32(SB)/8, $0xbf318000bf318000 // 32: -ln2 high part
DATA tc8<>+40(SB)/8, $0xbf318000bf318000
DATA tc8<>+48(SB)/8, $0xbf318000bf318000
DATA tc8<>+56(SB)/8, $0xbf318000bf318000
DATA tc8<>+64(SB)/8, $0x395e8083395e8083 // 64: -ln2 low part
DATA tc8<>+72(SB)/8, $0x395e8083395e8083
DATA tc8<>+80(SB)/8, $0x395e8083395e8083
DATA tc8<>+88(SB)/8, $0x395e8083395e8083
DATA tc8<>+96(SB)/8, $0x3950696739506967 // 96: exp P0
DATA tc8<>+104(SB)/8, $0x3950696739506967
DATA tc8<>+112(SB)/8, $0x3950696739506967
DATA tc8<>+120(SB)/8, $0x3950696739506967
DATA tc8<>+128(SB)/8, $0x3ab743ce3ab743ce // 128: exp P1
DATA tc8<>+136(SB)/8, $0x3ab743ce3ab743ce
DATA tc8<>+144(SB)/8, $0x3ab743ce3ab743ce
DATA tc8<>+152(SB)/8, $0x3ab743ce3ab743ce
DATA tc8<>+160(SB)/8, $0x3c0889083c088908 // 160: exp P2
DATA tc8<>+168(SB)/8, $0x3c0889083c088908
DATA tc8<>+176(SB)/8, $0x3c0889083c088908
DATA tc8<>+184(SB)/8, $0x3c0889083c088908
DATA tc8<>+192(SB)/8, $0x3d2aa9c13d2aa9c1 // 192: exp P3
DATA tc8<>+200(SB)/8, $0x3d2aa9c13d2aa9c1
DATA tc8<>+208(SB)/8, $0x3d2aa9c13d2aa9c1
DATA tc8<>+216(SB)/8, $0x3d2aa9c13d2aa9c1
DATA tc8<>+224(SB)/8, $0x3e2aaaaa3e2aaaaa // 224: exp P4
DATA tc8<>+232(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA tc8<>+240(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA tc8<>+248(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA tc8<>+256(SB)/8, $0x3f0000003f000000 // 256: exp P5
DATA tc8<>+264(SB)/8, $0x3f0000003f000000
DATA tc8<>+272(SB)/8, $0x3f0000003f000000
DATA tc8<>+280(SB)/8, $0x3f0000003f000000
DATA tc8<>+288(SB)/8, $0x3f8000003f800000 // 288: 1, also 127<<23: the exponent bias
DATA tc8<>+296(SB)/8, $0x3f8000003f800000
DATA tc8<>+304(SB)/8, $0x3f8000003f800000
DATA tc8<>+312(SB)/8, $0x3f8000003f800000
DATA tc8<>+320(SB)/8, $0x42b2000042b20000 // 320: 89: e^89 overflows
DATA tc8<>+328(SB)/8, $0x42b2000042b20000
DATA tc8<>+336(SB)/8, $0x42b2000042b20000
DATA tc8<>+344(SB)/8, $0x42b2000042b20000
DATA tc8<>+352(SB)/8, $0xc2dc0000c2dc0000 // 352: -110: e^-110 underflows to 0
DATA tc8<>+360(SB)/8, $0xc2dc0000c2dc0000
DATA tc8<>+368(SB)/8, $0xc2dc0000c2dc0000
DATA tc8<>+376(SB)/8, $0xc2dc0000c2dc0000
DATA tc8<>+384(SB)/8, $0x4000000040000000 // 384: 2
DATA tc8<>+392(SB)/8, $0x4000000040000000
DATA tc8<>+400(SB)/8, $0x4000000040000000
DATA tc8<>+408(SB)/8, $0x4000000040000000
DATA tc8<>+416(SB)/8, $0x3f2000003f200000 // 416: 0.625: tanh polynomial below, exp above
DATA tc8<>+424(SB)/8, $0x3f2000003f200000
DATA tc8<>+432(SB)/8, $0x3f2000003f200000
DATA tc8<>+440(SB)/8, $0x3f2000003f200000
DATA tc8<>+448(SB)/8, $0xbbbaf0eabbbaf0ea // 448: tanh T0
DATA tc8<>+456(SB)/8, $0xbbbaf0eabbbaf0ea
DATA tc8<>+464(SB)/8, $0xbbbaf0eabbbaf0ea
DATA tc8<>+472(SB)/8, $0xbbbaf0eabbbaf0ea
DATA tc8<>+480(SB)/8, $0x3ca9134e3ca9134e // 480: tanh T1
DATA tc8<>+488(SB)/8, $0x3ca9134e3ca9134e
DATA tc8<>+496(SB)/8, $0x3ca9134e3ca9134e
DATA tc8<>+504(SB)/8, $0x3ca9134e3ca9134e
DATA tc8<>+512(SB)/8, $0xbd5c1e2dbd5c1e2d // 512: tanh T2
DATA tc8<>+520(SB)/8, $0xbd5c1e2dbd5c1e2d
DATA tc8<>+528(SB)/8, $0xbd5c1e2dbd5c1e2d
DATA tc8<>+536(SB)/8, $0xbd5c1e2dbd5c1e2d
DATA tc8<>+544(SB)/8, $0x3e0883933e088393 // 544: tanh T3
DATA tc8<>+552(SB)/8, $0x3e0883933e088393
DATA tc8<>+560(SB)/8, $0x3e0883933e088393
DATA tc8<>+568(SB)/8, $0x3e0883933e088393
DATA tc8<>+576(SB)/8, $0xbeaaaa99beaaaa99 // 576: tanh T4
DATA tc8<>+584(SB)/8, $0xbeaaaa99beaaaa99
DATA tc8<>+592(SB)/8, $0xbeaaaa99beaaaa99
DATA tc8<>+600(SB)/8, $0xbeaaaa99beaaaa99
DATA tc8<>+608(SB)/8, $0x7fffffff7fffffff // 608: |x| mask
DATA tc8<>+616(SB)/8, $0x7fffffff7fffffff
DATA tc8<>+624(SB)/8, $0x7fffffff7fffffff
DATA tc8<>+632(SB)/8, $0x7fffffff7fffffff
DATA tc8<>+640(SB)/8, $0x8000000080000000 // 640: sign mask
DATA tc8<>+648(SB)/8, $0x8000000080000000
DATA tc8<>+656(SB)/8, $0x8000000080000000
DATA tc8<>+664(SB)/8, $0x8000000080000000
DATA tc8<>+672(SB)/8, $0x4080000040800000 // 672: 4: erf(4) rounds to 1
DATA tc8<>+680(SB)/8, $0x4080000040800000
DATA tc8<>+688(SB)/8, $0x4080000040800000
DATA tc8<>+696(SB)/8, $0x4080000040800000
DATA tc8<>+704(SB)/8, $0xaf95df0baf95df0b // 704: erf A13
DATA tc8<>+712(SB)/8, $0xaf95df0baf95df0b
DATA tc8<>+720(SB)/8, $0xaf95df0baf95df0b
DATA tc8<>+728(SB)/8, $0xaf95df0baf95df0b
DATA tc8<>+736(SB)/8, $0x32edffee32edffee // 736: erf A11
DATA tc8<>+744(SB)/8, $0x32edffee32edffee
DATA tc8<>+752(SB)/8, $0x32edffee32edffee
DATA tc8<>+760(SB)/8, $0x32edffee32edffee
DATA tc8<>+768(SB)/8, $0xb60cff51b60cff51 // 768: erf A9
DATA tc8<>+776(SB)/8, $0xb60cff51b60cff51
DATA tc8<>+784(SB)/8, $0xb60cff51b60cff51
DATA tc8<>+792(SB)/8, $0xb60cff51b60cff51
DATA tc8<>+800(SB)/8, $0xb86ec2d2b86ec2d2 // 800: erf A7
DATA tc8<>+808(SB)/8, $0xb86ec2d2b86ec2d2
DATA tc8<>+816(SB)/8, $0xb86ec2d2b86ec2d2
DATA tc8<>+824(SB)/8, $0xb86ec2d2b86ec2d2
DATA tc8<>+832(SB)/8, $0xba40ac63ba40ac63 // 832: erf A5
DATA tc8<>+840(SB)/8, $0xba40ac63ba40ac63
DATA tc8<>+848(SB)/8, $0xba40ac63ba40ac63
DATA tc8<>+856(SB)/8, $0xba40ac63ba40ac63
DATA tc8<>+864(SB)/8, $0xbb41a1f6bb41a1f6 // 864: erf A3
DATA tc8<>+872(SB)/8, $0xbb41a1f6bb41a1f6
DATA tc8<>+880(SB)/8, $0xbb41a1f6bb41a1f6
DATA tc8<>+888(SB)/8, $0xbb41a1f6bb41a1f6
DATA tc8<>+896(SB)/8, $0xbc83dbd4bc83dbd4 // 896: erf A1
DATA tc8<>+904(SB)/8, $0xbc83dbd4bc83dbd4
DATA tc8<>+912(SB)/8, $0xbc83dbd4bc83dbd4
DATA tc8<>+920(SB)/8, $0xbc83dbd4bc83dbd4
DATA tc8<>+928(SB)/8, $0xb77460cdb77460cd // 928: erf B8
DATA tc8<>+936(SB)/8, $0xb77460cdb77460cd
DATA tc8<>+944(SB)/8, $0xb77460cdb77460cd
DATA tc8<>+952(SB)/8, $0xb77460cdb77460cd
DATA tc8<>+960(SB)/8, $0xb95fbd29b95fbd29 // 960: erf B6
DATA tc8<>+968(SB)/8, $0xb95fbd29b95fbd29
DATA tc8<>+976(SB)/8, $0xb95fbd29b95fbd29
DATA tc8<>+984(SB)/8, $0xb95fbd29b95fbd29
DATA tc8<>+992(SB)/8, $0xbadc924ebadc924e // 992: erf B4
DATA tc8<>+1000(SB)/8, $0xbadc924ebadc924e
DATA tc8<>+1008(SB)/8, $0xbadc924ebadc924e
DATA tc8<>+1016(SB)/8, $0xbadc924ebadc924e
DATA tc8<>+1024(SB)/8, $0xbbf19bf8bbf19bf8 // 1024: erf B2
DATA tc8<>+1032(SB)/8, $0xbbf19bf8bbf19bf8
DATA tc8<>+1040(SB)/8, $0xbbf19bf8bbf19bf8
DATA tc8<>+1048(SB)/8, $0xbbf19bf8bbf19bf8
DATA tc8<>+1056(SB)/8, $0xbc69b6a7bc69b6a7 // 1056: erf B0
DATA tc8<>+1064(SB)/8, $0xbc69b6a7bc69b6a7
DATA tc8<>+1072(SB)/8, $0xbc69b6a7bc69b6a7
DATA tc8<>+1080(SB)/8, $0xbc69b6a7bc69b6a7
GLOBL tc8<>(SB), RODATA|NOPTR, $1088

// tmask8+32-4n (n in 1..7) loads a mask whose low n lanes are all ones.
DATA tmask8<>+0(SB)/8, $0xffffffffffffffff
DATA tmask8<>+8(SB)/8, $0xffffffffffffffff
DATA tmask8<>+16(SB)/8, $0xffffffffffffffff
DATA tmask8<>+24(SB)/8, $0xffffffffffffffff
DATA tmask8<>+32(SB)/8, $0
DATA tmask8<>+40(SB)/8, $0
DATA tmask8<>+48(SB)/8, $0
DATA tmask8<>+56(SB)/8, $0
GLOBL tmask8<>(SB), RODATA|NOPTR, $64

#define C_LOG2E tc8<>+0(SB)
#define C_LN2HI tc8<>+32(SB)
#define C_LN2LO tc8<>+64(SB)
#define C_P0 tc8<>+96(SB)
#define C_P1 tc8<>+128(SB)
#define C_P2 tc8<>+160(SB)
#define C_P3 tc8<>+192(SB)
#define C_P4 tc8<>+224(SB)
#define C_P5 tc8<>+256(SB)
#define C_ONE tc8<>+288(SB)
#define C_HI tc8<>+320(SB)
#define C_LO tc8<>+352(SB)
#define C_TWO tc8<>+384(SB)
#define C_TSMALL tc8<>+416(SB)
#define C_T0 tc8<>+448(SB)
#define C_T1 tc8<>+480(SB)
#define C_T2 tc8<>+512(SB)
#define C_T3 tc8<>+544(SB)
#define C_T4 tc8<>+576(SB)
#define C_ABS tc8<>+608(SB)
#define C_SIGN tc8<>+640(SB)
#define C_FOUR tc8<>+672(SB)
#define C_A13 tc8<>+704(SB)
#define C_A11 tc8<>+736(SB)
#define C_A9 tc8<>+768(SB)
#define C_A7 tc8<>+800(SB)
#define C_A5 tc8<>+832(SB)
#define C_A3 tc8<>+864(SB)
#define C_A1 tc8<>+896(SB)
#define C_B8 tc8<>+928(SB)
#define C_B6 tc8<>+960(SB)
#define C_B4 tc8<>+992(SB)
#define C_B2 tc8<>+1024(SB)
#define C_B0 tc8<>+1056(SB)

// EXP8 (and everything built on it) needs the clamp bounds 89 in Y15 and
// -110 in Y14, and 1.0 in Y12. The bounds must be registers: VMINPS and
// VMAXPS return their second source (here x, which may be memory) when
// either is NaN, and the first source cannot be memory. EXPCONSTS also
// puts log2(e) in Y13 for kernels that can spare the register.
#define EXPCONSTS \
	VMOVUPS C_HI, Y15; \
	VMOVUPS C_LO, Y14; \
	VMOVUPS C_LOG2E, Y13; \
	VMOVUPS C_ONE, Y12

// EXP8 sets X = e^X using N, R, P as temporaries, as EXP in
// transc_amd64.s up to the final scaling; L2E is log2(e), a register or
// C_LOG2E. 1.0's bit pattern is 127<<23, so adding it to k<<23 makes the
// float 2^k.
#define EXP8(X, N, R, P, L2E) \
	VMINPS X, Y15, X; \
	VMAXPS X, Y14, X; \
	VMULPS L2E, X, N; \
	VROUNDPS $0, N, N; \
	VMOVAPS X, R; \
	VFMADD231PS C_LN2HI, N, R; \
	VFMADD231PS C_LN2LO, N, R; \
	VMOVUPS C_P0, P; \
	VFMADD213PS C_P1, R, P; \
	VFMADD213PS C_P2, R, P; \
	VFMADD213PS C_P3, R, P; \
	VFMADD213PS C_P4, R, P; \
	VFMADD213PS C_P5, R, P; \
	VMULPS R, R, X; \
	VFMADD213PS R, X, P; \
	VADDPS Y12, P, P; \
	VCVTPS2DQ N, N; \
	VPSRAD $1, N, R; \
	VPSUBD R, N, N; \
	VPSLLD $23, R, R; \
	VPADDD Y12, R, R; \
	VPSLLD $23, N, N; \
	VPADDD Y12, N, N; \
	VMULPS R, P, P; \
	VMULPS N, P, X

#define EXP8X2(X, N, R, P, X2, N2, R2, P2, L2E) \
	VMINPS X, Y15, X; \
	VMINPS X2, Y15, X2; \
	VMAXPS X, Y14, X; \
	VMAXPS X2, Y14, X2; \
	VMULPS L2E, X, N; \
	VMULPS L2E, X2, N2; \
	VROUNDPS $0, N, N; \
	VROUNDPS $0, N2, N2; \
	VMOVAPS X, R; \
	VMOVAPS X2, R2; \
	VFMADD231PS C_LN2HI, N, R; \
	VFMADD231PS C_LN2HI, N2, R2; \
	VFMADD231PS C_LN2LO, N, R; \
	VFMADD231PS C_LN2LO, N2, R2; \
	VMOVUPS C_P0, P; \
	VMOVUPS C_P0, P2; \
	VFMADD213PS C_P1, R, P; \
	VFMADD213PS C_P1, R2, P2; \
	VFMADD213PS C_P2, R, P; \
	VFMADD213PS C_P2, R2, P2; \
	VFMADD213PS C_P3, R, P; \
	VFMADD213PS C_P3, R2, P2; \
	VFMADD213PS C_P4, R, P; \
	VFMADD213PS C_P4, R2, P2; \
	VFMADD213PS C_P5, R, P; \
	VFMADD213PS C_P5, R2, P2; \
	VMULPS R, R, X; \
	VMULPS R2, R2, X2; \
	VFMADD213PS R, X, P; \
	VFMADD213PS R2, X2, P2; \
	VADDPS Y12, P, P; \
	VADDPS Y12, P2, P2; \
	VCVTPS2DQ N, N; \
	VCVTPS2DQ N2, N2; \
	VPSRAD $1, N, R; \
	VPSRAD $1, N2, R2; \
	VPSUBD R, N, N; \
	VPSUBD R2, N2, N2; \
	VPSLLD $23, R, R; \
	VPSLLD $23, R2, R2; \
	VPADDD Y12, R, R; \
	VPADDD Y12, R2, R2; \
	VPSLLD $23, N, N; \
	VPSLLD $23, N2, N2; \
	VPADDD Y12, N, N; \
	VPADDD Y12, N2, N2; \
	VMULPS R, P, P; \
	VMULPS R2, P2, P2; \
	VMULPS N, P, X; \
	VMULPS N2, P2, X2

// TANH8 sets X = tanh(X) using A, E, N, R, P as temporaries, as TANH in
// transc_amd64.s; ABS is the |x| mask (a register or C_ABS). Needs Y15,
// Y14 and Y12 as for EXP8, and 2 in Y13 (the dividend of VDIVPS must be a
// register).
#define TANHCONSTS \
	VMOVUPS C_HI, Y15; \
	VMOVUPS C_LO, Y14; \
	VMOVUPS C_TWO, Y13; \
	VMOVUPS C_ONE, Y12

#define TANH8(X, A, E, N, R, P, L2E, ABS) \
	VANDPS ABS, X, A; \
	VADDPS A, A, E; \
	VMINPS E, Y15, E; \
	VMAXPS E, Y14, E; \
	VMULPS L2E, E, N; \
	VROUNDPS $0, N, N; \
	VMOVAPS E, R; \
	VFMADD231PS C_LN2HI, N, R; \
	VFMADD231PS C_LN2LO, N, R; \
	VMOVUPS C_P0, P; \
	VFMADD213PS C_P1, R, P; \
	VFMADD213PS C_P2, R, P; \
	VFMADD213PS C_P3, R, P; \
	VFMADD213PS C_P4, R, P; \
	VFMADD213PS C_P5, R, P; \
	VMULPS R, R, E; \
	VFMADD213PS R, E, P; \
	VADDPS Y12, P, P; \
	VCVTPS2DQ N, N; \
	VPSRAD $1, N, R; \
	VPSUBD R, N, N; \
	VPSLLD $23, R, R; \
	VPADDD Y12, R, R; \
	VPSLLD $23, N, N; \
	VPADDD Y12, N, N; \
	VMULPS R, P, P; \
	VMULPS N, P, E; \
	VADDPS Y12, E, E; \
	VDIVPS E, Y13, E; \
	VSUBPS E, Y12, E; \
	VMULPS A, A, N; \
	VMOVUPS C_T0, R; \
	VFMADD213PS C_T1, N, R; \
	VFMADD213PS C_T2, N, R; \
	VFMADD213PS C_T3, N, R; \
	VFMADD213PS C_T4, N, R; \
	VMULPS N, R, R; \
	VFMADD213PS A, A, R; \
	VCMPPS $1, C_TSMALL, A, N; \
	VBLENDVPS N, R, E, E; \
	VXORPS A, X, X; \
	VORPS E, X, X

#define TANH8X2(X, A, E, N, R, P, X2, A2, E2, N2, R2, P2, L2E, ABS) \
	VANDPS ABS, X, A; \
	VANDPS ABS, X2, A2; \
	VADDPS A, A, E; \
	VADDPS A2, A2, E2; \
	VMINPS E, Y15, E; \
	VMINPS E2, Y15, E2; \
	VMAXPS E, Y14, E; \
	VMAXPS E2, Y14, E2; \
	VMULPS L2E, E, N; \
	VMULPS L2E, E2, N2; \
	VROUNDPS $0, N, N; \
	VROUNDPS $0, N2, N2; \
	VMOVAPS E, R; \
	VMOVAPS E2, R2; \
	VFMADD231PS C_LN2HI, N, R; \
	VFMADD231PS C_LN2HI, N2, R2; \
	VFMADD231PS C_LN2LO, N, R; \
	VFMADD231PS C_LN2LO, N2, R2; \
	VMOVUPS C_P0, P; \
	VMOVUPS C_P0, P2; \
	VFMADD213PS C_P1, R, P; \
	VFMADD213PS C_P1, R2, P2; \
	VFMADD213PS C_P2, R, P; \
	VFMADD213PS C_P2, R2, P2; \
	VFMADD213PS C_P3, R, P; \
	VFMADD213PS C_P3, R2, P2; \
	VFMADD213PS C_P4, R, P; \
	VFMADD213PS C_P4, R2, P2; \
	VFMADD213PS C_P5, R, P; \
	VFMADD213PS C_P5, R2, P2; \
	VMULPS R, R, E; \
	VMULPS R2, R2, E2; \
	VFMADD213PS R, E, P; \
	VFMADD213PS R2, E2, P2; \
	VADDPS Y12, P, P; \
	VADDPS Y12, P2, P2; \
	VCVTPS2DQ N, N; \
	VCVTPS2DQ N2, N2; \
	VPSRAD $1, N, R; \
	VPSRAD $1, N2, R2; \
	VPSUBD R, N, N; \
	VPSUBD R2, N2, N2; \
	VPSLLD $23, R, R; \
	VPSLLD $23, R2, R2; \
	VPADDD Y12, R, R; \
	VPADDD Y12, R2, R2; \
	VPSLLD $23, N, N; \
	VPSLLD $23, N2, N2; \
	VPADDD Y12, N, N; \
	VPADDD Y12, N2, N2; \
	VMULPS R, P, P; \
	VMULPS R2, P2, P2; \
	VMULPS N, P, E; \
	VMULPS N2, P2, E2; \
	VADDPS Y12, E, E; \
	VADDPS Y12, E2, E2; \
	VDIVPS E, Y13, E; \
	VDIVPS E2, Y13, E2; \
	VSUBPS E, Y12, E; \
	VSUBPS E2, Y12, E2; \
	VMULPS A, A, N; \
	VMULPS A2, A2, N2; \
	VMOVUPS C_T0, R; \
	VMOVUPS C_T0, R2; \
	VFMADD213PS C_T1, N, R; \
	VFMADD213PS C_T1, N2, R2; \
	VFMADD213PS C_T2, N, R; \
	VFMADD213PS C_T2, N2, R2; \
	VFMADD213PS C_T3, N, R; \
	VFMADD213PS C_T3, N2, R2; \
	VFMADD213PS C_T4, N, R; \
	VFMADD213PS C_T4, N2, R2; \
	VMULPS N, R, R; \
	VMULPS N2, R2, R2; \
	VFMADD213PS A, A, R; \
	VFMADD213PS A2, A2, R2; \
	VCMPPS $1, C_TSMALL, A, N; \
	VCMPPS $1, C_TSMALL, A2, N2; \
	VBLENDVPS N, R, E, E; \
	VBLENDVPS N2, R2, E2, E2; \
	VXORPS A, X, X; \
	VXORPS A2, X2, X2; \
	VORPS E, X, X; \
	VORPS E2, X2, X2

// SIGMOID8 sets X = 1/(1 + e^-X) using A, N, R, P as temporaries, as
// SIGMOID in transc_amd64.s; needs EXPCONSTS plus the sign mask in Y11.
// VBLENDVPS selects on x's sign bit directly.
#define SIGMOIDCONSTS \
	EXPCONSTS; \
	VMOVUPS C_SIGN, Y11

#define SIGMOID8(X, A, N, R, P, L2E) \
	VORPS Y11, X, A; \
	VMINPS A, Y15, A; \
	VMAXPS A, Y14, A; \
	VMULPS L2E, A, N; \
	VROUNDPS $0, N, N; \
	VMOVAPS A, R; \
	VFMADD231PS C_LN2HI, N, R; \
	VFMADD231PS C_LN2LO, N, R; \
	VMOVUPS C_P0, P; \
	VFMADD213PS C_P1, R, P; \
	VFMADD213PS C_P2, R, P; \
	VFMADD213PS C_P3, R, P; \
	VFMADD213PS C_P4, R, P; \
	VFMADD213PS C_P5, R, P; \
	VMULPS R, R, A; \
	VFMADD213PS R, A, P; \
	VADDPS Y12, P, P; \
	VCVTPS2DQ N, N; \
	VPSRAD $1, N, R; \
	VPSUBD R, N, N; \
	VPSLLD $23, R, R; \
	VPADDD Y12, R, R; \
	VPSLLD $23, N, N; \
	VPADDD Y12, N, N; \
	VMULPS R, P, P; \
	VMULPS N, P, A; \
	VADDPS Y12, A, N; \
	VDIVPS N, Y12, N; \
	VMULPS A, N, R; \
	VBLENDVPS X, R, N, X

#define SIGMOID8X2(X, A, N, R, P, X2, A2, N2, R2, P2, L2E) \
	VORPS Y11, X, A; \
	VORPS Y11, X2, A2; \
	VMINPS A, Y15, A; \
	VMINPS A2, Y15, A2; \
	VMAXPS A, Y14, A; \
	VMAXPS A2, Y14, A2; \
	VMULPS L2E, A, N; \
	VMULPS L2E, A2, N2; \
	VROUNDPS $0, N, N; \
	VROUNDPS $0, N2, N2; \
	VMOVAPS A, R; \
	VMOVAPS A2, R2; \
	VFMADD231PS C_LN2HI, N, R; \
	VFMADD231PS C_LN2HI, N2, R2; \
	VFMADD231PS C_LN2LO, N, R; \
	VFMADD231PS C_LN2LO, N2, R2; \
	VMOVUPS C_P0, P; \
	VMOVUPS C_P0, P2; \
	VFMADD213PS C_P1, R, P; \
	VFMADD213PS C_P1, R2, P2; \
	VFMADD213PS C_P2, R, P; \
	VFMADD213PS C_P2, R2, P2; \
	VFMADD213PS C_P3, R, P; \
	VFMADD213PS C_P3, R2, P2; \
	VFMADD213PS C_P4, R, P; \
	VFMADD213PS C_P4, R2, P2; \
	VFMADD213PS C_P5, R, P; \
	VFMADD213PS C_P5, R2, P2; \
	VMULPS R, R, A; \
	VMULPS R2, R2, A2; \
	VFMADD213PS R, A, P; \
	VFMADD213PS R2, A2, P2; \
	VADDPS Y12, P, P; \
	VADDPS Y12, P2, P2; \
	VCVTPS2DQ N, N; \
	VCVTPS2DQ N2, N2; \
	VPSRAD $1, N, R; \
	VPSRAD $1, N2, R2; \
	VPSUBD R, N, N; \
	VPSUBD R2, N2, N2; \
	VPSLLD $23, R, R; \
	VPSLLD $23, R2, R2; \
	VPADDD Y12, R, R; \
	VPADDD Y12, R2, R2; \
	VPSLLD $23, N, N; \
	VPSLLD $23, N2, N2; \
	VPADDD Y12, N, N; \
	VPADDD Y12, N2, N2; \
	VMULPS R, P, P; \
	VMULPS R2, P2, P2; \
	VMULPS N, P, A; \
	VMULPS N2, P2, A2; \
	VADDPS Y12, A, N; \
	VADDPS Y12, A2, N2; \
	VDIVPS N, Y12, N; \
	VDIVPS N2, Y12, N2; \
	VMULPS A, N, R; \
	VMULPS A2, N2, R2; \
	VBLENDVPS X, R, N, X; \
	VBLENDVPS X2, R2, N2, X2

// ERF8 sets X = erf(X) using A, S, P, Q as temporaries, as ERF in
// transc_amd64.s. 4 and 1 are registers because VMINPS passes NaN through
// only from its second source.
#define ERFCONSTS \
	VMOVUPS C_ABS, Y15; \
	VMOVUPS C_SIGN, Y14; \
	VMOVUPS C_ONE, Y13; \
	VMOVUPS C_FOUR, Y12

#define ERF8(X, A, S, P, Q) \
	VANDPS Y15, X, A; \
	VANDPS Y14, X, X; \
	VMINPS A, Y12, A; \
	VMULPS A, A, S; \
	VMOVUPS C_A13, P; \
	VFMADD213PS C_A11, S, P; \
	VFMADD213PS C_A9, S, P; \
	VFMADD213PS C_A7, S, P; \
	VFMADD213PS C_A5, S, P; \
	VFMADD213PS C_A3, S, P; \
	VFMADD213PS C_A1, S, P; \
	VMOVUPS C_B8, Q; \
	VFMADD213PS C_B6, S, Q; \
	VFMADD213PS C_B4, S, Q; \
	VFMADD213PS C_B2, S, Q; \
	VFMADD213PS C_B0, S, Q; \
	VDIVPS Q, P, P; \
	VMULPS A, P, P; \
	VMINPS P, Y13, P; \
	VORPS P, X, X

#define ERF8X2(X, A, S, P, Q, X2, A2, S2, P2, Q2) \
	VANDPS Y15, X, A; \
	VANDPS Y15, X2, A2; \
	VANDPS Y14, X, X; \
	VANDPS Y14, X2, X2; \
	VMINPS A, Y12, A; \
	VMINPS A2, Y12, A2; \
	VMULPS A, A, S; \
	VMULPS A2, A2, S2; \
	VMOVUPS C_A13, P; \
	VMOVUPS C_A13, P2; \
	VFMADD213PS C_A11, S, P; \
	VFMADD213PS C_A11, S2, P2; \
	VFMADD213PS C_A9, S, P; \
	VFMADD213PS C_A9, S2, P2; \
	VFMADD213PS C_A7, S, P; \
	VFMADD213PS C_A7, S2, P2; \
	VFMADD213PS C_A5, S, P; \
	VFMADD213PS C_A5, S2, P2; \
	VFMADD213PS C_A3, S, P; \
	VFMADD213PS C_A3, S2, P2; \
	VFMADD213PS C_A1, S, P; \
	VFMADD213PS C_A1, S2, P2; \
	VMOVUPS C_B8, Q; \
	VMOVUPS C_B8, Q2; \
	VFMADD213PS C_B6, S, Q; \
	VFMADD213PS C_B6, S2, Q2; \
	VFMADD213PS C_B4, S, Q; \
	VFMADD213PS C_B4, S2, Q2; \
	VFMADD213PS C_B2, S, Q; \
	VFMADD213PS C_B2, S2, Q2; \
	VFMADD213PS C_B0, S, Q; \
	VFMADD213PS C_B0, S2, Q2; \
	VDIVPS Q, P, P; \
	VDIVPS Q2, P2, P2; \
	VMULPS A, P, P; \
	VMULPS A2, P2, P2; \
	VMINPS P, Y13, P; \
	VMINPS P2, Y13, P2; \
	VORPS P, X, X; \
	VORPS P2, X2, X2

// TAILMASK8 sets Y8 to the lane mask for the last CX (1..7) elements.
#define TAILMASK8 \
	LEAQ tmask8<>+32(SB), AX; \
	SHLQ $2, CX; \
	SUBQ CX, AX; \
	VMOVUPS (AX), Y8

// HSUM8 leaves the sum of Y10's 8 lanes in X0.
#define HSUM8 \
	VEXTRACTF128 $1, Y10, X0; \
	VADDPS X10, X0, X0; \
	VMOVHLPS X0, X0, X1; \
	VADDPS X1, X0, X0; \
	VMOVSHDUP X0, X1; \
	VADDSS X1, X0, X0

// UNARY8 is the body of a dst[i] = f(x[i]) kernel: OP2 on Y0 and V2 for
// 16 floats per iteration, then OP1 on Y0 for one vector of 8 if left, then
// OP1 on one masked vector for the last 1-7.
#define UNARY8(CONSTS, V2, OP2, OP1) \
	MOVQ dst_base+0(FP), DI; \
	MOVQ dst_len+8(FP), CX; \
	MOVQ x_base+24(FP), SI; \
	CONSTS; \
loop: \
	CMPQ CX, $16; \
	JB   one; \
	VMOVUPS (SI), Y0; \
	VMOVUPS 32(SI), V2; \
	OP2; \
	VMOVUPS Y0, (DI); \
	VMOVUPS V2, 32(DI); \
	ADDQ $64, SI; \
	ADDQ $64, DI; \
	SUBQ $16, CX; \
	JMP  loop; \
one: \
	CMPQ CX, $8; \
	JB   tail; \
	VMOVUPS (SI), Y0; \
	OP1; \
	VMOVUPS Y0, (DI); \
	ADDQ $32, SI; \
	ADDQ $32, DI; \
	SUBQ $8, CX; \
tail: \
	TESTQ CX, CX; \
	JZ    done; \
	TAILMASK8; \
	VMASKMOVPS (SI), Y8, Y0; \
	OP1; \
	VMASKMOVPS Y0, Y8, (DI); \
done: \
	VZEROUPPER; \
	RET

// func expAVX2(dst, x []float32)
TEXT ·expAVX2(SB), NOSPLIT, $0-48
	UNARY8(EXPCONSTS, Y4, EXP8X2(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y13), EXP8(Y0, Y1, Y2, Y3, Y13))

// func tanhAVX2(dst, x []float32)
TEXT ·tanhAVX2(SB), NOSPLIT, $0-48
	UNARY8(TANHCONSTS, Y6, TANH8X2(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, C_LOG2E, C_ABS), TANH8(Y0, Y1, Y2, Y3, Y4, Y5, C_LOG2E, C_ABS))

// func sigmoidAVX2(dst, x []float32)
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-48
	UNARY8(SIGMOIDCONSTS, Y5, SIGMOID8X2(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y13), SIGMOID8(Y0, Y1, Y2, Y3, Y4, Y13))

// func erfAVX2(dst, x []float32)
TEXT ·erfAVX2(SB), NOSPLIT, $0-48
	UNARY8(ERFCONSTS, Y5, ERF8X2(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9), ERF8(Y0, Y1, Y2, Y3, Y4))

// expSumAVX2 and sumExpAVX2 compute e^(x-shift) with shift in Y11 and sum
// it in Y10 and Y9 (two accumulators, so the adds of a pair do not chain).
// The masked tail's off lanes hold e^-shift, not 0, so they are ANDed with
// the mask before the add.

// func expSumAVX2(dst, x []float32, shift float32) float32
TEXT ·expSumAVX2(SB), NOSPLIT, $0-60
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	VBROADCASTSS shift+48(FP), Y11
	EXPCONSTS
	VXORPS Y10, Y10, Y10
	VXORPS Y9, Y9, Y9
loop:
	CMPQ CX, $16
	JB   one
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y4
	VSUBPS Y11, Y0, Y0
	VSUBPS Y11, Y4, Y4
	EXP8X2(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y13)
	VMOVUPS Y0, (DI)
	VMOVUPS Y4, 32(DI)
	VADDPS Y0, Y10, Y10
	VADDPS Y4, Y9, Y9
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  loop
one:
	VADDPS Y9, Y10, Y10
	CMPQ CX, $8
	JB   tail
	VMOVUPS (SI), Y0
	VSUBPS Y11, Y0, Y0
	EXP8(Y0, Y1, Y2, Y3, Y13)
	VMOVUPS Y0, (DI)
	VADDPS Y0, Y10, Y10
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
tail:
	TESTQ CX, CX
	JZ    done
	TAILMASK8
	VMASKMOVPS (SI), Y8, Y0
	VSUBPS Y11, Y0, Y0
	EXP8(Y0, Y1, Y2, Y3, Y13)
	VMASKMOVPS Y0, Y8, (DI)
	VANDPS Y8, Y0, Y0
	VADDPS Y0, Y10, Y10
done:
	HSUM8
	VZEROUPPER
	MOVSS X0, ret+56(FP)
	RET

// func sumExpAVX2(x []float32, shift float32) float32
TEXT ·sumExpAVX2(SB), NOSPLIT, $0-36
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	VBROADCASTSS shift+24(FP), Y11
	EXPCONSTS
	VXORPS Y10, Y10, Y10
	VXORPS Y9, Y9, Y9
loop:
	CMPQ CX, $16
	JB   one
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y4
	VSUBPS Y11, Y0, Y0
	VSUBPS Y11, Y4, Y4
	EXP8X2(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y13)
	VADDPS Y0, Y10, Y10
	VADDPS Y4, Y9, Y9
	ADDQ $64, SI
	SUBQ $16, CX
	JMP  loop
one:
	VADDPS Y9, Y10, Y10
	CMPQ CX, $8
	JB   tail
	VMOVUPS (SI), Y0
	VSUBPS Y11, Y0, Y0
	EXP8(Y0, Y1, Y2, Y3, Y13)
	VADDPS Y0, Y10, Y10
	ADDQ $32, SI
	SUBQ $8, CX
tail:
	TESTQ CX, CX
	JZ    done
	TAILMASK8
	VMASKMOVPS (SI), Y8, Y0
	VSUBPS Y11, Y0, Y0
	EXP8(Y0, Y1, Y2, Y3, Y13)
	VANDPS Y8, Y0, Y0
	VADDPS Y0, Y10, Y10
done:
	HSUM8
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET
