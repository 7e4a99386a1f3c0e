package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// ulps is the distance between got and want (rounded to float32) in
// float32 ulps: the number of representable floats between them. NaNs
// must match NaNs, infinities must match exactly.
func ulps(got float32, want float64) float64 {
	w := float32(want)
	if got != got || w != w {
		if got != got && w != w {
			return 0
		}
		return math.Inf(1)
	}
	ord := func(f float32) int64 {
		b := int64(math.Float32bits(f))
		if b&(1<<31) != 0 {
			return -(b &^ (1 << 31))
		}
		return b
	}
	d := ord(got) - ord(w)
	if d < 0 {
		d = -d
	}
	return float64(d)
}

// transcFuncs pairs each kernel with its float64 reference and its scalar
// Go lane, the fallback the assembly must agree with.
var transcFuncs = []struct {
	name string
	f    func(dst, x []float32)
	lane func(float32) float32
	ref  func(float64) float64
}{
	{"Exp", Exp, exp32, math.Exp},
	{"Tanh", Tanh, tanh32, math.Tanh},
	{"Sigmoid", Sigmoid, sigmoid32, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }},
	{"Erf", Erf, erf32, math.Erf},
}

// sweep returns every 401st float32 from -200 to 200 in bit order plus the
// special values: a dense, roughly log-uniform cover of every binade.
func sweep() []float32 {
	var xs []float32
	for b := uint32(0); b < 0x43480000; b += 401 { // 0 .. 200
		v := math.Float32frombits(b)
		xs = append(xs, v, -v)
	}
	inf := float32(math.Inf(1))
	xs = append(xs, 0, float32(math.Copysign(0, -1)), inf, -inf, float32(math.NaN()),
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 1e-30, -1e-30,
		88.72283, 88.72284, 88.7, 89, 90, -87.33654, -87.4, -103.9, -103.97, -104, -150, -1000, 1000,
		math.MaxFloat32, -math.MaxFloat32, 9, 9.01, 9.1, -9.1, 0.625, -0.625, 0.62499994, 0.62500006,
		20, -20, 40, -40, 16, -16, 17, -17)
	return xs
}

// eachPath runs f as a subtest once per path this machine can run (AVX-512,
// AVX2 and Go on an AVX-512 CPU), with transcPath set to it.
func eachPath(t *testing.T, f func(t *testing.T)) {
	saved := transcPath
	defer func() { transcPath = saved }()
	for _, p := range transcPaths {
		transcPath = p
		t.Run(p.String(), f)
	}
}

// TestTranscAccuracy checks every kernel on each path (the go path is the
// scalar lane) against float64 math over the sweep.
func TestTranscAccuracy(t *testing.T) { eachPath(t, testTranscAccuracy) }

func testTranscAccuracy(t *testing.T) {
	xs := sweep()
	dst := make([]float32, len(xs))
	for _, fn := range transcFuncs {
		fn.f(dst, xs)
		var worstU, worstA float64
		var atU, atA float32
		for i, x := range xs {
			want := fn.ref(float64(x))
			{
				got := dst[i]
				u := ulps(got, want)
				a := math.Abs(float64(got) - want)
				if w32 := float64(float32(want)); math.IsInf(w32, 0) || want != want {
					a = 0
					if u != 0 {
						t.Errorf("%s(%v) = %v, want %v", fn.name, x, got, want)
					}
				}
				// Below the normal range only absolute error counts (the
				// results are denormal or flushed, within 2^-149·2).
				if math.Abs(want) < 0x1p-126 {
					if a > 0x1p-148 && fn.name == "Exp" {
						t.Errorf("%s(%v) = %v, want %v (denormal)", fn.name, x, got, want)
					}
					u = 0
				}
				if u > worstU {
					worstU, atU = u, x
				}
				if a > worstA {
					worstA, atA = a, x
				}
			}
		}
		t.Logf("%s: worst %v ulps at %v, worst abs error %.3g at %v", fn.name, worstU, atU, worstA, atA)
		maxU := map[string]float64{"Exp": 2, "Tanh": 4, "Sigmoid": 4, "Erf": 8}[fn.name]
		if worstU > maxU {
			t.Errorf("%s: %v ulps at x=%v (bound %v)", fn.name, worstU, atU, maxU)
		}
		maxA := map[string]float64{"Exp": math.Inf(1), "Tanh": 1.2e-7, "Sigmoid": 1.2e-7, "Erf": 4e-7}[fn.name]
		if worstA > maxA {
			t.Errorf("%s: absolute error %.3g at x=%v", fn.name, worstA, atA)
		}
	}
}

// TestTranscSpecial pins the exact values the callers rely on.
func TestTranscSpecial(t *testing.T) { eachPath(t, testTranscSpecial) }

func testTranscSpecial(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	negz := float32(math.Copysign(0, -1))
	cases := []struct {
		name string
		f    func(dst, x []float32)
		x    float32
		want float32
	}{
		{"Exp", Exp, 0, 1}, {"Exp", Exp, negz, 1}, {"Exp", Exp, inf, inf}, {"Exp", Exp, -inf, 0},
		{"Exp", Exp, 88.72284, inf}, {"Exp", Exp, 1000, inf}, {"Exp", Exp, -1000, 0}, {"Exp", Exp, -104, 0},
		{"Tanh", Tanh, 0, 0}, {"Tanh", Tanh, negz, negz}, {"Tanh", Tanh, 10, 1}, {"Tanh", Tanh, -10, -1},
		{"Tanh", Tanh, inf, 1}, {"Tanh", Tanh, -inf, -1}, {"Tanh", Tanh, 1e-30, 1e-30}, {"Tanh", Tanh, 1e6, 1},
		{"Sigmoid", Sigmoid, 0, 0.5}, {"Sigmoid", Sigmoid, 1000, 1}, {"Sigmoid", Sigmoid, -1000, 0}, {"Sigmoid", Sigmoid, -100, 3.7200760e-44},
		{"Sigmoid", Sigmoid, inf, 1}, {"Sigmoid", Sigmoid, -inf, 0}, {"Sigmoid", Sigmoid, 20, 1},
		{"Erf", Erf, 0, 0}, {"Erf", Erf, negz, negz}, {"Erf", Erf, inf, 1}, {"Erf", Erf, -inf, -1},
		{"Erf", Erf, 5, 1}, {"Erf", Erf, -5, -1},
	}
	for _, c := range cases {
		// The masked tail alone (1, 7), full vectors of 8 and 16 lanes, and
		// both.
		for _, n := range []int{1, 7, 8, 9, 16, 17, 23} {
			x := make([]float32, n)
			for i := range x {
				x[i] = c.x
			}
			d := make([]float32, n)
			c.f(d, x)
			for _, g := range d {
				if math.Float32bits(g) != math.Float32bits(c.want) {
					t.Errorf("%s(%v) n=%d = %v, want %v", c.name, c.x, n, g, c.want)
					break
				}
			}
		}
	}
	for _, fn := range transcFuncs {
		d := []float32{0}
		fn.f(d, []float32{nan})
		if d[0] == d[0] {
			t.Errorf("%s(NaN) = %v", fn.name, d[0])
		}
	}
}

// TestTranscAVX2MatchesAVX512 checks that the AVX2 kernels compute the
// same IEEE operations as the AVX-512 ones, bit for bit, on every 251st
// float32 bit pattern (all signs, denormals, infinities and NaN payloads)
// and the sweep: so the AVX2 path inherits every accuracy figure measured
// for AVX-512, including the denormal range, where 2^n is applied by two
// multiplies instead of VSCALEFPS.
func TestTranscAVX2MatchesAVX512(t *testing.T) {
	if !slices.Contains(transcPaths, transcAVX512) || !slices.Contains(transcPaths, transcAVX2) {
		t.Skip("needs a CPU with both AVX-512 and AVX2")
	}
	saved := transcPath
	defer func() { transcPath = saved }()
	const stride = 251
	xs := sweep()
	for b := uint64(0); b < 1<<32; b += stride {
		xs = append(xs, math.Float32frombits(uint32(b)))
	}
	got := make([]float32, len(xs))
	want := make([]float32, len(xs))
	for _, fn := range transcFuncs {
		transcPath = transcAVX2
		fn.f(got, xs)
		transcPath = transcAVX512
		fn.f(want, xs)
		for i := range xs {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) && (got[i] == got[i] || want[i] == want[i]) {
				t.Fatalf("%s(%v [%#08x]): avx2 %v, avx512 %v", fn.name, xs[i], math.Float32bits(xs[i]), got[i], want[i])
			}
		}
	}
}

// TestTranscLengths runs every kernel over lengths 0..70 at unaligned
// offsets, checks each element against the scalar lane within 2 ulps (the
// assembly fuses multiply-adds that the Go lane rounds twice) and that
// nothing outside dst is written.
func TestTranscLengths(t *testing.T) { eachPath(t, testTranscLengths) }

func testTranscLengths(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n <= 70; n++ {
		for off := 0; off < 4; off++ {
			buf := make([]float32, n+off+1)
			for i := range buf {
				buf[i] = float32(r.NormFloat64() * 6)
			}
			x := buf[off : off+n]
			for _, fn := range transcFuncs {
				out := make([]float32, n+off+2)
				for i := range out {
					out[i] = -7
				}
				d := out[off+1 : off+1+n]
				fn.f(d, x)
				for i := range out {
					if (i < off+1 || i >= off+1+n) && out[i] != -7 {
						t.Fatalf("%s n=%d off=%d wrote out[%d]", fn.name, n, off, i)
					}
				}
				for i, v := range x {
					// Erf's error is absolute (up to 6 ulps just below 1), each
					// path's within 4e-7 of erf but not of each other.
					if u := ulps(d[i], float64(fn.lane(v))); u > 2 && (fn.name != "Erf" || math.Abs(float64(d[i]-fn.lane(v))) > 8e-7) {
						t.Fatalf("%s n=%d: x=%v vector %v lane %v", fn.name, n, v, d[i], fn.lane(v))
					}
				}
				// In place.
				cp := append([]float32(nil), x...)
				fn.f(cp, cp)
				for i := range cp {
					if cp[i] != d[i] {
						t.Fatalf("%s in place n=%d differs at %d", fn.name, n, i)
					}
				}
			}
			// The fused softmax helpers against float64.
			if n == 0 {
				if v := LogSumExp(x); !math.IsInf(float64(v), -1) {
					t.Fatalf("LogSumExp(empty) = %v", v)
				}
				SoftmaxRow(nil, x)
				continue
			}
			m := math.Inf(-1)
			for _, v := range x {
				m = math.Max(m, float64(v))
			}
			var s float64
			for _, v := range x {
				s += math.Exp(float64(v) - m)
			}
			lse := m + math.Log(s)
			if got := LogSumExp(x); math.Abs(float64(got)-lse) > 4e-7*math.Max(1, math.Abs(lse)) {
				t.Fatalf("LogSumExp n=%d = %v want %v", n, got, lse)
			}
			d := make([]float32, n)
			eb := make([]float32, n+2)
			eb[0], eb[n+1] = -7, -7
			e := eb[1 : n+1]
			if got := ExpSum(e, x, float32(m)); math.Abs(float64(got)-s) > 1e-6*s {
				t.Fatalf("ExpSum n=%d = %v want %v", n, got, s)
			}
			if eb[0] != -7 || eb[n+1] != -7 {
				t.Fatalf("ExpSum n=%d wrote outside dst", n)
			}
			for i, v := range x {
				if want := exp32(v - float32(m)); ulps(e[i], float64(want)) > 2 {
					t.Fatalf("ExpSum n=%d [%d] = %v want %v", n, i, e[i], want)
				}
			}
			if got := SumExp(x, float32(m)); math.Abs(float64(got)-s) > 1e-6*s {
				t.Fatalf("SumExp n=%d = %v want %v", n, got, s)
			}
			SoftmaxRow(d, x)
			for i, v := range x {
				// x-max is rounded to float32 first, as in PyTorch: half an
				// ulp of |x-max| is a relative error of e^(x-max).
				want := math.Exp(float64(v)-m) / s
				tol := (0x1p-24*math.Abs(float64(v)-m) + 6e-7) * want
				if math.Abs(float64(d[i])-want) > tol+1e-38 {
					t.Fatalf("SoftmaxRow n=%d [%d] = %v want %v", n, i, d[i], want)
				}
			}
			LogSoftmaxRow(d, x)
			for i, v := range x {
				want := float64(v) - lse
				if math.Abs(float64(d[i])-want) > 1e-6*math.Max(1, math.Abs(want)) {
					t.Fatalf("LogSoftmaxRow n=%d [%d] = %v want %v", n, i, d[i], want)
				}
			}
		}
	}
}

// TestSoftmaxRowSpecial: NaN and infinities behave as in PyTorch.
func TestSoftmaxRowSpecial(t *testing.T) { eachPath(t, testSoftmaxRowSpecial) }

func testSoftmaxRowSpecial(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	d := make([]float32, 3)
	SoftmaxRow(d, []float32{1, nan, 2})
	for _, v := range d {
		if v == v {
			t.Errorf("softmax with NaN: %v", d)
		}
	}
	SoftmaxRow(d, []float32{-inf, 0, -inf})
	if d[0] != 0 || d[1] != 1 || d[2] != 0 {
		t.Errorf("softmax with -Inf: %v", d)
	}
	SoftmaxRow(d, []float32{1000, 1000, -1000})
	if d[0] != 0.5 || d[1] != 0.5 || d[2] != 0 {
		t.Errorf("softmax large: %v", d)
	}
	if v := LogSumExp([]float32{-inf, -inf}); !math.IsInf(float64(v), -1) {
		t.Errorf("LogSumExp(-Inf,-Inf) = %v", v)
	}
	if v := LogSumExp([]float32{inf, 1}); !math.IsInf(float64(v), 1) {
		t.Errorf("LogSumExp(Inf,1) = %v", v)
	}
	if v := LogSumExp([]float32{1000, 1000}); math.Abs(float64(v)-(1000+math.Ln2)) > 1e-4 {
		t.Errorf("LogSumExp(1000,1000) = %v", v)
	}
}

// The old scalar loops, for the benchmarks' comparison.
func expRef(dst, x []float32) {
	for i, v := range x[:len(dst)] {
		dst[i] = float32(math.Exp(float64(v)))
	}
}

func tanhRef(dst, x []float32) {
	for i, v := range x[:len(dst)] {
		dst[i] = float32(math.Tanh(float64(v)))
	}
}

func sigmoidRef(dst, x []float32) {
	for i, v := range x[:len(dst)] {
		dst[i] = float32(1 / (1 + math.Exp(-float64(v))))
	}
}

// BenchmarkTransc measures each kernel on every path this CPU can run
// (avx512, avx2, go: the scalar lane) against the float64 math loop it
// replaces, on 4096 elements, and on 7 and 23 elements, where the masked
// tail is all or a third of the work.
func BenchmarkTransc(b *testing.B) {
	const n = 4096
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 3)
	}
	dst := make([]float32, n)
	saved := transcPath
	bench := func(name string, f func(dst, x []float32), m int) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				f(dst[:m], x)
			}
			b.ReportMetric(float64(m)*float64(b.N)/b.Elapsed().Seconds(), "elem/s")
		})
	}
	// run benchmarks f once per path as name/path[/n=m].
	run := func(name string, f func(dst, x []float32), sizes ...int) {
		for _, p := range transcPaths {
			transcPath = p
			for _, m := range sizes {
				full := name + "/" + p.String()
				if m != n {
					full += fmt.Sprintf("/n=%d", m)
				}
				bench(full, f, m)
			}
		}
		transcPath = saved
	}
	run("Exp", Exp, n, 7, 23)
	bench("Exp/float64", expRef, n)
	run("Tanh", Tanh, n)
	bench("Tanh/float64", tanhRef, n)
	run("Sigmoid", Sigmoid, n)
	bench("Sigmoid/float64", sigmoidRef, n)
	run("Erf", Erf, n)
	bench("Erf/float64", func(dst, x []float32) {
		for i, v := range x[:len(dst)] {
			dst[i] = float32(math.Erf(float64(v)))
		}
	}, n)
	run("SoftmaxRow", SoftmaxRow, n)
	run("LogSoftmaxRow", LogSoftmaxRow, n)
}
