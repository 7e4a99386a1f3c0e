package kernel

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestToBF16(t *testing.T) {
	for _, tc := range []struct {
		x    float32
		want uint16
	}{
		{1, 0x3f80},
		{-2, 0xc000},
		{math.Float32frombits(0x3f808000), 0x3f80},               // tie, even below
		{math.Float32frombits(0x3f818000), 0x3f82},               // tie, odd below: up
		{math.Float32frombits(0x3f808001), 0x3f81},               // above the tie
		{math.Float32frombits(0x7f7fffff), 0x7f80},               // rounds to +Inf
		{float32(math.Inf(-1)), 0xff80},                          //
		{math.Float32frombits(0x00400000), 0x0000},               // denormal: +0
		{math.Float32frombits(0x80000001), 0x8000},               // denormal: -0
		{math.Float32frombits(0x7f800001), 0x7fc0},               // signalling NaN made quiet
		{math.Float32frombits(0xffc12345), 0xffc1},               // quiet NaN keeps its top
		{float32(1.0 / 3), 0x3eab},                               //
		{math.Float32frombits(0x4049_0fdb), 0x4049 /* pi */ + 0}, //
	} {
		if got := ToBF16(tc.x); got != tc.want {
			t.Errorf("ToBF16(%v = %#08x) = %#04x, want %#04x", tc.x, math.Float32bits(tc.x), got, tc.want)
		}
	}
	if FromBF16(0x3f80) != 1 || FromBF16(0xc0a0) != -5 {
		t.Error("FromBF16")
	}
}

// emulatedBF16 are the two instruction geometries as Go kernels.
func emulatedBF16() []bf16Kernel {
	return []bf16Kernel{
		bf16Emulate("avx512bf16-emulated", 12, 32, 1, false, false),
		bf16Emulate("amx-bf16-emulated", 32, 32, 16, true, true),
	}
}

// refBF16 is the oracle of the blocked product: for every element of C,
// beta*C, then the products of each K slice of bf16KC in order, two per
// pair in the kernel's order, each rounded to float32 and flushed, over
// the slice's pairs padded as the kernel pads them.
func refBF16(kern bf16Kernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	scaleC(m, n, beta, c, ldc)
	if alpha == 0 {
		return
	}
	bf := func(v float32) float32 { return FromBF16(ToBF16(v)) }
	av := func(i, p int) float32 {
		if transA {
			return bf(alpha * a[p*lda+i])
		}
		return bf(alpha * a[i*lda+p])
	}
	bv := func(p, j int) float32 {
		if transB {
			return bf(b[j*ldb+p])
		}
		return bf(b[p*ldb+j])
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			acc := c[i*ldc+j]
			for pc := 0; pc < k; pc += bf16KC {
				kc := min(bf16KC, k-pc)
				pairs := ((kc+1)/2 + kern.pairAlign - 1) / kern.pairAlign * kern.pairAlign
				for q := 0; q < pairs; q++ {
					var lo, hi float32
					if 2*q < kc {
						lo = float32(av(i, pc+2*q) * bv(pc+2*q, j))
					}
					if 2*q+1 < kc {
						hi = float32(av(i, pc+2*q+1) * bv(pc+2*q+1, j))
					}
					if kern.evenFirst {
						acc = flushF32(flushF32(acc+lo) + hi)
					} else {
						acc = flushF32(flushF32(acc+hi) + lo)
					}
				}
			}
			c[i*ldc+j] = acc
		}
	}
}

var bf16Shapes = []gemmCase{
	{m: 1, n: 1, k: 1, alpha: 1},
	{m: 12, n: 32, k: 2, alpha: 1},
	{m: 13, n: 33, k: 3, alpha: 0.5, beta: 1},
	{m: 40, n: 70, k: 129, alpha: 1, beta: 0.25, transA: true},
	{m: 33, n: 31, k: 1100, alpha: -1, transB: true, padA: 3, padB: 2, padC: 5},
	{m: 64, n: 64, k: 600, alpha: 1, transA: true, transB: true, nanC: true},
}

func bf16Operands(r *rand.Rand, tc gemmCase) (a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ar, ac, br, bc := storedShapes(tc.transA, tc.transB, tc.m, tc.n, tc.k)
	lda, ldb, ldc = ac+tc.padA, bc+tc.padB, tc.n+tc.padC
	a, b, c = randSlice(r, ar*lda), randSlice(r, br*ldb), randSlice(r, tc.m*ldc)
	if tc.nanC {
		for i := range c {
			c[i] = float32(math.NaN())
		}
	}
	return
}

// TestSgemmBF16Emulated checks the blocking and the packing of the bf16
// path with Go kernels that do the instructions' arithmetic: the result
// must equal the element-by-element oracle bit for bit.
func TestSgemmBF16Emulated(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, kern := range emulatedBF16() {
		for _, th := range []int{1, 2} {
			old := SetThreads(th)
			for _, tc := range bf16Shapes {
				a, lda, b, ldb, c, ldc := bf16Operands(r, tc)
				want := append([]float32(nil), c...)
				refBF16(kern, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want, ldc)
				sgemmBF16With(kern, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
				for i := 0; i < tc.m; i++ {
					for j := 0; j < ldc; j++ {
						g, w := c[i*ldc+j], want[i*ldc+j]
						if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
							t.Fatalf("%s t%d %+v: c[%d][%d] = %v, oracle %v", kern.name, th, tc, i, j, g, w)
						}
					}
				}
			}
			SetThreads(old)
		}
	}
}

// TestSgemmBF16Accuracy states the bf16 tolerance against exact sums: both
// operands rounded to 8 significant bits (relative error 2^-9 each) give
// |C - exact| <= 2^-7·Σ|a·b| + float32 slack, for the emulated kernels and
// for SgemmBF16 on this CPU (emulated by rounding where there is no bf16
// unit).
func TestSgemmBF16Accuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	type run struct {
		name string
		fn   func(tc gemmCase, a []float32, lda int, b []float32, ldb int, c []float32, ldc int)
	}
	runs := []run{{"SgemmBF16(" + BF16Name() + ")", func(tc gemmCase, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
		SgemmBF16(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	}}}
	for _, kern := range emulatedBF16() {
		runs = append(runs, run{kern.name, func(tc gemmCase, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
			sgemmBF16With(kern, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
		}})
	}
	for _, rn := range runs {
		for _, tc := range bf16Shapes {
			if tc.nanC {
				continue
			}
			a, lda, b, ldb, c, ldc := bf16Operands(r, tc)
			want, mag := naiveGemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
			rn.fn(tc, a, lda, b, ldb, c, ldc)
			for i := 0; i < tc.m; i++ {
				for j := 0; j < tc.n; j++ {
					if d := math.Abs(float64(c[i*ldc+j]) - want[i*tc.n+j]); d > math.Ldexp(mag[i*tc.n+j], -7)+1e-6 {
						t.Fatalf("%s %+v: c[%d][%d] = %v, exact %v (|error| %v > 2^-7·%v)", rn.name, tc, i, j, c[i*ldc+j], want[i*tc.n+j], d, mag[i*tc.n+j])
					}
				}
			}
		}
	}
}

// TestSgemmBF16Hardware runs every bf16 instruction kernel this CPU has
// against its Go emulation, bit for bit. It skips on CPUs without them.
func TestSgemmBF16Hardware(t *testing.T) {
	kernels := bf16Kernels()
	if len(kernels) == 0 {
		t.Skip("no AVX512-BF16 or AMX-BF16 on this CPU (or Linux refused the tile state)")
	}
	r := rand.New(rand.NewPCG(13, 14))
	for _, kern := range kernels {
		emu := bf16Emulate(kern.name, kern.mr, kern.nr, kern.pairAlign, kern.aRows, kern.evenFirst)
		for _, tc := range bf16Shapes {
			a, lda, b, ldb, c, ldc := bf16Operands(r, tc)
			want := append([]float32(nil), c...)
			sgemmBF16With(emu, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want, ldc)
			sgemmBF16With(kern, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
			for i := range c {
				if math.Float32bits(c[i]) != math.Float32bits(want[i]) && !(c[i] != c[i] && want[i] != want[i]) {
					t.Fatalf("%s %+v: c[%d] = %v, emulation %v", kern.name, tc, i, c[i], want[i])
				}
			}
		}
	}
}

// TestBF16Encodings assembles the GNU spelling noted beside every
// BYTE-encoded instruction of bf16_amd64.s with binutils and compares the
// bytes. It skips when as or objdump is missing.
func TestBF16Encodings(t *testing.T) {
	asPath, err1 := exec.LookPath("as")
	objdump, err2 := exec.LookPath("objdump")
	if err1 != nil || err2 != nil {
		t.Skip("binutils (as, objdump) not installed")
	}
	src, err := os.ReadFile("bf16_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^\s*((?:BYTE \$0x[0-9a-f]{2};?\s*)+)// gnu: (.*)$`)
	hexByte := regexp.MustCompile(`\$0x([0-9a-f]{2})`)
	var want [][]byte
	var gnu []string
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		mt := line.FindStringSubmatch(sc.Text())
		if mt == nil {
			if strings.Contains(sc.Text(), "BYTE") {
				t.Fatalf("BYTE line without a gnu: comment: %s", sc.Text())
			}
			continue
		}
		var b []byte
		for _, h := range hexByte.FindAllStringSubmatch(mt[1], -1) {
			v, _ := strconv.ParseUint(h[1], 16, 8)
			b = append(b, byte(v))
		}
		want, gnu = append(want, b), append(gnu, mt[2])
	}
	if len(want) < 40 {
		t.Fatalf("found only %d encoded instructions", len(want))
	}
	dir := t.TempDir()
	sfile, ofile := filepath.Join(dir, "enc.s"), filepath.Join(dir, "enc.o")
	if err := os.WriteFile(sfile, []byte(strings.Join(gnu, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(asPath, "--64", "-o", ofile, sfile).CombinedOutput(); err != nil {
		t.Skipf("this as cannot assemble AVX512-BF16/AMX (%v): %s", err, out)
	}
	out, err := exec.Command(objdump, "-d", "--insn-width=16", ofile).Output()
	if err != nil {
		t.Fatal(err)
	}
	// objdump lines: "   0:	62 f2 3e 40 52 c2    	vdpbf16ps %zmm26,..."
	insn := regexp.MustCompile(`^\s*[0-9a-f]+:\s+((?:[0-9a-f]{2} )+)\s*\t?(.*)$`)
	var got [][]byte
	var dis []string
	for _, l := range strings.Split(string(out), "\n") {
		mt := insn.FindStringSubmatch(l)
		if mt == nil {
			continue
		}
		var b []byte
		for _, h := range strings.Fields(mt[1]) {
			v, _ := strconv.ParseUint(h, 16, 8)
			b = append(b, byte(v))
		}
		got, dis = append(got, b), append(dis, strings.TrimSpace(mt[2]))
	}
	if len(got) != len(want) {
		t.Fatalf("objdump shows %d instructions, bf16_amd64.s encodes %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("%s: bf16_amd64.s has % x, GNU as gives % x (%s)", gnu[i], want[i], got[i], dis[i])
		}
	}
	if !t.Failed() {
		t.Logf("%d encodings match GNU as", len(want))
	}
}

// TestSgemmBF16NoAlloc checks that the blocked bf16 path reuses its
// buffers (with the emulated kernel, which allocates nothing itself).
func TestSgemmBF16NoAlloc(t *testing.T) {
	defer SetThreads(SetThreads(2))
	r := rand.New(rand.NewPCG(17, 18))
	kern := emulatedBF16()[0]
	a, b, c := randSlice(r, 64*64), randSlice(r, 64*64), make([]float32, 64*64)
	f := func() { sgemmBF16With(kern, false, false, 64, 64, 64, 1, a, 64, b, 64, 0, c, 64) }
	if n := mallocsPerCall(10, f); n > 0.05 {
		t.Fatalf("sgemmBF16With allocates %v times per call", n)
	}
}

// BenchmarkSgemmBF16 reports GFLOP/s of SgemmBF16 beside Sgemm (slower
// where the CPU has no bf16 unit and BF16Name is "emulated").
func BenchmarkSgemmBF16(b *testing.B) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, s := range []int{256, 1024} {
		a, bm, c := randSlice(r, s*s), randSlice(r, s*s), make([]float32, s*s)
		for _, v := range []struct {
			name string
			fn   func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
		}{{"fp32", Sgemm}, {"bf16-" + BF16Name(), SgemmBF16}} {
			b.Run(fmt.Sprintf("sq%d/%s", s, v.name), func(b *testing.B) {
				for b.Loop() {
					v.fn(false, false, s, s, s, 1, a, s, bm, s, 0, c, s)
				}
				b.ReportMetric(2*float64(s*s*s)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// roundedOperands returns copies of op(A)'s and op(B)'s storage with
// alpha applied to A and every element rounded to bfloat16: what the bf16
// units multiply.
func roundedOperands(tc gemmCase, a []float32, b []float32) (ar, br []float32) {
	ar, br = make([]float32, len(a)), make([]float32, len(b))
	RoundBF16(ar, a, tc.alpha)
	RoundBF16(br, b, 1)
	return ar, br
}

// TestSgemmBF16RoundedExact checks the fallback of CPUs without bf16 units:
// it must equal Sgemm of the pre-rounded operands bit for bit (the
// products are exact in float32 and the sums run in Sgemm's order), on one
// and two threads, with NaNs in C dropped by beta 0 as Sgemm drops them.
func TestSgemmBF16RoundedExact(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for _, th := range []int{1, 2} {
		old := SetThreads(th)
		for _, tc := range bf16Shapes {
			a, lda, b, ldb, c, ldc := bf16Operands(r, tc)
			ar, br := roundedOperands(tc, a, b)
			want := append([]float32(nil), c...)
			Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, 1, ar, lda, br, ldb, tc.beta, want, ldc)
			sgemmBF16Rounded(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
			for i := range c {
				if math.Float32bits(c[i]) != math.Float32bits(want[i]) && !(c[i] != c[i] && want[i] != want[i]) {
					t.Fatalf("t%d %+v: c[%d] = %v, Sgemm of the rounded operands %v", th, tc, i, c[i], want[i])
				}
			}
		}
		SetThreads(old)
	}
	if !HasBF16() && BF16Name() != "emulated" {
		t.Errorf("BF16Name() = %q without bf16 units, want \"emulated\"", BF16Name())
	}
}

// TestSgemmBF16RoundedBound states the bf16 tolerance against float32
// Sgemm of the unrounded operands. With u = 2^-8 (half an ulp of 8
// significant bits), each rounded product is a·b·(1+δ) with |δ| <= 2u+u²,
// and both float32 sums carry at most (k+1)·2^-24 of Σ|a·b| each, so for
// every element
//
//	|C_bf16 - C_fp32| <= (2^-7 + 2^-16 + 2(k+2)·2^-24)·|alpha|·Σ_p |a_ip·b_pj|.
func TestSgemmBF16RoundedBound(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, tc := range bf16Shapes {
		if tc.nanC {
			continue
		}
		a, lda, b, ldb, c, ldc := bf16Operands(r, tc)
		want := append([]float32(nil), c...)
		Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want, ldc)
		_, mag := naiveGemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
		sgemmBF16Rounded(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
		rel := math.Ldexp(1, -7) + math.Ldexp(1, -16) + float64(2*(tc.k+2))*math.Ldexp(1, -24)
		worst := 0.0
		for i := 0; i < tc.m; i++ {
			for j := 0; j < tc.n; j++ {
				d := math.Abs(float64(c[i*ldc+j]) - float64(want[i*ldc+j]))
				if bound := rel*mag[i*tc.n+j] + 1e-7; d > bound {
					t.Fatalf("%+v: c[%d][%d] = %v, float32 %v: |difference| %v > bound %v", tc, i, j, c[i*ldc+j], want[i*ldc+j], d, bound)
				}
				worst = max(worst, d/(mag[i*tc.n+j]+1e-30))
			}
		}
		if tc.k >= 64 && worst == 0 {
			t.Errorf("%+v: bf16 result equals float32 exactly: the operands were not rounded", tc)
		}
	}
}

// TestSgemmBF16RoundedNoAlloc checks that the fallback reuses its scratch.
func TestSgemmBF16RoundedNoAlloc(t *testing.T) {
	defer SetThreads(SetThreads(2))
	r := rand.New(rand.NewPCG(23, 24))
	a, b, c := randSlice(r, 64*64), randSlice(r, 64*64), make([]float32, 64*64)
	f := func() { sgemmBF16Rounded(false, true, 64, 64, 64, 0.5, a, 64, b, 64, 1, c, 64) }
	if n := mallocsPerCall(10, f); n > 0.05 {
		t.Fatalf("sgemmBF16Rounded allocates %v times per call", n)
	}
}

// TestRoundBF16 checks the slice rounding (AVX2 lanes and the Go tail)
// against ToBF16 on every class of float32 (normal, tie, denormal, zero,
// the largest finite, Inf, NaN) and on random bits, with and without
// alpha.
func TestRoundBF16(t *testing.T) {
	bits := []uint32{0, 0x80000000, 1, 0x807fffff, 0x00800000, 0x3f808000, 0x3f818000, 0x3f808001, 0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7f800001, 0xffc12345, 0x7f7f8000, 0x3fffffff}
	r := rand.New(rand.NewPCG(25, 26))
	for range 100000 {
		bits = append(bits, r.Uint32())
	}
	src := make([]float32, len(bits))
	for i, b := range bits {
		src[i] = math.Float32frombits(b)
	}
	dst := make([]float32, len(src))
	RoundBF16(dst[:len(src)-5], src[:len(src)-5], 1) // a vector body and a Go tail
	RoundBF16(dst[len(src)-5:], src[len(src)-5:], 1)
	for i, x := range src {
		want := FromBF16(ToBF16(x))
		if math.Float32bits(dst[i]) != math.Float32bits(want) {
			t.Fatalf("RoundBF16(%#08x) = %#08x, ToBF16 gives %#08x", bits[i], math.Float32bits(dst[i]), math.Float32bits(want))
		}
	}
	RoundBF16(dst, src, -0.75)
	for i, x := range src {
		want := FromBF16(ToBF16(-0.75 * x))
		if math.Float32bits(dst[i]) != math.Float32bits(want) && !(want != want && dst[i] != dst[i]) {
			t.Fatalf("RoundBF16(%#08x, alpha -0.75) = %v, want %v", bits[i], dst[i], want)
		}
	}
}

// BenchmarkRoundBF16 reports the cost per element of rounding an operand,
// the overhead of SgemmBF16 on CPUs without bf16 units.
func BenchmarkRoundBF16(b *testing.B) {
	src := randSlice(rand.New(rand.NewPCG(27, 28)), 1<<16)
	dst := make([]float32, len(src))
	for b.Loop() {
		RoundBF16(dst, src, 1)
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*len(src)), "ns/element")
}
