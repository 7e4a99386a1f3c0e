//go:build ignore

// gen_bf16 writes bf16_amd64.s: the AVX512-BF16 (VDPBF16PS) and AMX-BF16
// (TDPBF16PS) kernels of SgemmBF16. The Go assembler has none of these
// instructions, so this program encodes them (EVEX and VEX byte by byte)
// and emits each as BYTE directives followed by a "// gnu:" comment with
// the same instruction in GNU as syntax; TestBF16Encodings assembles those
// comments with binutils and compares the bytes. Run `go generate
// ./internal/kernel` after editing.
package main

import (
	"fmt"
	"os"
	"strings"
)

var out strings.Builder

func p(format string, args ...any) { fmt.Fprintf(&out, format+"\n", args...) }

// raw emits an encoded instruction with its GNU as spelling.
func raw(b []byte, gnu string) {
	parts := make([]string, len(b))
	for i, v := range b {
		parts[i] = fmt.Sprintf("BYTE $0x%02x", v)
	}
	p("\t%s // gnu: %s", strings.Join(parts, "; "), gnu)
}

// inv1 is the inverted bit i of r, as EVEX and VEX store register extensions.
func inv1(r, i int) byte { return byte(^(r >> i) & 1) }

// vdpbf16ps encodes VDPBF16PS zmm(dst), zmm(src1), zmm(src2):
// EVEX.512.F3.0F38.W0 52 /r, dst += pairwise bf16 dots of src1 and src2.
func vdpbf16ps(dst, src1, src2 int) {
	p0 := inv1(dst, 3)<<7 | inv1(src2, 4)<<6 | inv1(src2, 3)<<5 | inv1(dst, 4)<<4 | 0x02 // R X B R' 00 mm=0F38
	p1 := byte(^src1&0xf)<<3 | 0x04 | 0x02                                               // W=0 vvvv 1 pp=F3
	p2 := byte(0x40) | inv1(src1, 4)<<3                                                  // z=0 L'L=512 b=0 V' aaa=0
	modrm := 0xc0 | byte(dst&7)<<3 | byte(src2&7)
	raw([]byte{0x62, p0, p1, p2, 0x52, modrm}, fmt.Sprintf("vdpbf16ps %%zmm%d, %%zmm%d, %%zmm%d", src2, src1, dst))
}

var gprs = []string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}

// vex3 is the three-byte VEX prefix for map 0F38, W0, L0.
func vex3(r, x, b int, vvvv int, pp byte) []byte {
	return []byte{0xc4, inv1(r, 3)<<7 | inv1(x, 3)<<6 | inv1(b, 3)<<5 | 0x02, byte(^vvvv&0xf)<<3 | pp}
}

// sib encodes [base + index*1]; base must not need a displacement.
func sibmem(reg, base, index int) []byte {
	if base&7 == 4 || base&7 == 5 || index == 4 {
		panic("gen_bf16: base rsp/rbp/r12/r13 or index rsp not supported")
	}
	return []byte{byte(reg&7)<<3 | 0x04, byte(index&7)<<3 | byte(base&7)}
}

// tileloadd encodes TILELOADD tmm, [base+index]: VEX.128.F2.0F38.W0 4B,
// the index register giving the row stride in bytes.
func tileloadd(tmm, base, index int) {
	b := append(vex3(0, index, base, 0, 0x03), 0x4b)
	raw(append(b, sibmem(tmm, base, index)...), fmt.Sprintf("tileloadd (%%%s,%%%s,1), %%tmm%d", gprs[base], gprs[index], tmm))
}

// tilestored encodes TILESTORED [base+index], tmm: VEX.128.F3.0F38.W0 4B.
func tilestored(tmm, base, index int) {
	b := append(vex3(0, index, base, 0, 0x02), 0x4b)
	raw(append(b, sibmem(tmm, base, index)...), fmt.Sprintf("tilestored %%tmm%d, (%%%s,%%%s,1)", tmm, gprs[base], gprs[index]))
}

// tdpbf16ps encodes TDPBF16PS tmm(dst), tmm(a), tmm(b):
// VEX.128.F3.0F38.W0 5C 11:dst:a, vvvv=b.
func tdpbf16ps(dst, a, b int) {
	raw(append(vex3(0, 0, 0, b, 0x02), 0x5c, 0xc0|byte(dst)<<3|byte(a)), fmt.Sprintf("tdpbf16ps %%tmm%d, %%tmm%d, %%tmm%d", b, a, dst))
}

// ldtilecfg encodes LDTILECFG [base]: VEX.128.NP.0F38.W0 49 /0.
func ldtilecfg(base int) {
	if base&7 == 4 || base&7 == 5 {
		panic("gen_bf16: ldtilecfg base needs no SIB or displacement")
	}
	raw(append(vex3(0, 0, base, 0, 0x00), 0x49, byte(base&7)), fmt.Sprintf("ldtilecfg (%%%s)", gprs[base]))
}

func tilerelease() { raw([]byte{0xc4, 0xe2, 0x78, 0x49, 0xc0}, "tilerelease") }

const (
	rAX, rCX, rDX, rBX = 0, 1, 2, 3
	rSI, rDI, r8, r9   = 6, 7, 8, 9
	r10, r11           = 10, 11
)

// avx512 emits the 12x32 VDPBF16PS kernel: per K pair, two zmm of B (32
// columns of pairs) and one broadcast pair of A per row; Z0-Z23 hold C.
func avx512() {
	const mr = 12
	p("// func bf16AVX512(pairs int, a, b *uint32, c *float32, ldc int)")
	p("// C[12x32] += A·B over pairs K pairs; A pair-major (pairs x 12), B")
	p("// pair-major (pairs x 32). Z0-Z23 accumulate (row i in Z2i, Z2i+1),")
	p("// Z24-Z25 hold B, Z26 the broadcast pair of A.")
	p("TEXT ·bf16AVX512(SB), NOSPLIT, $0-40")
	p("\tMOVQ pairs+0(FP), CX")
	p("\tMOVQ a+8(FP), AX")
	p("\tMOVQ b+16(FP), BX")
	p("\tMOVQ c+24(FP), DI")
	p("\tMOVQ ldc+32(FP), DX")
	p("\tSHLQ $2, DX")
	p("\tMOVQ DI, SI")
	for i := 0; i < mr; i++ {
		p("\tVMOVUPS (SI), Z%d", 2*i)
		p("\tVMOVUPS 64(SI), Z%d", 2*i+1)
		p("\tADDQ DX, SI")
	}
	p("loop:")
	p("\tVMOVUPS (BX), Z24")
	p("\tVMOVUPS 64(BX), Z25")
	for i := 0; i < mr; i++ {
		p("\tVPBROADCASTD %d(AX), Z26", 4*i)
		vdpbf16ps(2*i, 24, 26)
		vdpbf16ps(2*i+1, 25, 26)
	}
	p("\tADDQ $%d, AX", 4*mr)
	p("\tADDQ $128, BX")
	p("\tDECQ CX")
	p("\tJNZ loop")
	p("\tMOVQ DI, SI")
	for i := 0; i < mr; i++ {
		p("\tVMOVUPS Z%d, (SI)", 2*i)
		p("\tVMOVUPS Z%d, 64(SI)", 2*i+1)
		p("\tADDQ DX, SI")
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// amx emits the 32x32 TDPBF16PS kernel: C in four 16x16 fp32 tiles
// (tmm0-3), per 16 K pairs two A tiles (rows 0-15, 16-31; row-major, 64
// bytes of a row) and two B tiles (columns 0-15, 16-31 of 16 pair rows).
func amx() {
	p("// func bf16AMX(cfg *byte, pairs int, a, b *uint32, c *float32, ldc int)")
	p("// C[32x32] += A·B over pairs K pairs (a multiple of 16); A row-major")
	p("// (32 x pairs), B pair-major (pairs x 32). cfg is the 64-byte tile")
	p("// configuration (every tile 16 rows of 64 bytes); tiles are released on")
	p("// return, so the call may run on any thread.")
	p("TEXT ·bf16AMX(SB), NOSPLIT, $0-48")
	p("\tMOVQ cfg+0(FP), AX")
	ldtilecfg(rAX)
	p("\tMOVQ c+32(FP), DI")
	p("\tMOVQ ldc+40(FP), DX")
	p("\tSHLQ $2, DX           // C row stride in bytes")
	p("\tMOVQ DX, R10")
	p("\tSHLQ $4, R10          // 16 rows of C")
	p("\tLEAQ 64(DI), SI")
	tileloadd(0, rDI, rDX)
	tileloadd(1, rSI, rDX)
	p("\tLEAQ (DI)(R10*1), R11")
	p("\tLEAQ 64(R11), R8")
	tileloadd(2, r11, rDX)
	tileloadd(3, r8, rDX)
	p("\tMOVQ pairs+8(FP), CX")
	p("\tMOVQ a+16(FP), AX")
	p("\tMOVQ b+24(FP), BX")
	p("\tMOVQ CX, R9")
	p("\tSHLQ $2, R9           // A row stride in bytes")
	p("\tMOVQ R9, SI")
	p("\tSHLQ $4, SI")
	p("\tADDQ AX, SI           // A rows 16-31")
	p("\tMOVQ $128, R10        // B row stride: 32 pairs")
	p("\tSHRQ $4, CX           // chunks of 16 pairs")
	p("loop:")
	tileloadd(4, rAX, r9)
	tileloadd(5, rSI, r9)
	tileloadd(6, rBX, r10)
	p("\tLEAQ 64(BX), R11")
	tileloadd(7, r11, r10)
	tdpbf16ps(0, 4, 6)
	tdpbf16ps(1, 4, 7)
	tdpbf16ps(2, 5, 6)
	tdpbf16ps(3, 5, 7)
	p("\tADDQ $64, AX")
	p("\tADDQ $64, SI")
	p("\tADDQ $2048, BX")
	p("\tDECQ CX")
	p("\tJNZ loop")
	p("\tMOVQ DX, R10")
	p("\tSHLQ $4, R10")
	p("\tLEAQ 64(DI), SI")
	tilestored(0, rDI, rDX)
	tilestored(1, rSI, rDX)
	p("\tLEAQ (DI)(R10*1), R11")
	p("\tLEAQ 64(R11), R8")
	tilestored(2, r11, rDX)
	tilestored(3, r8, rDX)
	tilerelease()
	p("\tRET")
}

func main() {
	p("// Code generated by gen_bf16.go; DO NOT EDIT.")
	p("")
	p("//go:build amd64 && !noasm")
	p("")
	p("#include \"textflag.h\"")
	p("")
	avx512()
	amx()
	if err := os.WriteFile("bf16_amd64.s", []byte(out.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
