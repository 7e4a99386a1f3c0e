package kernel

import (
	"math"
	"unsafe"
)

// bfloat16 products with float32 accumulation.
//
// SgemmBF16 rounds both operands to bfloat16 (the top half of a float32:
// 8 exponent bits, 8 significant bits), multiplies them on the CPU's bf16
// dot-product units and sums in float32: AMX-BF16 tiles (TDPBF16PS) where
// Linux grants the tile state, else AVX512-BF16 (VDPBF16PS), else the
// rounding is emulated (bf16_rounded.go: the operands are rounded into
// scratch copies that Sgemm multiplies). Those instructions multiply pairs of K values at once, so both
// packings interleave K in pairs: a uint32 holds the bf16 of K index 2p in
// its low half and of 2p+1 in its high half, which is also how the
// instructions read their registers and tiles.
//
// The blocking, the packing and the accumulation order are in Go and shared
// by every kernel; the kernels only sweep one register (or tile) block.
// bf16Emulate is a Go kernel that does exactly what the instructions do
// (the same pair order, round-to-nearest-even, denormals flushed), so the
// tests check the whole path bit for bit on CPUs without bf16.

// ToBF16 rounds x to bfloat16 as VCVTNEPS2BF16 does: to nearest, ties to
// even; NaN stays NaN (made quiet); denormals become zero of the same sign.
func ToBF16(x float32) uint16 {
	b := math.Float32bits(x)
	switch {
	case b&0x7fffffff > 0x7f800000: // NaN
		return uint16(b>>16) | 0x40
	case b&0x7f800000 == 0: // zero or denormal
		return uint16(b>>16) & 0x8000
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// FromBF16 widens a bfloat16 to float32 (exactly).
func FromBF16(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// bf16Kernel is one entry of the bf16 dispatch: an mr x nr block of C is
// accumulated with the product of packed panels over pairs K pairs
// (C += A·B). A is pair-major (pairs x mr uint32) or, for tiles, row-major
// (mr x pairs); B is always pair-major (pairs x nr uint32).
type bf16Kernel struct {
	name      string
	mr, nr    int
	pairAlign int  // K pairs are padded to a multiple of this (tiles: 16)
	aRows     bool // A panel row-major (AMX tiles) instead of pair-major
	evenFirst bool // within a pair, K index 2p is added before 2p+1
	fn        func(pairs int, a, b *uint32, c *float32, ldc int)
}

// bf16Micro is the kernel chosen at init; name "" means none (SgemmBF16
// emulates the rounding and multiplies with Sgemm).
var bf16Micro bf16Kernel

// BF16Name reports which bf16 kernel SgemmBF16 uses: "amx-bf16",
// "avx512bf16", or "emulated" when the CPU has neither and SgemmBF16
// rounds the operands in Go and multiplies them with Sgemm (same numbers
// up to summation order, slower than float32 Sgemm).
func BF16Name() string {
	if bf16Micro.name == "" {
		return "emulated"
	}
	return bf16Micro.name
}

// HasBF16 reports whether SgemmBF16 runs on bf16 units of this CPU (AMX or
// AVX512-BF16) rather than emulating them.
func HasBF16() bool { return bf16Micro.name != "" }

// SgemmBF16 computes C = alpha*op(A)*op(B) + beta*C like Sgemm, with op(A)
// and op(B) rounded to bfloat16 (alpha is applied to A before rounding)
// and products summed in float32. A product of two bfloat16 values is
// exact in float32, so every kernel computes the same products and they
// differ only in the order (and, on the bf16 units, the denormal
// flushing) of the float32 sums. On CPUs without bf16 units
// (HasBF16() false) the operands are rounded into pooled scratch copies
// that Sgemm multiplies: no steady-state allocation, and the result is
// bit for bit Sgemm of the pre-rounded operands. It panics as Sgemm does
// on bad shapes.
func SgemmBF16(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if bf16Micro.name == "" {
		sgemmBF16Rounded(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	sgemmBF16With(bf16Micro, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// bf16KC is the K depth of one packed slice (in K values; even).
const bf16KC = 512

// bf16Ctx carries one SgemmBF16 K slice through the pool; recycled with
// its buffers, so steady-state calls do not allocate.
type bf16Ctx struct {
	kern          bf16Kernel
	transA        bool
	m, n          int
	alpha         float32
	a, c          []float32
	lda, ldc      int
	pc, kc, pairs int
	bp            []uint32   // packed B of the slice, all strips
	ap            [][]uint32 // per participant: the packed A block
	tile          [][]float32
	nStrips       int
}

var freeBF16 = make(freeList[*bf16Ctx], 4)

// sgemmBF16With runs the blocked bf16 product on kernel kern: C is scaled
// by beta first, then every K slice is added in order, so each element of
// C sees its products in K order whichever kernel runs. Row blocks of mr
// are spread over the pool.
func sgemmBF16With(kern bf16Kernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	scaleC(m, n, beta, c, ldc)
	if m == 0 || n == 0 || k == 0 || alpha == 0 {
		return
	}
	g, ok := freeBF16.take()
	if !ok {
		g = new(bf16Ctx)
	}
	mr, nr := kern.mr, kern.nr
	g.kern, g.transA, g.m, g.n, g.alpha, g.a, g.c, g.lda, g.ldc = kern, transA, m, n, alpha, a, c, lda, ldc
	g.nStrips = (n + nr - 1) / nr
	mBlocks := (m + mr - 1) / mr
	threads := maxThreads()
	if m*n*k < parWork {
		threads = 1
	}
	chunks := min(mBlocks, chunksPerThread*threads)
	helpers := min(threads, chunks)
	for len(g.ap) < helpers {
		g.ap, g.tile = append(g.ap, nil), append(g.tile, nil)
	}
	for pc := 0; pc < k; pc += bf16KC {
		kc := min(bf16KC, k-pc)
		pairs := (kc + 1) / 2
		pairs = (pairs + kern.pairAlign - 1) / kern.pairAlign * kern.pairAlign
		g.pc, g.kc, g.pairs = pc, kc, pairs
		if need := g.nStrips * pairs * nr; cap(g.bp) < need {
			g.bp = make([]uint32, need)
		}
		g.bp = g.bp[:g.nStrips*pairs*nr]
		for s := 0; s < g.nStrips; s++ {
			packBF16B(g.bp[s*pairs*nr:(s+1)*pairs*nr], b, ldb, transB, pc, kc, pairs, s*nr, min(nr, n-s*nr), nr)
		}
		for i := 0; i < helpers; i++ {
			if cap(g.ap[i]) < pairs*mr {
				g.ap[i] = make([]uint32, pairs*mr)
			}
			g.ap[i] = g.ap[i][:pairs*mr]
			if cap(g.tile[i]) < mr*nr {
				g.tile[i] = make([]float32, mr*nr)
			}
			g.tile[i] = g.tile[i][:mr*nr]
		}
		parallel(mBlocks, chunks, helpers, g)
	}
	g.a, g.c = nil, nil
	freeBF16.put(g)
}

// run computes row blocks [lo, hi) of the current K slice against every
// strip of packed B, on participant slot's buffers.
func (g *bf16Ctx) run(lo, hi, slot int) {
	kern, pairs, c, ldc := g.kern, g.pairs, g.c, g.ldc
	mr, nr := kern.mr, kern.nr
	ap, tile := g.ap[slot], g.tile[slot]
	for blk := lo; blk < hi; blk++ {
		i0 := blk * mr
		rows := min(mr, g.m-i0)
		packBF16A(ap, g.a, g.lda, g.transA, g.alpha, g.pc, g.kc, pairs, i0, rows, mr, kern.aRows)
		for s := 0; s < g.nStrips; s++ {
			j0 := s * nr
			cols := min(nr, g.n-j0)
			bp := &g.bp[s*pairs*nr]
			if rows == mr && cols == nr {
				kern.fn(pairs, &ap[0], bp, &c[i0*ldc+j0], ldc)
				continue
			}
			clear(tile)
			for i := 0; i < rows; i++ {
				copy(tile[i*nr:i*nr+cols], c[(i0+i)*ldc+j0:(i0+i)*ldc+j0+cols])
			}
			kern.fn(pairs, &ap[0], bp, &tile[0], nr)
			for i := 0; i < rows; i++ {
				copy(c[(i0+i)*ldc+j0:(i0+i)*ldc+j0+cols], tile[i*nr:i*nr+cols])
			}
		}
	}
}

// pairOf packs two bf16 values: K index 2p low, 2p+1 high.
func pairOf(lo, hi float32) uint32 { return uint32(ToBF16(lo)) | uint32(ToBF16(hi))<<16 }

// packBF16B packs columns [j0, j0+cols) of op(B), K rows [pc, pc+kc), as
// pairs x nr uint32 (zero past the edges).
func packBF16B(dst []uint32, b []float32, ldb int, transB bool, pc, kc, pairs, j0, cols, nr int) {
	clear(dst)
	at := func(p, j int) float32 {
		if p >= kc {
			return 0
		}
		if transB {
			return b[(j0+j)*ldb+pc+p]
		}
		return b[(pc+p)*ldb+j0+j]
	}
	for q := 0; q < pairs && 2*q < kc; q++ {
		row := dst[q*nr : q*nr+cols]
		for j := range row {
			row[j] = pairOf(at(2*q, j), at(2*q+1, j))
		}
	}
}

// packBF16A packs rows [i0, i0+rows) of alpha*op(A), K columns [pc, pc+kc),
// pair-major (pairs x mr) or row-major (mr x pairs), zero past the edges.
func packBF16A(dst []uint32, a []float32, lda int, transA bool, alpha float32, pc, kc, pairs, i0, rows, mr int, rowMajor bool) {
	clear(dst)
	at := func(i, p int) float32 {
		if p >= kc {
			return 0
		}
		if transA {
			return alpha * a[(pc+p)*lda+i0+i]
		}
		return alpha * a[(i0+i)*lda+pc+p]
	}
	for i := 0; i < rows; i++ {
		for q := 0; q < pairs && 2*q < kc; q++ {
			v := pairOf(at(i, 2*q), at(i, 2*q+1))
			if rowMajor {
				dst[i*pairs+q] = v
			} else {
				dst[q*mr+i] = v
			}
		}
	}
}

// flushF32 is the FTZ of the bf16 instructions: denormal results become
// zero of the same sign.
func flushF32(x float32) float32 {
	if b := math.Float32bits(x); b&0x7f800000 == 0 {
		return math.Float32frombits(b & 0x80000000)
	}
	return x
}

// bf16Emulate returns a Go kernel with the geometry and the arithmetic of
// an instruction kernel: each pair adds its two products to the float32
// sum one after the other, in the instruction's order, each rounded to
// nearest even (a product of two bf16 values is exact in float32), with
// denormals flushed. The AVX512 and AMX kernels must give the same bits.
func bf16Emulate(name string, mr, nr, pairAlign int, aRows, evenFirst bool) bf16Kernel {
	k := bf16Kernel{name: name, mr: mr, nr: nr, pairAlign: pairAlign, aRows: aRows, evenFirst: evenFirst}
	k.fn = func(pairs int, a, b *uint32, c *float32, ldc int) {
		ap := unsafeUint32s(a, pairs*mr)
		bp := unsafeUint32s(b, pairs*nr)
		cs := unsafeFloats(c, (mr-1)*ldc+nr)
		for i := 0; i < mr; i++ {
			for j := 0; j < nr; j++ {
				acc := cs[i*ldc+j]
				for q := 0; q < pairs; q++ {
					av := ap[q*mr+i]
					if aRows {
						av = ap[i*pairs+q]
					}
					bv := bp[q*nr+j]
					lo := float32(FromBF16(uint16(av)) * FromBF16(uint16(bv)))
					hi := float32(FromBF16(uint16(av>>16)) * FromBF16(uint16(bv>>16)))
					if evenFirst {
						acc = flushF32(flushF32(acc+lo) + hi)
					} else {
						acc = flushF32(flushF32(acc+hi) + lo)
					}
				}
				cs[i*ldc+j] = acc
			}
		}
	}
	return k
}

func unsafeUint32s(p *uint32, n int) []uint32  { return unsafe.Slice(p, n) }
func unsafeFloats(p *float32, n int) []float32 { return unsafe.Slice(p, n) }
