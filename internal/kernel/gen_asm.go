//go:build ignore

// gen_asm writes sgemm_amd64.s: the SGEMM micro-kernels for AVX-512 and
// AVX2+FMA. The kernels are long, regular and unrolled, so they are generated
// rather than typed. Run `go generate ./internal/kernel` after editing.
package main

import (
	"fmt"
	"os"
	"strings"
)

var out strings.Builder

func p(format string, args ...any) { fmt.Fprintf(&out, format+"\n", args...) }

// kernel emits a micro-kernel that computes an mr x (nv*vw) tile:
//
//	C[i][j] = sum_p A[p*mr+i] * B[p*nr+j] + beta*C[i][j]   (beta==0: C ignored)
//
// A and B are packed panels; each k step loads nv vectors of B and broadcasts
// one A element per row. reg is "Z" (zmm, 16 floats) or "Y" (ymm, 8 floats).
// Register use: B vectors 0..nv-1 (and nv..2nv-1 on odd unrolled steps when
// spare registers exist), broadcasts in two alternating registers, then the
// mr*nv accumulators; beta reuses register 0 at store time.
func kernel(name string, mr, nv int, reg string, vw, unroll int, nregs int) {
	nr := nv * vw
	vb := vw * 4 // vector bytes
	accBase := nregs - mr*nv
	bcA, bcB := nv, nv+1
	// Spare registers between the broadcasts and the accumulators let odd
	// unrolled steps load B into a different set, so loads run further ahead.
	altB := accBase-(nv+2) >= nv
	acc := func(i, v int) string { return fmt.Sprintf("%s%d", reg, accBase+i*nv+v) }
	breg := func(step, v int) string {
		if altB && step%2 == 1 {
			return fmt.Sprintf("%s%d", reg, nv+2+v)
		}
		return fmt.Sprintf("%s%d", reg, v)
	}
	p("// func %s(k int, a *float32, b *float32, c *float32, ldc int, beta float32)", name)
	p("// %dx%d tile, %d-wide %smm vectors, k loop unrolled %dx.", mr, nr, vw, strings.ToLower(reg), unroll)
	p("TEXT ·%s(SB), NOSPLIT, $0-44", name)
	p("\tMOVQ k+0(FP), SI")
	p("\tMOVQ a+8(FP), AX")
	p("\tMOVQ b+16(FP), BX")
	p("\tMOVQ c+24(FP), CX")
	p("\tMOVQ ldc+32(FP), DX")
	p("\tSHLQ $2, DX")
	zeroTile(mr, nv, reg, acc)
	prefetchC(mr, nr)
	p("\tMOVQ SI, DI")
	p("\tSHRQ $%d, SI", log2(unroll))
	p("\tANDQ $%d, DI", unroll-1)
	p("\tTESTQ SI, SI")
	p("\tJZ %s_rem", name)
	p("%s_loop:", name)
	for s := 0; s < unroll; s++ {
		step(mr, nv, vb, s, breg, acc, bcA, bcB, reg)
	}
	p("\tPREFETCHT0 %d(AX)", 4*mr*unroll*2)
	p("\tPREFETCHT0 %d(BX)", 4*nr*unroll*2)
	p("\tADDQ $%d, AX", 4*mr*unroll)
	p("\tADDQ $%d, BX", 4*nr*unroll)
	p("\tDECQ SI")
	p("\tJNZ %s_loop", name)
	p("%s_rem:", name)
	p("\tTESTQ DI, DI")
	p("\tJZ %s_store", name)
	p("%s_remloop:", name)
	step(mr, nv, vb, 0, breg, acc, bcA, bcB, reg)
	p("\tADDQ $%d, AX", 4*mr)
	p("\tADDQ $%d, BX", 4*nr)
	p("\tDECQ DI")
	p("\tJNZ %s_remloop", name)
	p("%s_store:", name)
	storeTile(name, mr, nv, reg, vb, "beta+40(FP)", acc)
}

// zeroTile clears the mr×nv accumulators.
func zeroTile(mr, nv int, reg string, acc func(i, v int) string) {
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			if reg == "Z" {
				p("\tVPXORD %s, %s, %s", acc(i, v), acc(i, v), acc(i, v))
			} else {
				p("\tVXORPS %s, %s, %s", acc(i, v), acc(i, v), acc(i, v))
			}
		}
	}
}

// prefetchC touches the C tile (at CX, row stride DX bytes) early, so its
// lines arrive while the k loop runs.
func prefetchC(mr, nr int) {
	p("\tMOVQ CX, R9")
	for i := 0; i < mr; i++ {
		for off := 0; off < nr*4; off += 64 {
			p("\tPREFETCHT0 %d(R9)", off)
		}
		if i < mr-1 {
			p("\tADDQ DX, R9")
		}
	}
}

// storeTile writes the accumulators to the C tile at CX (row stride DX
// bytes): C = acc + beta*C, with beta (the float32 argument at betaArg)
// == ±0 meaning overwrite, so C is not read and NaNs in it do not leak.
func storeTile(name string, mr, nv int, reg string, vb int, betaArg string, acc func(i, v int) string) {
	p("\tMOVL %s, R8", betaArg)
	p("\tSHLL $1, R8")
	p("\tJZ %s_store0", name)
	p("\tVBROADCASTSS %s, %s0", betaArg, reg)
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			p("\tVFMADD231PS %d(CX), %s0, %s", v*vb, reg, acc(i, v))
			p("\tVMOVUPS %s, %d(CX)", acc(i, v), v*vb)
		}
		if i < mr-1 {
			p("\tADDQ DX, CX")
		}
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("%s_store0:", name)
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			p("\tVMOVUPS %s, %d(CX)", acc(i, v), v*vb)
		}
		if i < mr-1 {
			p("\tADDQ DX, CX")
		}
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

func step(mr, nv, vb, s int, breg func(int, int) string, acc func(int, int) string, bcA, bcB int, reg string) {
	nr := nv * vb / 4
	for v := 0; v < nv; v++ {
		p("\tVMOVUPS %d(BX), %s", s*nr*4+v*vb, breg(s, v))
	}
	for i := 0; i < mr; i++ {
		bc := bcA
		if i%2 == 1 {
			bc = bcB
		}
		p("\tVBROADCASTSS %d(AX), %s%d", (s*mr+i)*4, reg, bc)
		for v := 0; v < nv; v++ {
			p("\tVFMADD231PS %s, %s%d, %s", breg(s, v), reg, bc, acc(i, v))
		}
	}
}

// directKernel emits an AVX2 6x16 kernel that reads A where it lies
// instead of from a packed panel:
//
//	C[i][j] = alpha * sum_p A(i,p) * B[p*16+j] + beta*C[i][j]   (beta==0: C ignored)
//
// with A(i,p) = a[i*lda+p] (row-major A, colA false) or a[p*lda+i] (A
// stored transposed, colA true: a K step's six values are contiguous, as
// in a packed panel, but the steps are lda apart). Skipping the packing of
// A pays when B has few strips: each packed A value would be used only a
// few times. Row-major A is broadcast from six row pointers, rows 0-4 as
// AX plus a multiple of lda (index scales 1, 2, 4 and R11 = 3*lda) and
// row 5 from R12 = AX + 5*lda.
func directKernel(name string, mr, nv, unroll int, colA bool) {
	const vw, vb = 8, 32
	nr := nv * vw
	accBase := 16 - mr*nv
	bcA, bcB := nv, nv+1
	acc := func(i, v int) string { return fmt.Sprintf("Y%d", accBase+i*nv+v) }
	p("// func %s(k int, a *float32, lda int, b *float32, c *float32, ldc int, alpha, beta float32)", name)
	p("TEXT ·%s(SB), NOSPLIT, $0-56", name)
	p("\tMOVQ k+0(FP), SI")
	p("\tMOVQ a+8(FP), AX")
	p("\tMOVQ lda+16(FP), R10")
	p("\tSHLQ $2, R10")
	p("\tMOVQ b+24(FP), BX")
	p("\tMOVQ c+32(FP), CX")
	p("\tMOVQ ldc+40(FP), DX")
	p("\tSHLQ $2, DX")
	if !colA {
		p("\tLEAQ (R10)(R10*2), R11")
		p("\tLEAQ (AX)(R10*4), R12")
		p("\tADDQ R10, R12")
	}
	zeroTile(mr, nv, "Y", acc)
	prefetchC(mr, nr)
	// aAddr is A(i, s) relative to the current K step.
	aAddr := func(s, i int) string {
		if colA {
			return fmt.Sprintf("%d(AX)", i*4)
		}
		d := s * 4
		switch i {
		case 0:
			return fmt.Sprintf("%d(AX)", d)
		case 1:
			return fmt.Sprintf("%d(AX)(R10*1)", d)
		case 2:
			return fmt.Sprintf("%d(AX)(R10*2)", d)
		case 3:
			return fmt.Sprintf("%d(AX)(R11*1)", d)
		case 4:
			return fmt.Sprintf("%d(AX)(R10*4)", d)
		default:
			return fmt.Sprintf("%d(R12)", d)
		}
	}
	dstep := func(s int) {
		for v := 0; v < nv; v++ {
			p("\tVMOVUPS %d(BX), Y%d", s*nr*4+v*vb, v)
		}
		for i := 0; i < mr; i++ {
			bc := bcA
			if i%2 == 1 {
				bc = bcB
			}
			p("\tVBROADCASTSS %s, Y%d", aAddr(s, i), bc)
			for v := 0; v < nv; v++ {
				p("\tVFMADD231PS Y%d, Y%d, %s", v, bc, acc(i, v))
			}
		}
		if colA {
			p("\tADDQ R10, AX")
		}
	}
	p("\tMOVQ SI, DI")
	p("\tSHRQ $%d, SI", log2(unroll))
	p("\tANDQ $%d, DI", unroll-1)
	p("\tTESTQ SI, SI")
	p("\tJZ %s_rem", name)
	p("%s_loop:", name)
	for s := 0; s < unroll; s++ {
		dstep(s)
	}
	if !colA {
		p("\tADDQ $%d, AX", 4*unroll)
		p("\tADDQ $%d, R12", 4*unroll)
	}
	p("\tPREFETCHT0 %d(BX)", 4*nr*unroll*2)
	p("\tADDQ $%d, BX", 4*nr*unroll)
	p("\tDECQ SI")
	p("\tJNZ %s_loop", name)
	p("%s_rem:", name)
	p("\tTESTQ DI, DI")
	p("\tJZ %s_store", name)
	p("%s_remloop:", name)
	dstep(0)
	if !colA {
		p("\tADDQ $4, AX")
		p("\tADDQ $4, R12")
	}
	p("\tADDQ $%d, BX", 4*nr)
	p("\tDECQ DI")
	p("\tJNZ %s_remloop", name)
	p("%s_store:", name)
	p("\tVBROADCASTSS alpha+48(FP), Y0")
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			p("\tVMULPS Y0, %s, %s", acc(i, v), acc(i, v))
		}
	}
	storeTile(name, mr, nv, "Y", vb, "beta+52(FP)", acc)
}

func log2(n int) int {
	l := 0
	for 1<<l < n {
		l++
	}
	return l
}

func main() {
	p("// Code generated by gen_asm.go; DO NOT EDIT.")
	p("")
	p("//go:build amd64 && !noasm")
	p("")
	p("#include \"textflag.h\"")
	p("")
	kernel("kernAVX512", 12, 2, "Z", 16, 4, 32)
	kernel("kernAVX2", 6, 2, "Y", 8, 4, 16)
	directKernel("kernAVX2RowA", 6, 2, 4, false)
	directKernel("kernAVX2ColA", 6, 2, 4, true)
	packT16()
	packT8()
	vectors()
	if err := os.WriteFile("sgemm_amd64.s", []byte(out.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// vectors emits the AVX2 vector helpers. Each walks 32 floats per iteration
// (four ymm registers, so four independent chains in the reductions), then
// 8 at a time, then single floats; all loads and stores are unaligned.
func vectors() {
	// Elementwise: dst[i] = op(a[i], b[i]) over CX = len(dst). DI=dst, SI=a, R8=b.
	type ew struct {
		name, frame string
		setup       []string
		vec         func(r, off string) []string // r: Y or X register suffix builder
		sca         []string
	}
	ews := []ew{
		{"addAVX2", "$0-72", []string{"MOVQ dst_base+0(FP), DI", "MOVQ a_base+24(FP), SI", "MOVQ b_base+48(FP), R8", "MOVQ dst_len+8(FP), CX"},
			func(r, off string) []string {
				return []string{"VMOVUPS " + off + "(SI), " + r, "VADDPS " + off + "(R8), " + r + ", " + r}
			},
			[]string{"VMOVSS (SI), X0", "VADDSS (R8), X0, X0"}},
		{"mulAVX2", "$0-72", []string{"MOVQ dst_base+0(FP), DI", "MOVQ a_base+24(FP), SI", "MOVQ b_base+48(FP), R8", "MOVQ dst_len+8(FP), CX"},
			func(r, off string) []string {
				return []string{"VMOVUPS " + off + "(SI), " + r, "VMULPS " + off + "(R8), " + r + ", " + r}
			},
			[]string{"VMOVSS (SI), X0", "VMULSS (R8), X0, X0"}},
		{"scaleAVX2", "$0-56", []string{"MOVQ dst_base+0(FP), DI", "MOVQ x_base+32(FP), SI", "MOVQ dst_len+8(FP), CX", "VBROADCASTSS s+24(FP), Y15"},
			func(r, off string) []string { return []string{"VMULPS " + off + "(SI), Y15, " + r} },
			[]string{"VMULSS (SI), X15, X0"}},
		{"addScalarAVX2", "$0-56", []string{"MOVQ dst_base+0(FP), DI", "MOVQ x_base+32(FP), SI", "MOVQ dst_len+8(FP), CX", "VBROADCASTSS s+24(FP), Y15"},
			func(r, off string) []string { return []string{"VADDPS " + off + "(SI), Y15, " + r} },
			[]string{"VADDSS (SI), X15, X0"}},
		// max(0, x) with 0 as the operand returned for NaN, matching reluGo.
		{"reluAVX2", "$0-48", []string{"MOVQ dst_base+0(FP), DI", "MOVQ x_base+24(FP), SI", "MOVQ dst_len+8(FP), CX", "VXORPS Y15, Y15, Y15"},
			func(r, off string) []string {
				return []string{"VMOVUPS " + off + "(SI), " + r, "VMAXPS Y15, " + r + ", " + r}
			},
			[]string{"VMOVSS (SI), X0", "VMAXSS X15, X0, X0"}},
		// y += alpha*x: DI=y (dst), SI=x.
		{"axpyAVX2", "$0-56", []string{"MOVQ y_base+32(FP), DI", "MOVQ x_base+8(FP), SI", "MOVQ y_len+40(FP), CX", "VBROADCASTSS alpha+0(FP), Y15"},
			func(r, off string) []string {
				return []string{"VMOVUPS " + off + "(DI), " + r, "VFMADD231PS " + off + "(SI), Y15, " + r}
			},
			[]string{"VMOVSS (DI), X0", "VFMADD231SS (SI), X15, X0"}},
	}
	for _, e := range ews {
		n := e.name
		p("// func %s: see vec_amd64.go.", n)
		p("TEXT ·%s(SB), NOSPLIT, %s", n, e.frame)
		for _, l := range e.setup {
			p("\t%s", l)
		}
		p("%s_loop32:", n)
		p("\tCMPQ CX, $32")
		p("\tJL %s_loop8", n)
		for v := 0; v < 4; v++ {
			for _, l := range e.vec(fmt.Sprintf("Y%d", v), fmt.Sprint(v*32)) {
				p("\t%s", l)
			}
		}
		for v := 0; v < 4; v++ {
			p("\tVMOVUPS Y%d, %d(DI)", v, v*32)
		}
		p("\tADDQ $128, SI")
		p("\tADDQ $128, DI")
		if strings.Contains(strings.Join(e.setup, " "), "R8") {
			p("\tADDQ $128, R8")
		}
		p("\tSUBQ $32, CX")
		p("\tJMP %s_loop32", n)
		p("%s_loop8:", n)
		p("\tCMPQ CX, $8")
		p("\tJL %s_tail", n)
		for _, l := range e.vec("Y0", "0") {
			p("\t%s", l)
		}
		p("\tVMOVUPS Y0, (DI)")
		p("\tADDQ $32, SI")
		p("\tADDQ $32, DI")
		if strings.Contains(strings.Join(e.setup, " "), "R8") {
			p("\tADDQ $32, R8")
		}
		p("\tSUBQ $8, CX")
		p("\tJMP %s_loop8", n)
		p("%s_tail:", n)
		p("\tTESTQ CX, CX")
		p("\tJZ %s_done", n)
		for _, l := range e.sca {
			p("\t%s", l)
		}
		p("\tVMOVSS X0, (DI)")
		p("\tADDQ $4, SI")
		p("\tADDQ $4, DI")
		if strings.Contains(strings.Join(e.setup, " "), "R8") {
			p("\tADDQ $4, R8")
		}
		p("\tDECQ CX")
		p("\tJMP %s_tail", n)
		p("%s_done:", n)
		p("\tVZEROUPPER")
		p("\tRET")
		p("")
	}

	// Reductions into Y0..Y3, folded to X0 then finished on scalars.
	type red struct {
		name, frame, ret string
		setup            []string
		vec              func(r, off string) []string
		fold             string // VADDPS or VMAXPS
		sca              []string
		twoPtr           bool
	}
	reds := []red{
		{"dotAVX2", "$0-52", "ret+48(FP)", []string{"MOVQ x_base+0(FP), SI", "MOVQ y_base+24(FP), R8", "MOVQ x_len+8(FP), CX",
			"VXORPS Y0, Y0, Y0", "VXORPS Y1, Y1, Y1", "VXORPS Y2, Y2, Y2", "VXORPS Y3, Y3, Y3"},
			func(r, off string) []string {
				return []string{"VMOVUPS " + off + "(SI), Y4", "VFMADD231PS " + off + "(R8), Y4, " + r}
			},
			"VADDPS", []string{"VMOVSS (SI), X4", "VFMADD231SS (R8), X4, X0"}, true},
		{"sumAVX2", "$0-28", "ret+24(FP)", []string{"MOVQ x_base+0(FP), SI", "MOVQ x_len+8(FP), CX",
			"VXORPS Y0, Y0, Y0", "VXORPS Y1, Y1, Y1", "VXORPS Y2, Y2, Y2", "VXORPS Y3, Y3, Y3"},
			func(r, off string) []string { return []string{"VADDPS " + off + "(SI), " + r + ", " + r} },
			"VADDPS", []string{"VADDSS (SI), X0, X0"}, false},
		// len(x) >= 1: every lane starts at x[0], which is in the set anyway.
		{"maxAVX2", "$0-28", "ret+24(FP)", []string{"MOVQ x_base+0(FP), SI", "MOVQ x_len+8(FP), CX",
			"VBROADCASTSS (SI), Y0", "VMOVUPS Y0, Y1", "VMOVUPS Y0, Y2", "VMOVUPS Y0, Y3"},
			func(r, off string) []string { return []string{"VMAXPS " + off + "(SI), " + r + ", " + r} },
			"VMAXPS", []string{"VMAXSS (SI), X0, X0"}, false},
	}
	for _, e := range reds {
		n := e.name
		p("// func %s: see vec_amd64.go.", n)
		p("TEXT ·%s(SB), NOSPLIT, %s", n, e.frame)
		for _, l := range e.setup {
			p("\t%s", l)
		}
		p("%s_loop32:", n)
		p("\tCMPQ CX, $32")
		p("\tJL %s_loop8", n)
		for v := 0; v < 4; v++ {
			for _, l := range e.vec(fmt.Sprintf("Y%d", v), fmt.Sprint(v*32)) {
				p("\t%s", strings.ReplaceAll(l, "Y4", fmt.Sprintf("Y%d", 4+v)))
			}
		}
		p("\tADDQ $128, SI")
		if e.twoPtr {
			p("\tADDQ $128, R8")
		}
		p("\tSUBQ $32, CX")
		p("\tJMP %s_loop32", n)
		p("%s_loop8:", n)
		p("\tCMPQ CX, $8")
		p("\tJL %s_fold", n)
		for _, l := range e.vec("Y0", "0") {
			p("\t%s", l)
		}
		p("\tADDQ $32, SI")
		if e.twoPtr {
			p("\tADDQ $32, R8")
		}
		p("\tSUBQ $8, CX")
		p("\tJMP %s_loop8", n)
		p("%s_fold:", n)
		p("\t%s Y1, Y0, Y0", e.fold)
		p("\t%s Y3, Y2, Y2", e.fold)
		p("\t%s Y2, Y0, Y0", e.fold)
		p("\tVEXTRACTF128 $1, Y0, X1")
		p("\t%s X1, X0, X0", e.fold)
		p("\tVPERMILPS $0x4E, X0, X1")
		p("\t%s X1, X0, X0", e.fold)
		p("\tVPERMILPS $0xB1, X0, X1")
		p("\t%s X1, X0, X0", e.fold)
		p("%s_tail:", n)
		p("\tTESTQ CX, CX")
		p("\tJZ %s_done", n)
		for _, l := range e.sca {
			p("\t%s", l)
		}
		p("\tADDQ $4, SI")
		if e.twoPtr {
			p("\tADDQ $4, R8")
		}
		p("\tDECQ CX")
		p("\tJMP %s_tail", n)
		p("%s_done:", n)
		p("\tVMOVSS X0, %s", e.ret)
		p("\tVZEROUPPER")
		p("\tRET")
		p("")
	}
}

// packT16 emits packT16AVX512 (see pack_amd64.go): the transposing pack of
// up to 16 source rows into 16-wide column groups of a packed panel. Each
// 16x16 block is loaded as 16 row vectors and transposed in registers in four
// shuffle rounds (float pairs, float quads, 128-bit lanes twice), so memory
// sees 16 contiguous loads and 16 contiguous stores instead of 256 scalar
// moves. The source rows are addressed through a table of byte offsets so
// that missing rows of an edge panel can point at a valid row; their output
// lanes are zeroed by a masked move, which also writes the panel's padding.
//
// Registers: DI dst, DX ldd in bytes, SI src, R8 offsets table, CX columns
// left, BX mode, K1 store mask (panel width), K2 valid-row mask, K3 tail
// column mask, Z16 alpha.
func packT16() {
	const name = "packT16AVX512"
	p("// func %s(dst *float32, ldd int, src *float32, offs *[16]int, kc int, alpha float32, wmask, zmask, mode int)", name)
	p("TEXT ·%s(SB), NOSPLIT, $0-72", name)
	p("\tMOVQ dst+0(FP), DI")
	p("\tMOVQ ldd+8(FP), DX")
	p("\tSHLQ $2, DX")
	p("\tMOVQ src+16(FP), SI")
	p("\tMOVQ offs+24(FP), R8")
	p("\tMOVQ kc+32(FP), CX")
	p("\tMOVQ wmask+48(FP), AX")
	p("\tKMOVW AX, K1")
	p("\tMOVQ zmask+56(FP), AX")
	p("\tKMOVW AX, K2")
	p("\tMOVQ mode+64(FP), BX")
	p("%s_loop:", name)
	p("\tCMPQ CX, $16")
	p("\tJLT %s_tail", name)
	loads := func(mask string) {
		for r := 0; r < 16; r++ {
			t := []string{"R9", "R10"}[r%2]
			p("\tMOVQ %d(R8), %s", 8*r, t)
			if mask == "" {
				p("\tVMOVUPS (SI)(%s*1), Z%d", t, r)
			} else {
				p("\tVMOVUPS.Z (SI)(%s*1), %s, Z%d", t, mask, r)
			}
		}
	}
	out := transpose16()
	fix := func(tag string) {
		// mode 0: rows complete and alpha 1, nothing to do; 1: zero the
		// missing rows' lanes; 2: also scale by alpha.
		p("\tTESTQ BX, BX")
		p("\tJZ %s_%s_store", name, tag)
		p("\tCMPQ BX, $1")
		p("\tJEQ %s_%s_zero", name, tag)
		p("\tVBROADCASTSS alpha+40(FP), Z16")
		for j := 0; j < 16; j++ {
			p("\tVMULPS.Z Z16, Z%d, K2, Z%d", out[j], out[j])
		}
		p("\tJMP %s_%s_store", name, tag)
		p("%s_%s_zero:", name, tag)
		for j := 0; j < 16; j++ {
			p("\tVMOVUPS.Z Z%d, K2, Z%d", out[j], out[j])
		}
		p("%s_%s_store:", name, tag)
	}
	loads("")
	emitTranspose16()
	fix("full")
	for j := 0; j < 16; j++ {
		p("\tVMOVUPS Z%d, K1, (DI)", out[j])
		p("\tADDQ DX, DI")
	}
	p("\tADDQ $64, SI")
	p("\tSUBQ $16, CX")
	p("\tJMP %s_loop", name)
	p("%s_tail:", name)
	p("\tTESTQ CX, CX")
	p("\tJZ %s_done", name)
	// Columns [0, CX) of the last block: masked loads (masked-off elements
	// do not fault, so reading past the matrix end is safe), and only the
	// first CX output rows are stored.
	p("\tMOVQ $1, AX")
	p("\tSHLQ CX, AX")
	p("\tDECQ AX")
	p("\tKMOVW AX, K3")
	loads("K3")
	emitTranspose16()
	fix("tail")
	for j := 0; j < 16; j++ {
		p("\tVMOVUPS Z%d, K1, (DI)", out[j])
		if j < 15 {
			p("\tDECQ CX")
			p("\tJZ %s_done", name)
			p("\tADDQ DX, DI")
		}
	}
	p("%s_done:", name)
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// packT8 emits packT8AVX2 (see pack_amd64.go): the AVX (ymm) counterpart of
// packT16AVX512 for CPUs without AVX-512, 8 rows into an 8-wide column
// group, kc a positive multiple of 8 (the caller packs the column tail).
// Each 8x8 block is loaded as 4-float halves, row i's in the low 128-bit
// lane and row i+4's in the high one (VINSERTF128 from memory, a load, not
// a shuffle), so a 4x4 transpose within lanes (unpack, then VSHUFPS: 16
// shuffles per block) finishes it with no cross-lane permutes. Missing rows
// point at a valid one and their lanes are cleared with an AND mask; a
// group narrower than 8 (an edge panel) stores through VMASKMOVPS, full
// ones with plain stores (masked stores are slow on some AMD cores).
//
// Registers: DI dst, DX ldd in bytes, SI src, R8 offsets table, CX columns
// left, BX mode, R11 masked-store flag, Y0-Y7 the block, Y8-Y11 scratch,
// Y12 alpha, Y13 valid-row mask, Y14 store mask.
func packT8() {
	const name = "packT8AVX2"
	p("// func %s(dst *float32, ldd int, src *float32, offs *[8]int, kc int, alpha float32, masks *[16]int32, mode int, partial bool)", name)
	p("TEXT ·%s(SB), NOSPLIT, $0-65", name)
	p("\tMOVQ dst+0(FP), DI")
	p("\tMOVQ ldd+8(FP), DX")
	p("\tSHLQ $2, DX")
	p("\tMOVQ src+16(FP), SI")
	p("\tMOVQ offs+24(FP), R8")
	p("\tMOVQ kc+32(FP), CX")
	p("\tMOVQ masks+48(FP), AX")
	p("\tVMOVDQU (AX), Y14")
	p("\tVMOVDQU 32(AX), Y13")
	p("\tVBROADCASTSS alpha+40(FP), Y12")
	p("\tMOVQ mode+56(FP), BX")
	p("\tMOVBQZX partial+64(FP), R11")
	p("%s_loop:", name)
	for i := 0; i < 4; i++ {
		p("\tMOVQ %d(R8), R9", 8*i)
		p("\tMOVQ %d(R8), R10", 8*(i+4))
		p("\tVMOVUPS (SI)(R9*1), X%d", i)
		p("\tVINSERTF128 $1, (SI)(R10*1), Y%d, Y%d", i, i)
		p("\tVMOVUPS 16(SI)(R9*1), X%d", i+4)
		p("\tVINSERTF128 $1, 16(SI)(R10*1), Y%d, Y%d", i+4, i+4)
	}
	// Y(s+c), s in {0, 4}, c < 4, now holds in lane L columns s..s+3 of
	// row c+4L; transposing the 4x4 grids in each lane leaves column s+c
	// (rows 0-3 low, 4-7 high) in Y(s+c).
	for s := 0; s < 8; s += 4 {
		p("\tVUNPCKLPS Y%d, Y%d, Y8", s+1, s)
		p("\tVUNPCKHPS Y%d, Y%d, Y9", s+1, s)
		p("\tVUNPCKLPS Y%d, Y%d, Y10", s+3, s+2)
		p("\tVUNPCKHPS Y%d, Y%d, Y11", s+3, s+2)
		p("\tVSHUFPS $0x44, Y10, Y8, Y%d", s)
		p("\tVSHUFPS $0xEE, Y10, Y8, Y%d", s+1)
		p("\tVSHUFPS $0x44, Y11, Y9, Y%d", s+2)
		p("\tVSHUFPS $0xEE, Y11, Y9, Y%d", s+3)
	}
	// mode 0: rows complete and alpha 1; 1: clear the missing rows' lanes;
	// 2: scale by alpha, then clear.
	p("\tTESTQ BX, BX")
	p("\tJZ %s_store", name)
	p("\tCMPQ BX, $1")
	p("\tJEQ %s_zero", name)
	for c := 0; c < 8; c++ {
		p("\tVMULPS Y12, Y%d, Y%d", c, c)
	}
	p("%s_zero:", name)
	for c := 0; c < 8; c++ {
		p("\tVANDPS Y13, Y%d, Y%d", c, c)
	}
	p("%s_store:", name)
	p("\tTESTQ R11, R11")
	p("\tJNZ %s_masked", name)
	for c := 0; c < 8; c++ {
		p("\tVMOVUPS Y%d, (DI)", c)
		p("\tADDQ DX, DI")
	}
	p("\tJMP %s_next", name)
	p("%s_masked:", name)
	for c := 0; c < 8; c++ {
		p("\tVMASKMOVPS Y%d, Y14, (DI)", c)
		p("\tADDQ DX, DI")
	}
	p("%s_next:", name)
	p("\tADDQ $32, SI")
	p("\tSUBQ $8, CX")
	p("\tJNZ %s_loop", name)
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// transpose16 returns, for each output row j (source column j of the
// block), the register that emitTranspose16 leaves it in.
func transpose16() [16]int {
	var out [16]int
	for c := 0; c < 4; c++ {
		for l := 0; l < 4; l++ {
			out[4*l+c] = 4*c + l
		}
	}
	return out
}

// emitTranspose16 transposes Z0..Z15 (row r in Zr). Round 1 interleaves
// float pairs of rows 2i, 2i+1 into Z16..Z31; round 2 interleaves the pairs
// of four rows into Z0..Z15, so Z(4g+c) holds, in 128-bit lane L, rows
// 4g..4g+3 of column 4L+c; rounds 3 and 4 transpose those 4x4 grids of lanes
// with VSHUFF32X4, leaving column 4L+c in Z(4c+L).
func emitTranspose16() {
	for i := 0; i < 16; i += 2 {
		p("\tVUNPCKLPS Z%d, Z%d, Z%d", i+1, i, 16+i)
		p("\tVUNPCKHPS Z%d, Z%d, Z%d", i+1, i, 16+i+1)
	}
	for g := 0; g < 4; g++ {
		t := 16 + 4*g
		p("\tVUNPCKLPD Z%d, Z%d, Z%d", t+2, t, 4*g)
		p("\tVUNPCKHPD Z%d, Z%d, Z%d", t+2, t, 4*g+1)
		p("\tVUNPCKLPD Z%d, Z%d, Z%d", t+3, t+1, 4*g+2)
		p("\tVUNPCKHPD Z%d, Z%d, Z%d", t+3, t+1, 4*g+3)
	}
	// For column phase c the groups' vectors are a=Z(c), b=Z(4+c), cc=Z(8+c),
	// d=Z(12+c); x0,x1 pair a with b and y0,y1 pair cc with d.
	for c := 0; c < 4; c++ {
		x := 16 + 4*c
		p("\tVSHUFF32X4 $0x88, Z%d, Z%d, Z%d", 4+c, c, x)
		p("\tVSHUFF32X4 $0xDD, Z%d, Z%d, Z%d", 4+c, c, x+1)
		p("\tVSHUFF32X4 $0x88, Z%d, Z%d, Z%d", 12+c, 8+c, x+2)
		p("\tVSHUFF32X4 $0xDD, Z%d, Z%d, Z%d", 12+c, 8+c, x+3)
	}
	for c := 0; c < 4; c++ {
		x := 16 + 4*c
		p("\tVSHUFF32X4 $0x88, Z%d, Z%d, Z%d", x+2, x, 4*c+0)
		p("\tVSHUFF32X4 $0x88, Z%d, Z%d, Z%d", x+3, x+1, 4*c+1)
		p("\tVSHUFF32X4 $0xDD, Z%d, Z%d, Z%d", x+2, x, 4*c+2)
		p("\tVSHUFF32X4 $0xDD, Z%d, Z%d, Z%d", x+3, x+1, 4*c+3)
	}
}
