package kernel

import "math"

// Vectorised float32 transcendentals for activations, softmax and the
// recurrent gate loops. On amd64 each runs in assembly: with AVX-512, 16
// lanes at a time with opmask tails (transc_amd64.s); without it but with
// AVX2+FMA, 8 lanes at a time with VMASKMOVPS tails (transc_avx2_amd64.s),
// giving results bit-identical to the AVX-512 ones. Elsewhere, and under
// the noasm tag, the same algorithm runs as a scalar Go loop, so every path
// agrees to within an ulp or two. Lengths are taken from dst: x must be at
// least as long, or the function panics. dst may alias x. None allocates.
//
// Cost on Zen 5, per element over 4096 elements (best of 400 runs, the
// AVX2 path forced on the same CPU): Exp 0.11 ns with AVX-512, 0.24 ns
// with AVX2, 5.0 ns in Go; Sigmoid 0.16 / 0.37 / 6.7; Erf 0.12 / 0.23 /
// 3.9; Tanh 0.23 / 0.49 / 7.5 (both branches and a division); SoftmaxRow
// 0.17 / 0.35 / 5.4. The float64 math calls they replace cost 8-30 ns.

// Exp computes dst[i] = e^x[i]. The error is at most 2 float32 ulps of the
// correctly rounded result (1 in practice) wherever that result is normal;
// results that overflow are +Inf (x > 88.7228), results below 2^-126 are
// denormal or 0 with an absolute error under 2^-149, exp(-Inf) = 0,
// exp(+Inf) = +Inf, and NaN propagates.
//
// The method is Cody-Waite: n = round(x·log2 e), r = x - n·ln 2 in two
// parts (|r| ≤ ln2/2), e^r by Cephes' degree-7 polynomial, times 2^n, which
// the AVX-512 code applies with VSCALEFPS (so overflow and gradual
// underflow come out of the hardware) and the AVX2 and Go versions as two
// exponent-field multiplies, which round the same way.
func Exp(dst, x []float32) {
	x = x[:len(dst)]
	vexp(dst, x)
}

// Tanh computes dst[i] = tanh(x[i]) with an absolute error under 1.2e-7
// and a relative error of at most 4 ulps. Below |x| = 0.625 it is Cephes'
// odd polynomial x + x³·P(x²), which keeps tiny arguments exact; above, it
// is 1 - 2/(e^{2|x|}+1) with the sign restored, which saturates to exactly
// ±1 (from |x| ≈ 9.01, as the correctly rounded tanh does). tanh(±0) = ±0,
// tanh(±Inf) = ±1 and NaN propagates.
func Tanh(dst, x []float32) {
	x = x[:len(dst)]
	vtanh(dst, x)
}

// Sigmoid computes dst[i] = 1/(1+e^-x[i]) with a relative error of at most
// 4 ulps (3 measured) and an absolute error under 1e-7. It is evaluated as
// 1/(1+e) for x ≥ 0 and e/(1+e) for x < 0 with e = e^-|x|, so the
// exponential never overflows: large negative x gives e^x itself
// (denormal below -87.3, 0 below about -103.3), large positive x gives
// exactly 1, and only NaN gives NaN.
func Sigmoid(dst, x []float32) {
	x = x[:len(dst)]
	vsigmoid(dst, x)
}

// Erf computes dst[i] = erf(x[i]) with an absolute error under 4e-7 and a
// relative error of at most 8 ulps (6 measured against float64 math.Erf,
// the worst just below ±1), as the rational minimax
// approximation x·P(x²)/Q(x²) (odd degree 13 over even degree 8, the one
// Eigen and XLA use for float32) on |x| clamped to 4, where erf rounds to
// ±1. erf(±Inf) = ±1 and NaN propagates. Like every float32 erf its result
// near ±1 carries an absolute, not relative, error, so 1+erf(x) loses
// relative accuracy for x below about -2.
func Erf(dst, x []float32) {
	x = x[:len(dst)]
	verf(dst, x)
}

// ExpSum computes dst[i] = e^(x[i]-shift) with Exp's accuracy and returns
// their sum, accumulated in float32 over 16 lanes (8 on AVX2, one in Go;
// relative error about len/16 ulps at worst). It is the middle pass of a softmax.
func ExpSum(dst, x []float32, shift float32) float32 {
	x = x[:len(dst)]
	return vexpSum(dst, x, shift)
}

// SumExp returns the sum of e^(x[i]-shift) over x without storing the
// terms; it is the reduction of a log-sum-exp.
func SumExp(x []float32, shift float32) float32 { return vsumExp(x, shift) }

// SoftmaxRow writes the softmax of x, e^(x[i]-max)/Σ e^(x[j]-max), into
// dst (len(dst) elements; dst may alias x). Three passes over the row
// (max, exp-and-sum, scale); the relative error is a few ulps. A NaN
// anywhere, or an infinite maximum, makes the whole row NaN, as in
// PyTorch.
func SoftmaxRow(dst, x []float32) {
	if len(dst) == 0 {
		return
	}
	x = x[:len(dst)]
	m := maxNaN(x)
	s := vexpSum(dst, x, m)
	scale(dst, 1/s, dst)
}

// LogSoftmaxRow writes x[i] - max - log Σ e^(x[j]-max) into dst, computed
// in that order (as PyTorch does) so that entries near the maximum keep
// their small differences exactly.
func LogSoftmaxRow(dst, x []float32) {
	if len(dst) == 0 {
		return
	}
	x = x[:len(dst)]
	m := maxNaN(x)
	ls := float32(math.Log(float64(vsumExp(x, m))))
	addScalar(dst, -m, x)
	addScalar(dst, -ls, dst)
}

// LogSumExp returns log Σ e^x[i], with the maximum subtracted first so that
// nothing overflows. As in torch.logsumexp an infinite maximum is not
// subtracted, so all -Inf (or an empty x) gives -Inf and any +Inf gives
// +Inf; a NaN gives NaN. The error is about 2 ulps plus the float32 sum's.
func LogSumExp(x []float32) float32 {
	if len(x) == 0 {
		return float32(math.Inf(-1))
	}
	m := maxNaN(x)
	if math.IsInf(float64(m), 0) {
		m = 0
	}
	return float32(float64(m) + math.Log(float64(vsumExp(x, m))))
}

// transcImpl names one implementation of the kernels above; transcPath
// (per architecture) selects among those in transcPaths.
type transcImpl uint8

const (
	transcGo     transcImpl = iota // the scalar Go loops below
	transcAVX2                     // AVX2+FMA, 8 lanes (amd64)
	transcAVX512                   // AVX-512F, 16 lanes (amd64)
)

func (p transcImpl) String() string {
	return [...]string{"go", "avx2", "avx512"}[p]
}

// maxNaN is the shift of the softmax routines. The vector max may skip a
// NaN, but then e^(NaN-m) makes the sum, and so every output, NaN anyway.
func maxNaN(x []float32) float32 { return vmax(x) }

// The Go versions: the fallback on CPUs without AVX2 and under noasm,
// and the reference the assembly is tested against. They follow the
// assembly step by step in float32.

const (
	expLog2e = 1.44269504088896341
	expLn2Hi = 0.693359375 // 355/512: n·expLn2Hi is exact for |n| < 2^15
	expLn2Lo = -2.12194440e-4
	// e^expHi overflows and e^expLo underflows to 0: clamping to them keeps
	// the range reduction finite for ±Inf and huge inputs without changing
	// any result.
	expHi = 89
	expLo = -110
	// Cephes expf: e^r ≈ 1 + r + r²·P(r) on |r| ≤ ln2/2.
	expP0 = 1.9875691500e-4
	expP1 = 1.3981999507e-3
	expP2 = 8.3334519073e-3
	expP3 = 4.1665795894e-2
	expP4 = 1.6666665459e-1
	expP5 = 5.0000001201e-1
	// Cephes tanhf: tanh(a) ≈ a + a³·T(a²) on |a| < tanhSmall.
	tanhSmall = 0.625
	tanhT0    = -5.70498872745e-3
	tanhT1    = 2.06390887954e-2
	tanhT2    = -5.37397155531e-2
	tanhT3    = 1.33314422036e-1
	tanhT4    = -3.33332819422e-1
	// erf(x) ≈ x·A(x²)/B(x²) on |x| ≤ 4.
	erfA13 = -2.72614225801306e-10
	erfA11 = 2.77068142495902e-08
	erfA9  = -2.10102402082508e-06
	erfA7  = -5.69250639462346e-05
	erfA5  = -7.34990630326855e-04
	erfA3  = -2.95459980854025e-03
	erfA1  = -1.60960333262415e-02
	erfB8  = -1.45660718464996e-05
	erfB6  = -2.13374055278905e-04
	erfB4  = -1.68282697438203e-03
	erfB2  = -7.37332916720468e-03
	erfB0  = -1.42647390514189e-02
)

// exp32 is one lane of Exp.
func exp32(x float32) float32 {
	if x != x {
		return x
	}
	x = min(max(x, expLo), expHi)
	// Adding and subtracting 1.5·2^23 rounds to the nearest integer.
	const magic = 12582912
	n := (x*expLog2e + magic) - magic
	r := x - n*expLn2Hi
	r = r - n*expLn2Lo
	p := expP0*r + expP1
	p = p*r + expP2
	p = p*r + expP3
	p = p*r + expP4
	p = p*r + expP5
	y := (p*(r*r) + r) + 1
	// 2^n in two halves: n is in [-159, 128], each half within the normal
	// exponent range, and the second multiply rounds once, into a denormal
	// or to Inf where the result needs it.
	ni := int32(n)
	n1 := ni >> 1
	n2 := ni - n1
	return y * math.Float32frombits(uint32(n1+127)<<23) * math.Float32frombits(uint32(n2+127)<<23)
}

// tanh32 is one lane of Tanh.
func tanh32(x float32) float32 {
	a := math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
	var r float32
	if a < tanhSmall {
		z := a * a
		p := tanhT0*z + tanhT1
		p = p*z + tanhT2
		p = p*z + tanhT3
		p = p*z + tanhT4
		r = (p*z)*a + a
	} else {
		r = 1 - 2/(exp32(a+a)+1)
	}
	// Computed on |x| and given x's sign, so that tanh(-0) = -0.
	return math.Float32frombits(math.Float32bits(r) | math.Float32bits(x)&(1<<31))
}

func sigmoid32(x float32) float32 {
	e := exp32(math.Float32frombits(math.Float32bits(x) | 1<<31)) // e^-|x|
	r := 1 / (1 + e)
	if math.Signbit(float64(x)) {
		r *= e
	}
	return r
}

// erf32 is one lane of Erf.
func erf32(x float32) float32 {
	a := math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
	if a > 4 {
		a = 4
	}
	s := a * a
	p := erfA13*s + erfA11
	p = p*s + erfA9
	p = p*s + erfA7
	p = p*s + erfA5
	p = p*s + erfA3
	p = p*s + erfA1
	q := erfB8*s + erfB6
	q = q*s + erfB4
	q = q*s + erfB2
	q = q*s + erfB0
	r := p / q * a // divided first: a·p would go denormal for tiny a
	if r > 1 {
		r = 1
	}
	return math.Float32frombits(math.Float32bits(r) | math.Float32bits(x)&(1<<31))
}

func erfGo(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = erf32(v)
	}
}

func expGo(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = exp32(v)
	}
}

func tanhGo(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = tanh32(v)
	}
}

func sigmoidGo(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = sigmoid32(v)
	}
}

func expSumGo(dst, x []float32, shift float32) float32 {
	x = x[:len(dst)]
	var s float32
	for i, v := range x {
		e := exp32(v - shift)
		dst[i] = e
		s += e
	}
	return s
}

func sumExpGo(x []float32, shift float32) float32 {
	var s float32
	for _, v := range x {
		s += exp32(v - shift)
	}
	return s
}
