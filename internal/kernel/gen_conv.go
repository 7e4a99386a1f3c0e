//go:build ignore

// gen_conv writes conv_amd64.s and conv_avx2_amd64.s: the AVX-512 and
// AVX2+FMA kernels behind ShiftGemm and ShiftDots (direct convolution
// without a column matrix), and the AVX2 half-tile of DotTile4x4. Run
// `go generate ./internal/kernel` after editing.
package main

import (
	"fmt"
	"os"
	"strings"
)

var out strings.Builder

func p(format string, args ...any) { fmt.Fprintf(&out, format+"\n", args...) }

// shiftGemm emits shiftGemm{mo}v{nv}: an mo × (nv·16) tile of
//
//	out[i*ldo+p] = bias[i] + Σ_r wt[r*ldw+i] · in[off[r]+p]
//
// Each of the k steps loads nv input vectors at in+off[r] and broadcasts mo
// weights, so the "column matrix" row r is the input itself shifted by
// off[r]: nothing is copied.
func shiftGemm(mo, nv int) {
	name := fmt.Sprintf("shiftGemm%dv%d", mo, nv)
	accBase := 32 - mo*nv
	if nv+2 > accBase {
		panic(name + ": too many registers")
	}
	acc := func(i, v int) string { return fmt.Sprintf("Z%d", accBase+i*nv+v) }
	p("// func %s(k int, off *int, in *float32, wt *float32, ldw int, out *float32, ldo int, bias *float32)", name)
	p("TEXT ·%s(SB), NOSPLIT, $0-64", name)
	p("\tMOVQ k+0(FP), CX")
	p("\tMOVQ off+8(FP), SI")
	p("\tMOVQ in+16(FP), DI")
	p("\tMOVQ wt+24(FP), R8")
	p("\tMOVQ ldw+32(FP), R9")
	p("\tSHLQ $2, R9")
	p("\tMOVQ bias+56(FP), AX")
	for i := 0; i < mo; i++ {
		p("\tVBROADCASTSS %d(AX), %s", i*4, acc(i, 0))
		for v := 1; v < nv; v++ {
			p("\tVMOVAPS %s, %s", acc(i, 0), acc(i, v))
		}
	}
	p("%s_loop:", name)
	p("\tMOVQ (SI), AX")
	for v := 0; v < nv; v++ {
		p("\tVMOVUPS %d(DI)(AX*4), Z%d", v*64, v)
	}
	for i := 0; i < mo; i++ {
		b := nv + i%2
		p("\tVBROADCASTSS %d(R8), Z%d", i*4, b)
		for v := 0; v < nv; v++ {
			p("\tVFMADD231PS Z%d, Z%d, %s", v, b, acc(i, v))
		}
	}
	p("\tADDQ $8, SI")
	p("\tADDQ R9, R8")
	p("\tDECQ CX")
	p("\tJNZ %s_loop", name)
	p("\tMOVQ out+40(FP), DX")
	p("\tMOVQ ldo+48(FP), BX")
	p("\tSHLQ $2, BX")
	for i := 0; i < mo; i++ {
		for v := 0; v < nv; v++ {
			p("\tVMOVUPS %s, %d(DX)", acc(i, v), v*64)
		}
		if i < mo-1 {
			p("\tADDQ BX, DX")
		}
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// shiftDots emits shiftDots{ma}x{nb}: for ma rows a_i and nb rows b_j
// (pointers rows[0:ma] and rows[4:4+nb]) the lane-wise sums
//
//	part[(i*nb+j)*16+l] = Σ_{s<ns} Σ_{v<nvec} a_i[s*sa+v*16+l] · b_j[s*sb+v*16+l]
//
// with sa, sb in bytes. The caller adds the 16 lanes.
func shiftDots(ma, nb int) {
	name := fmt.Sprintf("shiftDots%dx%d", ma, nb)
	accBase := 32 - ma*nb
	if nb+2 > accBase {
		panic(name + ": too many registers")
	}
	acc := func(i, j int) string { return fmt.Sprintf("Z%d", accBase+i*nb+j) }
	aReg := []string{"SI", "DI", "R8", "R9"}
	bReg := []string{"R10", "R11", "R12", "R13", "R14"}
	p("// func %s(ns, nvec int, rows *[9]*float32, sa, sb int, part *float32)", name)
	p("TEXT ·%s(SB), NOSPLIT, $0-48", name)
	p("\tMOVQ ns+0(FP), DX")
	p("\tMOVQ rows+16(FP), AX")
	for i := 0; i < ma; i++ {
		p("\tMOVQ %d(AX), %s", i*8, aReg[i])
	}
	for j := 0; j < nb; j++ {
		p("\tMOVQ %d(AX), %s", (4+j)*8, bReg[j])
	}
	for i := 0; i < ma; i++ {
		for j := 0; j < nb; j++ {
			p("\tVPXORD %s, %s, %s", acc(i, j), acc(i, j), acc(i, j))
		}
	}
	p("%s_sample:", name)
	p("\tMOVQ nvec+8(FP), CX")
	p("\tXORQ BX, BX")
	p("%s_loop:", name)
	for j := 0; j < nb; j++ {
		p("\tVMOVUPS (%s)(BX*1), Z%d", bReg[j], j)
	}
	for i := 0; i < ma; i++ {
		a := nb + i%2
		p("\tVMOVUPS (%s)(BX*1), Z%d", aReg[i], a)
		for j := 0; j < nb; j++ {
			p("\tVFMADD231PS Z%d, Z%d, %s", j, a, acc(i, j))
		}
	}
	p("\tADDQ $64, BX")
	p("\tDECQ CX")
	p("\tJNZ %s_loop", name)
	for i := 0; i < ma; i++ {
		p("\tADDQ sa+24(FP), %s", aReg[i])
	}
	for j := 0; j < nb; j++ {
		p("\tADDQ sb+32(FP), %s", bReg[j])
	}
	p("\tDECQ DX")
	p("\tJNZ %s_sample", name)
	p("\tMOVQ part+40(FP), AX")
	for i := 0; i < ma; i++ {
		for j := 0; j < nb; j++ {
			p("\tVMOVUPS %s, %d(AX)", acc(i, j), (i*nb+j)*64)
		}
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// shiftGemmAVX2 emits shiftGemm{mo}v{nv}AVX2, the 8-lane ymm version of
// shiftGemm: the same sums in the same order (bias, then one FMA per tap),
// so it agrees with the AVX-512 kernel bit for bit. Sixteen registers hold
// nv input vectors, one broadcast (renaming hides the reuse) and mo·nv
// accumulators.
func shiftGemmAVX2(mo, nv int) {
	name := fmt.Sprintf("shiftGemm%dv%dAVX2", mo, nv)
	accBase := 16 - mo*nv
	if nv+1 > accBase {
		panic(name + ": too many registers")
	}
	acc := func(i, v int) string { return fmt.Sprintf("Y%d", accBase+i*nv+v) }
	p("// func %s(k int, off *int, in *float32, wt *float32, ldw int, out *float32, ldo int, bias *float32)", name)
	p("TEXT ·%s(SB), NOSPLIT, $0-64", name)
	p("\tMOVQ k+0(FP), CX")
	p("\tMOVQ off+8(FP), SI")
	p("\tMOVQ in+16(FP), DI")
	p("\tMOVQ wt+24(FP), R8")
	p("\tMOVQ ldw+32(FP), R9")
	p("\tSHLQ $2, R9")
	p("\tMOVQ bias+56(FP), AX")
	for i := 0; i < mo; i++ {
		p("\tVBROADCASTSS %d(AX), %s", i*4, acc(i, 0))
		for v := 1; v < nv; v++ {
			p("\tVMOVAPS %s, %s", acc(i, 0), acc(i, v))
		}
	}
	p("%s_loop:", name)
	p("\tMOVQ (SI), AX")
	for v := 0; v < nv; v++ {
		p("\tVMOVUPS %d(DI)(AX*4), Y%d", v*32, v)
	}
	for i := 0; i < mo; i++ {
		b := nv
		if accBase > nv+1 {
			b += i % 2
		}
		p("\tVBROADCASTSS %d(R8), Y%d", i*4, b)
		for v := 0; v < nv; v++ {
			p("\tVFMADD231PS Y%d, Y%d, %s", v, b, acc(i, v))
		}
	}
	p("\tADDQ $8, SI")
	p("\tADDQ R9, R8")
	p("\tDECQ CX")
	p("\tJNZ %s_loop", name)
	p("\tMOVQ out+40(FP), DX")
	p("\tMOVQ ldo+48(FP), BX")
	p("\tSHLQ $2, BX")
	for i := 0; i < mo; i++ {
		for v := 0; v < nv; v++ {
			p("\tVMOVUPS %s, %d(DX)", acc(i, v), v*32)
		}
		if i < mo-1 {
			p("\tADDQ BX, DX")
		}
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// shiftDotsAVX2 emits shiftDots{ma}x{nb}AVX2, the 8-lane version of
// shiftDots (part holds 8 lanes per pair). With 16 registers a 4×3 tile
// (12 accumulators, 3 b vectors, 1 a vector) does 12 FMAs per 7 loads.
func shiftDotsAVX2(ma, nb int) {
	name := fmt.Sprintf("shiftDots%dx%dAVX2", ma, nb)
	accBase := 16 - ma*nb
	if nb+1 > accBase {
		panic(name + ": too many registers")
	}
	acc := func(i, j int) string { return fmt.Sprintf("Y%d", accBase+i*nb+j) }
	aReg := []string{"SI", "DI", "R8", "R9"}
	bReg := []string{"R10", "R11", "R12", "R13", "R14"}
	p("// func %s(ns, nvec int, rows *[9]*float32, sa, sb int, part *float32)", name)
	p("TEXT ·%s(SB), NOSPLIT, $0-48", name)
	p("\tMOVQ ns+0(FP), DX")
	p("\tMOVQ rows+16(FP), AX")
	for i := 0; i < ma; i++ {
		p("\tMOVQ %d(AX), %s", i*8, aReg[i])
	}
	for j := 0; j < nb; j++ {
		p("\tMOVQ %d(AX), %s", (4+j)*8, bReg[j])
	}
	for i := 0; i < ma; i++ {
		for j := 0; j < nb; j++ {
			p("\tVXORPS %s, %s, %s", acc(i, j), acc(i, j), acc(i, j))
		}
	}
	p("%s_sample:", name)
	p("\tMOVQ nvec+8(FP), CX")
	p("\tXORQ BX, BX")
	p("%s_loop:", name)
	for j := 0; j < nb; j++ {
		p("\tVMOVUPS (%s)(BX*1), Y%d", bReg[j], j)
	}
	for i := 0; i < ma; i++ {
		a := nb
		if accBase > nb+1 {
			a += i % 2
		}
		p("\tVMOVUPS (%s)(BX*1), Y%d", aReg[i], a)
		for j := 0; j < nb; j++ {
			p("\tVFMADD231PS Y%d, Y%d, %s", j, a, acc(i, j))
		}
	}
	p("\tADDQ $32, BX")
	p("\tDECQ CX")
	p("\tJNZ %s_loop", name)
	for i := 0; i < ma; i++ {
		p("\tADDQ sa+24(FP), %s", aReg[i])
	}
	for j := 0; j < nb; j++ {
		p("\tADDQ sb+32(FP), %s", bReg[j])
	}
	p("\tDECQ DX")
	p("\tJNZ %s_sample", name)
	p("\tMOVQ part+40(FP), AX")
	for i := 0; i < ma; i++ {
		for j := 0; j < nb; j++ {
			p("\tVMOVUPS %s, %d(AX)", acc(i, j), (i*nb+j)*32)
		}
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// dotTile2x4AVX2 emits the ymm half of DotTile4x4: two a rows against four
// b rows, 8 accumulators (a 4×4 tile would need 16 of the 16 registers for
// accumulators alone), so DotTile4x4 calls it twice per chunk of k small
// enough that the second call finds the b rows in L1. The accumulators are
// loaded from part and stored back, so chunking does not change the sums.
// Each step loads 4 b vectors and 2 a vectors for 8 FMAs.
func dotTile2x4AVX2() {
	const name = "dotTile2x4AVX2"
	p("// func %s(k int, a0, a1, b0, b1, b2, b3 *float32, part *float32)", name)
	p("// part[(i*4+j)*8 : +8] += lane-wise Σ a_i·b_j over k floats (k a positive")
	p("// multiple of 8); the caller sums the lanes.")
	p("TEXT ·%s(SB), NOSPLIT, $0-64", name)
	p("\tMOVQ k+0(FP), CX")
	p("\tSHRQ $3, CX")
	regs := []string{"SI", "DI", "R10", "R11", "R12", "R13"}
	args := []string{"a0", "a1", "b0", "b1", "b2", "b3"}
	for i, r := range regs {
		p("\tMOVQ %s+%d(FP), %s", args[i], 8+8*i, r)
	}
	p("\tMOVQ part+56(FP), DX")
	p("\tXORQ BX, BX")
	for a := 0; a < 8; a++ {
		p("\tVMOVUPS %d(DX), Y%d", 32*a, 8+a)
	}
	p("%s_loop:", name)
	for j := 0; j < 4; j++ {
		p("\tVMOVUPS (%s)(BX*1), Y%d", regs[2+j], j)
	}
	for i := 0; i < 2; i++ {
		p("\tVMOVUPS (%s)(BX*1), Y%d", regs[i], 4+i)
		for j := 0; j < 4; j++ {
			p("\tVFMADD231PS Y%d, Y%d, Y%d", j, 4+i, 8+i*4+j)
		}
	}
	p("\tADDQ $32, BX")
	p("\tDECQ CX")
	p("\tJNZ %s_loop", name)
	for a := 0; a < 8; a++ {
		p("\tVMOVUPS Y%d, %d(DX)", 8+a, 32*a)
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

func header() {
	out.Reset()
	p("// Code generated by gen_conv.go; DO NOT EDIT.")
	p("")
	p("//go:build amd64 && !noasm")
	p("")
	p("#include \"textflag.h\"")
	p("")
}

func write(name string) {
	if err := os.WriteFile(name, []byte(out.String()), 0o644); err != nil {
		panic(err)
	}
}

func main() {
	header()
	for mo := 1; mo <= 8; mo++ {
		shiftGemm(mo, 3)
	}
	for mo := 1; mo <= 4; mo++ {
		shiftGemm(mo, 6)
	}
	for ma := 1; ma <= 4; ma++ {
		shiftDots(ma, 5)
	}
	write("conv_amd64.s")

	// AVX2+FMA: tiles of 16 positions (nv=2) for m ≥ 5 rows, 24 (nv=3)
	// below; both divide ShiftGemmPad's AVX-512 widths (48, 96).
	header()
	for mo := 1; mo <= 6; mo++ {
		shiftGemmAVX2(mo, 2)
	}
	for mo := 1; mo <= 4; mo++ {
		shiftGemmAVX2(mo, 3)
	}
	for ma := 1; ma <= 4; ma++ {
		shiftDotsAVX2(ma, 3)
	}
	dotTile2x4AVX2()
	write("conv_avx2_amd64.s")
}
