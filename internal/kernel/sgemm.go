package kernel

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// Blocking, Goto/BLIS style. For each kcBlk-deep slice of K and ncBlk-wide
// slice of N, B is packed once into NR-wide micro-panels shared by all
// threads; each thread then packs its own mcBlk x kc blocks of A (alpha folded
// in) into MR-high micro-panels and sweeps the micro-kernel over them.
// Where the N slice is narrow (directMaxStrips) and the CPU's kernel can,
// A is not packed at all: the kernel reads it in place and applies alpha
// at the end. Sizes are for Zen 5 (L1d 48 KiB, L2 1 MiB per core): a B micro-panel
// (kc x 32 floats = 32 KiB at kc=256) stays in L1 while the A block
// (mc x kc = 192 KiB) sits in L2 and the shared B block in L2/L3.
var (
	kcBlk = 256
	mcBlk = 192
	ncBlk = 4096
)

// directMaxStrips is the widest N slice, in micro-kernel strips, for which
// Sgemm reads A in place rather than packing it, on CPUs whose kernel can
// (microKernel.rowA/colA). A packed A value is used once per strip: with
// few strips (the tall, thin products of a transformer's token rows, one
// attention head) packing A costs as much as the product, while the
// kernel's six A streams are prefetched well enough in place. With many
// strips the packing is repaid, and a wide B means large products whose
// A blocks are better kept in a compact panel.
var directMaxStrips = 32

// smallWork is the m*n*k below which Sgemm skips packing and uses direct
// loops: packing overhead dominates tiny products.
const smallWork = 32 * 32 * 32

// parWork is the m*n*k below which Sgemm stays on one thread: under it the
// pool's wake-up cost (microseconds) is not repaid.
const parWork = 96 * 96 * 96

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices.
// op(A) is m×k (A is stored k×m when transA), op(B) is k×n (B is stored n×k
// when transB). lda, ldb and ldc are row strides in elements. beta==0 means C
// is overwritten: whatever C held, NaNs included, is ignored.
//
// Cost: 2*m*n*k flops. Products above about 32³ run a cache-blocked
// algorithm (B packed; A packed, or read in place for narrow products)
// with an assembly micro-kernel (see CPUName) on up to Threads()
// goroutines of the shared pool; smaller ones run direct loops on the caller.
// Packing buffers are kept in a free list, so steady-state calls do not
// allocate. It panics if a dimension is negative, a stride too small, or a
// slice too short for the shape.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	if m*n*k <= smallWork {
		sgemmSmall(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if m <= thinRows {
		sgemmThin(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if swapOperands(m, n, k, ldb) {
		sgemmSwapped(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	sgemmBlocked(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernel.Sgemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	ar, ac, br, bc := storedShapes(transA, transB, m, n, k)
	check := func(name string, s []float32, rows, cols, ld int) {
		if ld < max(cols, 1) {
			panic(fmt.Sprintf("kernel.Sgemm: ld%s=%d < %d columns", name, ld, cols))
		}
		if rows > 0 && cols > 0 && len(s) < (rows-1)*ld+cols {
			panic(fmt.Sprintf("kernel.Sgemm: len(%s)=%d too short for %dx%d with ld%s=%d", name, len(s), rows, cols, name, ld))
		}
	}
	if m > 0 && n > 0 && k > 0 {
		check("a", a, ar, ac, lda)
		check("b", b, br, bc, ldb)
	}
	check("c", c, m, n, ldc)
}

// storedShapes returns the rows and columns of A and B as stored: op(A)
// is m×k (A is k×m when transA), op(B) is k×n (B is n×k when transB).
func storedShapes(transA, transB bool, m, n, k int) (ar, ac, br, bc int) {
	ar, ac = m, k
	if transA {
		ar, ac = k, m
	}
	br, bc = k, n
	if transB {
		br, bc = n, k
	}
	return ar, ac, br, bc
}

// scaleC sets C = beta*C (beta==0 zeroes C, dropping NaNs).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			Scale(row, beta, row)
		}
	}
}

// sgemmSmall is the unpacked path for tiny products: rows of C accumulate
// axpys of rows of op(B) (or dots when B is transposed).
func sgemmSmall(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if transB && m > 1 && n >= 8 && n*k <= smallTransB {
		// x·Wᵀ of a small layer (a batch through iris's 4-16-3 MLP): one
		// dot of k values per output costs a call each; Bᵀ copied once
		// turns them into k vector axpys per row of C. With every buffer
		// in use, the dots below.
		if buf, ok := smallBufs.take(); ok {
			bt := buf[:k*n]
			for j := 0; j < n; j++ {
				for p, v := range b[j*ldb : j*ldb+k] {
					bt[p*n+j] = v
				}
			}
			sgemmSmall(transA, false, m, n, k, alpha, a, lda, bt, n, beta, c, ldc)
			smallBufs.put(buf)
			return
		}
	}
	scaleC(m, n, beta, c, ldc)
	for i := 0; i < m; i++ {
		crow := c[i*ldc : i*ldc+n]
		if transB {
			for j := 0; j < n; j++ {
				brow := b[j*ldb : j*ldb+k]
				var s float32
				if transA {
					for p, bv := range brow {
						s += a[p*lda+i] * bv
					}
				} else {
					s = Dot(a[i*lda:i*lda+k], brow)
				}
				crow[j] += alpha * s
			}
			continue
		}
		for p := 0; p < k; p++ {
			var av float32
			if transA {
				av = a[p*lda+i]
			} else {
				av = a[i*lda+p]
			}
			if av != 0 {
				Axpy(alpha*av, b[p*ldb:p*ldb+n], crow)
			}
		}
	}
}

// smallTransB bounds the Bᵀ that sgemmSmall copies (floats), and smallBufs
// holds the buffers it copies into; a call that finds none free takes the
// dot loops instead of waiting.
const smallTransB = 4096

var smallBufs = func() freeList[[]float32] {
	ch := make(freeList[[]float32], 8)
	for range cap(ch) {
		ch <- make([]float32, smallTransB)
	}
	return ch
}()

// thinRows is the row count up to which Sgemm treats C as a few vectors
// (single-sample inference: x·Wᵀ with one row of x). Packing B would read
// and write all of it to be used once or twice, so the direct loops win.
const thinRows = 4

// sgemmThin computes a product with few rows of C without packing: the
// columns of C are split across the pool, and each worker runs the direct
// loops of sgemmSmall on its slice of B (dots when B is transposed, axpys
// of B's row segments otherwise), reading B exactly once.
func sgemmThin(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m*n*k < parWork {
		sgemmSmall(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	Parallel(n, 64, func(lo, hi int) {
		bs := b[lo*ldb:]
		if !transB {
			bs = b[lo:]
		}
		sgemmSmall(transA, transB, m, hi-lo, k, alpha, a, lda, bs, ldb, beta, c[lo:], ldc)
	})
}

// swapOperands reports whether Sgemm computes Cᵀ = op(B)ᵀ·op(A)ᵀ and
// transposes it into C (sgemmSwapped) rather than C = op(A)·op(B). The
// blocked algorithm packs B whole and reads A in place (directMaxStrips);
// in a batch's pass through a wide layer, X·Wᵀ or dY·W with a few dozen
// rows of X against hundreds of thousands of weights, that packing reads
// and writes every weight to use it a few dozen times, and costs a quarter
// of the product. Swapped, the weights are read in place and only the
// batch is packed; the price is one transposition of C, which is small
// when C has few rows. The swap needs the kernels that read A in place
// (op(B)ᵀ is read either way: rowA or colA), and C's rows as the narrow
// side (at most directMaxStrips strips).
func swapOperands(m, n, k, ldb int) bool {
	if !swapEnabled || micro.rowA == nil || m > directMaxStrips*micro.nr || ldb%1024 == 0 {
		return false
	}
	normal := k * n                        // B packed
	swapped := k*m + swapTransposeCost*m*n // op(A) packed, C transposed
	return 2*normal >= 3*swapped
}

// swapTransposeCost weighs an element of C transposed against one of B
// packed (both are a read and a write, and the transposition also adds
// into C when beta is not 0). With it, the swap pays once it cuts that
// traffic by 1.5x. Set from BenchmarkSgemm's lin_* and b64_* shapes on
// Zen 3: the swap gained 8-10% on one thread for X·Wᵀ and dY·W with 64
// rows (lin_fwd1, lin_fwd2, lin_dX2), and lost 10-20% on dYᵀ·X (lin_dW1,
// K=64: C is the big matrix) and on 256 rows (lin_fwd1_b256) at two.
const swapTransposeCost = 2

// swapEnabled lets tests compare both formulations on one machine.
var swapEnabled = true

// swapBufs holds the scratch matrices of sgemmSwapped (Cᵀ, and C's new
// terms when beta is not 0), grown as needed and reused so steady-state
// calls do not allocate; a call that finds none free makes its own.
var swapBufs = make(freeList[[]float32], 8)

// sgemmSwapped computes C = alpha*op(A)·op(B) + beta*C as T = alpha*op(B)ᵀ·op(A)ᵀ
// on the blocked path (B read in place as its A operand) and then C = Tᵀ +
// beta*C. See swapOperands for when that pays.
func sgemmSwapped(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	buf, _ := swapBufs.take() // none free: grow makes one
	need := m * n
	if beta != 0 {
		need *= 2
	}
	buf = grow(buf, need)
	t := buf[:m*n]
	sgemmBlocked(!transB, !transA, n, m, k, alpha, b, ldb, a, lda, 0, t, m)
	if beta == 0 {
		packT(c, ldc, n, t, m, n, m, 1) // c[i*ldc+j] = t[j*m+i]
	} else {
		u := buf[m*n : 2*m*n]
		packT(u, n, n, t, m, n, m, 1)
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			if beta != 1 {
				Scale(row, beta, row)
			}
			Axpy(1, u[i*n:(i+1)*n], row)
		}
	}
	swapBufs.put(buf)
}

// gemmCtx carries one blocked Sgemm call through the pool. It is recycled
// with its packing buffers, so a steady stream of calls allocates nothing.
type gemmCtx struct {
	transA, transB bool
	m, n, k        int
	alpha          float32
	a, b, c        []float32
	lda, ldb, ldc  int
	mk             microKernel

	beta float32

	// blocking of this call and the current N slice
	kSlices, kcMax, ncMax int
	jc, nc                int
	chunks, helpers       int  // parallel chunks and participants (one packing buffer each)
	splitN                bool // chunks split N strips instead of M strips
	// direct, when set, reads A in place instead of packing it (see
	// directMaxStrips); only a partial last row panel is packed.
	direct directFn

	bstate []atomic.Int32 // per (K slice, strip): 0 unpacked, 1 packing, 2 packed

	bbuf  []float32   // packed B of the N slice (all of K), shared
	abuf  [][]float32 // packed A block, one per participant
	tiles [][]float32 // edge-tile scratch, one per participant
	ownB  [][]float32 // per participant: a private copy of one B strip
	// deferred holds, per participant, the strips of the current sweep that
	// were being packed by another thread when it reached them.
	deferred [][]int32
}

var freeCtx = make(freeList[*gemmCtx], 16)

// alignedFloats returns a zeroed slice of n floats whose first element is
// 64-byte aligned, so packed panels start on cache lines.
func alignedFloats(n int) []float32 {
	s := make([]float32, n+16)
	off := int((uintptr(unsafe.Pointer(&s[0])) & 63) / 4)
	if off != 0 {
		off = 16 - off
	}
	return s[off : off+n : off+n]
}

func grow(s []float32, n int) []float32 {
	if cap(s) >= n {
		return s[:n]
	}
	return alignedFloats(n)
}

func sgemmBlocked(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	g, ok := freeCtx.take()
	if !ok {
		g = new(gemmCtx)
	}
	g.transA, g.transB = transA, transB
	g.m, g.n, g.k = m, n, k
	g.alpha, g.beta = alpha, beta
	g.a, g.b, g.c = a, b, c
	g.lda, g.ldb, g.ldc = lda, ldb, ldc
	threads := maxThreads()
	if m*n*k < parWork {
		threads = 1
	}
	g.plan(threads)

	// One pool round trip per N slice. B is packed for the whole K depth of
	// the slice, lazily and cooperatively: the first thread to need a strip
	// packs it (claiming it with a CAS) and the others reuse it, so no
	// barrier separates packing from computing. Odd chunks walk the strips
	// backwards so that the threads pack disjoint halves at the start.
	for jc := 0; jc < n; jc += g.ncMax {
		g.startSlice(jc)
		parallel(g.chunks, g.chunks, g.helpers, g)
	}
	g.a, g.b, g.c = nil, nil, nil
	freeCtx.put(g)
}

// plan chooses the blocking and the chunking of the product set in g for
// the given thread count, and sizes the buffers of each participant.
func (g *gemmCtx) plan(threads int) {
	mk := micro
	g.mk = mk
	m, n, k := g.m, g.n, g.k
	mStrips := (m + mk.mr - 1) / mk.mr

	// Equal K slices no deeper than kcBlk: an uneven last slice wastes a pass.
	kSlices := (k + kcBlk - 1) / kcBlk
	kcMax := (k + kSlices - 1) / kSlices
	// The packed B of one N slice holds all of K; cap it near 8 MiB so it
	// stays in L3 (and memory stays modest) for deep products.
	nc := max(mk.nr, min(ncBlk, (2<<20)/k/mk.nr*mk.nr))
	nSlices := (n + nc - 1) / nc
	ncMax := (n + nSlices - 1) / nSlices
	ncMax = (ncMax + mk.nr - 1) / mk.nr * mk.nr
	g.direct = nil
	// A row stride of a multiple of 4 KiB puts every row of the A block in
	// the same cache sets: read in place, the block would evict itself.
	if ncMax/mk.nr <= directMaxStrips && g.lda%1024 != 0 {
		g.direct = mk.rowA
		if g.transA {
			g.direct = mk.colA
		}
	}
	// Split rows between threads when each gets a few strips; otherwise
	// (short wide products) split the N strips and let each chunk take all
	// of A. A chunk streams all of the operand it does not split, so when
	// A is read in place and smaller than B (a batch of 64 rows against a
	// wide weight matrix), splitting N also keeps each packed B strip in
	// one core's L1 for every row instead of sending it to both.
	nStrips := ncMax / mk.nr
	g.splitN = mStrips < 4*threads || (g.direct != nil && m < n && nStrips >= 4*threads)
	g.bbuf = grow(g.bbuf, k*ncMax)
	if need := kSlices * (ncMax / mk.nr); len(g.bstate) < need {
		g.bstate = make([]atomic.Int32, need)
	}
	items := mStrips
	if g.splitN {
		items = ncMax / mk.nr
	}
	g.chunks, g.helpers = gemmChunks(items, threads, 2*int64(m)*int64(ncMax)*int64(k))
	for len(g.abuf) < g.helpers {
		g.abuf = append(g.abuf, nil)
		g.tiles = append(g.tiles, nil)
		g.deferred = append(g.deferred, nil)
		g.ownB = append(g.ownB, nil)
	}
	mcMax := min(mcBlk, (m+mk.mr-1)/mk.mr*mk.mr)
	for i := 0; i < g.helpers; i++ {
		g.abuf[i] = grow(g.abuf[i], kcMax*mcMax)
		g.tiles[i] = grow(g.tiles[i], mk.mr*mk.nr)
		g.ownB[i] = grow(g.ownB[i], kcMax*mk.nr)
		if need := ncMax / mk.nr; cap(g.deferred[i]) < need {
			g.deferred[i] = make([]int32, need)
		}
	}

	g.kSlices, g.kcMax, g.ncMax = kSlices, kcMax, ncMax
}

// startSlice starts the N slice at column jc: no B strip is packed yet.
func (g *gemmCtx) startSlice(jc int) {
	g.jc, g.nc = jc, min(g.ncMax, g.n-jc)
	nStrips := (g.nc + g.mk.nr - 1) / g.mk.nr
	for i := range g.bstate[:nStrips*g.kSlices] {
		g.bstate[i].Store(0)
	}
}

// run is the pool entry point: chunks [lo,hi) of the compute phase, on the
// packing buffers of participant slot.
func (g *gemmCtx) run(lo, hi, slot int) {
	for ch := lo; ch < hi; ch++ {
		g.compute(ch, slot)
	}
}

// minChunkFlops is the least work one chunk of a parallel Sgemm gets: about
// 20 µs of one core, several times the cost of handing a chunk over, so
// cutting a product finer for balance never costs more than it saves.
const minChunkFlops = 1 << 21

// chunksPerThread is how many chunks per thread a large product is cut into,
// so that a helper that wakes late or is descheduled by another process
// holds up at most a small share of the product (the others take the rest).
const chunksPerThread = 4

// gemmChunks decides how a product of the given flops over items strips is
// cut: chunks pieces (each at least minChunkFlops and one strip) run by up
// to helpers participants.
func gemmChunks(items, threads int, flops int64) (chunks, helpers int) {
	if threads <= 1 || items <= 1 {
		return 1, 1
	}
	chunks = int(min(int64(items), int64(chunksPerThread*threads), max(flops/minChunkFlops, 1)))
	return chunks, min(threads, chunks)
}

// claimB reports whether strip s of K slice pc (state index idx) is packed
// and ready, packing it first when nobody has claimed it. It returns false,
// without waiting, while another thread is packing it: the caller computes
// other strips meanwhile and comes back (see compute).
func (g *gemmCtx) claimB(buf []float32, idx, s, pc, kc int) bool {
	f := &g.bstate[idx]
	if f.Load() == 2 {
		return true
	}
	if f.CompareAndSwap(0, 1) {
		nr := g.mk.nr
		g.packB(buf[s*kc*nr:(s+1)*kc*nr], s, pc, kc)
		f.Store(2)
		return true
	}
	return f.Load() == 2
}

// packB packs N strip s of the current N slice for K rows [pc, pc+kc) into
// dst (kc*nr floats): kc rows of nr values each, zero-padded past the matrix
// edge.
func (g *gemmCtx) packB(dst []float32, s, pc, kc int) {
	nr := g.mk.nr
	j0 := g.jc + s*nr
	cols := min(nr, g.jc+g.nc-j0)
	if !g.transB {
		src := g.b[pc*g.ldb+j0:]
		ldb := g.ldb
		if cols == nr {
			for p := 0; p < kc; p++ {
				copy(dst[p*nr:p*nr+nr], src[p*ldb:p*ldb+nr])
			}
			return
		}
		for p := 0; p < kc; p++ {
			d := dst[p*nr : p*nr+nr]
			copy(d, src[p*ldb:p*ldb+cols])
			clear(d[cols:])
		}
		return
	}
	// B is n×k: column j of op(B) is row j of B, contiguous in p, so the
	// strip is a block transpose of cols rows of B.
	packT(dst, nr, nr, g.b[j0*g.ldb+pc:], g.ldb, cols, kc, 1)
}

// packA packs rows [i0, i0+mc) of op(A), K columns [pc, pc+kc), into dst as
// MR-high micro-panels, multiplying by alpha, zero-padding the last panel.
func (g *gemmCtx) packA(dst []float32, i0, mc, pc, kc int) {
	mr, alpha := g.mk.mr, g.alpha
	for s := 0; s*mr < mc; s++ {
		d := dst[s*kc*mr : (s+1)*kc*mr]
		r0 := i0 + s*mr
		rows := min(mr, i0+mc-r0)
		if g.transA {
			// A is k×m: a K step of the panel is a contiguous run of a row.
			for p := 0; p < kc; p++ {
				src := g.a[(pc+p)*g.lda+r0 : (pc+p)*g.lda+r0+rows]
				dd := d[p*mr : p*mr+mr]
				if alpha == 1 {
					copy(dd, src)
				} else {
					for i, v := range src {
						dd[i] = alpha * v
					}
				}
				clear(dd[rows:])
			}
			continue
		}
		// A is m×k: the panel is a block transpose of rows rows of A.
		packT(d, mr, mr, g.a[r0*g.lda+pc:], g.lda, rows, kc, alpha)
	}
}

// compute runs chunk ch of the current block: its share of M strips (or of N
// strips when splitN), packing A in mcBlk-row blocks into its own buffer.
func (g *gemmCtx) compute(ch, slot int) {
	mr, nr := g.mk.mr, g.mk.nr
	nStrips := (g.nc + nr - 1) / nr
	mStrips := (g.m + mr - 1) / mr
	s0, s1 := 0, nStrips
	r0, r1 := 0, g.m
	if g.splitN {
		s0, s1 = ch*nStrips/g.chunks, (ch+1)*nStrips/g.chunks
	} else {
		r0 = ch * mStrips / g.chunks * mr
		r1 = min(g.m, (ch+1)*mStrips/g.chunks*mr)
	}
	abuf := g.abuf[slot]
	deferred := g.deferred[slot]
	mcStep := mcBlk / mr * mr
	for ic := r0; ic < r1; ic += mcStep {
		mc := min(mcStep, r1-ic)
		for pc := 0; pc < g.k; pc += g.kcMax {
			kc := min(g.kcMax, g.k-pc)
			beta := g.beta
			if pc > 0 {
				beta = 1
			}
			if g.direct == nil {
				g.packA(abuf, ic, mc, pc, kc)
			} else if full := mc / mr * mr; full < mc {
				// Only the partial last panel is packed (zero-padded):
				// A has no rows past m to read in place.
				g.packA(abuf, ic+full, mc-full, pc, kc)
			}
			bblk := g.bbuf[pc*g.ncMax:]
			base := pc / g.kcMax * nStrips
			// Sweep the strips, skipping any that another thread is still
			// packing, then come back for those.
			nDeferred := 0
			for it := s0; it < s1; it++ {
				s := it
				if ch%2 == 1 {
					s = s0 + s1 - 1 - it
				}
				if !g.claimB(bblk, base+s, s, pc, kc) {
					deferred[nDeferred] = int32(s)
					nDeferred++
					continue
				}
				g.strip(slot, abuf, &bblk[s*kc*nr], ic, mc, s, pc, kc, beta)
			}
			// Still in flight means the packer is slow or lost its core to
			// another process; copying the strip privately costs a
			// microsecond or two, waiting for it an unknown time.
			for _, s := range deferred[:nDeferred] {
				si := int(s)
				if g.bstate[base+si].Load() == 2 {
					g.strip(slot, abuf, &bblk[si*kc*nr], ic, mc, si, pc, kc, beta)
					continue
				}
				own := g.ownB[slot][:kc*nr]
				g.packB(own, si, pc, kc)
				g.strip(slot, abuf, &own[0], ic, mc, si, pc, kc, beta)
			}
		}
	}
}

// strip multiplies the A block (rows ic..ic+mc, K columns from pc; packed
// in abuf, or read in place when direct) by packed B strip s (at bp) of the
// current K slice into C, through the edge-tile scratch where the tile is
// partial.
func (g *gemmCtx) strip(slot int, abuf []float32, bp *float32, ic, mc, s, pc, kc int, beta float32) {
	mr, nr := g.mk.mr, g.mk.nr
	tile := g.tiles[slot]
	j := g.jc + s*nr
	cols := min(nr, g.jc+g.nc-j)
	for ir := 0; ir < mc; ir += mr {
		rows := min(mr, mc-ir)
		ci := (ic+ir)*g.ldc + j
		if g.direct != nil && rows == mr {
			ai := (ic+ir)*g.lda + pc
			if g.transA {
				ai = pc*g.lda + ic + ir
			}
			if cols == nr {
				g.direct(kc, &g.a[ai], g.lda, bp, &g.c[ci], g.ldc, g.alpha, beta)
				continue
			}
			g.direct(kc, &g.a[ai], g.lda, bp, &tile[0], nr, g.alpha, 0)
		} else {
			ap := &abuf[ir*kc]
			if g.direct != nil {
				ap = &abuf[0] // the packed partial panel
			}
			if rows == mr && cols == nr {
				g.mk.fn(kc, ap, bp, &g.c[ci], g.ldc, beta)
				continue
			}
			g.mk.fn(kc, ap, bp, &tile[0], nr, 0)
		}
		for i := 0; i < rows; i++ {
			crow := g.c[ci+i*g.ldc : ci+i*g.ldc+cols]
			trow := tile[i*nr : i*nr+cols]
			if beta == 0 {
				copy(crow, trow)
			} else {
				for jj, v := range trow {
					crow[jj] = v + beta*crow[jj]
				}
			}
		}
	}
}
