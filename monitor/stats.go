package monitor

import (
	"errors"
	"math"
	"slices"
)

// This file holds the drift statistics as plain functions: slices in,
// numbers out, each defined by the SciPy function it reproduces
// (testdata/monitor/gen_scipy.py writes the values the tests compare with).

// KSResult is a two-sided Kolmogorov-Smirnov statistic and its p-value.
type KSResult struct {
	D      float64 // largest distance between the two CDFs
	P      float64 // two-sided p-value
	Method string  // "exact" or "asymp", as SciPy names them
}

// ksMaxExact is SciPy's MAX_AUTO_N: ks_2samp's method "auto" computes the
// exact p-value when both samples are at most this large.
const ksMaxExact = 10000

// KS2Samp is scipy.stats.ks_2samp(a, b) with method "auto": the exact
// p-value of the two-sample statistic when both samples hold at most 10000
// values, else kstwo.sf(D, round(n·m/(n+m))). NaNs must be removed first.
// It sorts copies: O((n+m) log(n+m)) time and O(n+m) memory.
func KS2Samp(a, b []float64) (KSResult, error) {
	n1, n2 := len(a), len(b)
	if n1 == 0 || n2 == 0 {
		return KSResult{}, errors.New("monitor: ks_2samp needs two non-empty samples")
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	// The statistic over the pooled values, as SciPy's searchsorted(side
	// "right") evaluates both ECDFs: walking both sorted samples at once.
	var d float64
	i, j := 0, 0
	for i < n1 || j < n2 {
		var v float64
		switch {
		case j == n2 || (i < n1 && x[i] <= y[j]):
			v = x[i]
		default:
			v = y[j]
		}
		for i < n1 && x[i] == v {
			i++
		}
		for j < n2 && y[j] == v {
			j++
		}
		d = max(d, math.Abs(float64(i)/float64(n1)-float64(j)/float64(n2)))
	}
	if max(n1, n2) <= ksMaxExact {
		g := gcd(n1, n2)
		lcm := float64(n1/g) * float64(n2)
		h := int(math.Round(d * lcm))
		d = float64(h) / lcm
		if h == 0 {
			return KSResult{D: d, P: 1, Method: "exact"}, nil
		}
		var p float64
		if n1 == n2 {
			p = ksProbOutsideSquare(n1, h)
		} else {
			p = ksOuterProbInside(n1, n2, g, h)
		}
		if p >= 0 && p <= 1 && !math.IsNaN(p) {
			return KSResult{D: d, P: p, Method: "exact"}, nil
		}
	}
	m, n := float64(max(n1, n2)), float64(min(n1, n2))
	en := math.Round(m * n / (m + n))
	return KSResult{D: d, P: clip01(KolmogorovSF(int(en), d)), Method: "asymp"}, nil
}

// ksProbOutsideSquare is P(D_{n,n} >= h/n), SciPy's
// _compute_prob_outside_square (an alternating binomial sum evaluated in
// Horner form to avoid cancellation).
func ksProbOutsideSquare(n, h int) float64 {
	var p float64
	for k := n / h; k >= 0; k-- {
		p1 := 1.0
		for j := range h {
			p1 = float64(n-k*h-j) * p1 / float64(n+k*h+j+1)
		}
		p = p1 * (1 - p)
	}
	return 2 * p
}

// ksOuterProbInside is P(D_{m,n} >= h/lcm(m,n)): one minus the share of
// monotone lattice paths from (0,0) to (m,n) that stay strictly inside
// |n·x - m·y|/g < h. The path counts are kept divided by binom(x+y, y)
// (a(x,y) = a(x-1,y)·x/(x+y) + a(x,y-1)·y/(x+y)) so nothing overflows.
func ksOuterProbInside(m, n, g, h int) float64 {
	if m < n {
		m, n = n, m
	}
	mg, ng := m/g, n/g
	prev, cur := make([]float64, n+1), make([]float64, n+1)
	// The window of y inside the band at column x: ng·x - mg·y in (-h, h).
	band := func(x int) (lo, hi int) {
		lo = max(floorDiv(ng*x-h, mg)+1, 0)
		hi = min(ceilDiv(ng*x+h, mg)-1, n)
		return lo, hi
	}
	plo, phi := band(0)
	for y := plo; y <= phi; y++ {
		prev[y] = 1
	}
	for x := 1; x <= m; x++ {
		lo, hi := band(x)
		if hi < lo {
			return 1
		}
		below := 0.0 // a(x, y-1)
		for y := lo; y <= hi; y++ {
			left := 0.0 // a(x-1, y)
			if y >= plo && y <= phi {
				left = prev[y]
			}
			below = (left*float64(x) + below*float64(y)) / float64(x+y)
			cur[y] = below
		}
		prev, cur = cur, prev
		plo, phi = lo, hi
	}
	return 1 - prev[n]
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func ceilDiv(a, b int) int { return -floorDiv(-a, b) }

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func clip01(p float64) float64 { return min(max(p, 0), 1) }

// KSAgainstCDF is the one-sample Kolmogorov-Smirnov statistic of sorted
// (ascending, no NaN) against the continuous reference CDF cdf (as
// scipy.stats.kstest(sorted, cdf) computes D), with the p-value of the
// two-sample test whose second sample has refN values:
// kstwo.sf(D, round(n·refN/(n+refN))), SciPy's asymptotic ks_2samp. The
// reference is the training data seen through its profile, so refN is the
// training row count and the test is exactly as sure as the two-sample
// test on the raw data would be. It allocates nothing.
func KSAgainstCDF(sorted []float64, cdf func(float64) float64, refN int) KSResult {
	return ksAgainst(sorted, func(i int) float64 { return cdf(sorted[i]) }, refN)
}

// ksAgainst is KSAgainstCDF with the reference CDF at sorted[i] given as
// g(i).
func ksAgainst(sorted []float64, g func(i int) float64, refN int) KSResult {
	n := len(sorted)
	if n == 0 {
		return KSResult{P: 1, Method: "asymp"}
	}
	var d float64
	fn := float64(n)
	for i := range sorted {
		g := g(i)
		d = max(d, float64(i+1)/fn-g, g-float64(i)/fn)
	}
	en := n
	if refN > 0 {
		en = int(math.Round(fn * float64(refN) / (fn + float64(refN))))
	}
	return KSResult{D: d, P: clip01(KolmogorovSF(max(en, 1), d)), Method: "asymp"}
}

// Wasserstein is scipy.stats.wasserstein_distance(u, v): the area between
// the two empirical CDFs. It sorts copies: O((n+m) log(n+m)).
func Wasserstein(u, v []float64) (float64, error) {
	if len(u) == 0 || len(v) == 0 {
		return 0, errors.New("monitor: wasserstein distance needs two non-empty samples")
	}
	x, y := slices.Clone(u), slices.Clone(v)
	slices.Sort(x)
	slices.Sort(y)
	var w float64
	i, j := 0, 0
	prev := math.Min(x[0], y[0])
	for i < len(x) || j < len(y) {
		var next float64
		switch {
		case j == len(y) || (i < len(x) && x[i] <= y[j]):
			next = x[i]
		default:
			next = y[j]
		}
		w += math.Abs(float64(i)/float64(len(x))-float64(j)/float64(len(y))) * (next - prev)
		for i < len(x) && x[i] == next {
			i++
		}
		for j < len(y) && y[j] == next {
			j++
		}
		prev = next
	}
	return w, nil
}

// WassersteinAgainstCDF is the Wasserstein-1 distance between the
// empirical distribution of sorted (ascending, no NaN) and the piecewise
// linear reference CDF r: the integral of |F_n(x) - G(x)|, computed exactly
// over the merged breakpoints. It allocates nothing.
func WassersteinAgainstCDF(sorted []float64, r *RefCDF) float64 {
	n := len(sorted)
	if n == 0 || len(r.X) == 0 {
		return 0
	}
	// Walk the union of sample points and knots left to right; between two
	// consecutive breakpoints F_n is constant and G is linear.
	var w float64
	i, k := 0, 0
	fn := float64(n)
	prev := math.Min(sorted[0], r.X[0])
	for i < n || k < len(r.X) {
		var next float64
		switch {
		case k == len(r.X) || (i < n && sorted[i] <= r.X[k]):
			next = sorted[i]
		default:
			next = r.X[k]
		}
		if next > prev {
			c := float64(i) / fn
			w += segmentArea(c, r.CDF(prev), r.cdfLeft(next), next-prev)
		}
		for i < n && sorted[i] == next {
			i++
		}
		for k < len(r.X) && r.X[k] == next {
			k++
		}
		prev = next
	}
	return w
}

// segmentArea is the integral over a segment of width dx of |c - G| where
// G runs linearly from g0 to g1.
func segmentArea(c, g0, g1, dx float64) float64 {
	a, b := c-g0, c-g1
	if a*b >= 0 {
		return math.Abs(a+b) / 2 * dx
	}
	t := a / (a - b) // where G crosses c, as a share of dx
	return (math.Abs(a)*t + math.Abs(b)*(1-t)) / 2 * dx
}

// psiFloor replaces empty bins' shares in PSI, as Evidently does, so an
// empty bin costs a large but finite amount.
const psiFloor = 1e-4

// PSI is the population stability index of the current bin shares against
// the reference ones: sum (ref - cur)·ln(ref/cur), empty shares replaced by
// 0.0001 (Evidently's psi_stat_test). Both are counts or shares; each is
// normalised by its own sum.
func PSI(ref, cur []float64) float64 {
	sr, sc := sum(ref), sum(cur)
	var s float64
	for i := range ref {
		r, c := psiFloor, psiFloor
		if sr > 0 && ref[i] > 0 {
			r = ref[i] / sr
		}
		if sc > 0 && cur[i] > 0 {
			c = cur[i] / sc
		}
		s += (r - c) * math.Log(r/c)
	}
	return s
}

// ChiSquare is scipy.stats.chisquare(obs, exp): Pearson's statistic
// sum (obs-exp)²/exp and its p-value with len(obs)-1 degrees of freedom.
// exp must be positive and sum to sum(obs).
func ChiSquare(obs, exp []float64) (stat, p float64) {
	for i, o := range obs {
		d := o - exp[i]
		stat += d * d / exp[i]
	}
	return stat, ChiSquareSF(stat, len(obs)-1)
}

// ChiSquareHomogeneity is scipy.stats.chi2_contingency(table,
// correction=False) for a 2×k table whose rows are a and b: Pearson's
// test that two samples of counts come from one distribution, degrees of
// freedom k-1. Columns empty in both rows must be left out first.
func ChiSquareHomogeneity(a, b []float64) (stat, p float64) {
	na, nb := sum(a), sum(b)
	n := na + nb
	for i := range a {
		col := a[i] + b[i]
		ea, eb := na*col/n, nb*col/n
		stat += (a[i]-ea)*(a[i]-ea)/ea + (b[i]-eb)*(b[i]-eb)/eb
	}
	return stat, ChiSquareSF(stat, len(a)-1)
}

// ChiSquareSF is the chi-squared survival function with df degrees of
// freedom (scipy.stats.chi2.sf): the regularised upper incomplete gamma
// Q(df/2, x/2).
func ChiSquareSF(x float64, df int) float64 {
	if df <= 0 || math.IsNaN(x) {
		return math.NaN()
	}
	if x <= 0 {
		return 1
	}
	if math.IsInf(x, 1) {
		return 0
	}
	return gammaQ(float64(df)/2, x/2)
}

// gammaQ is the regularised upper incomplete gamma function Q(a, x): the
// power series of P for x < a+1, Lentz's continued fraction for Q beyond
// (Numerical Recipes §6.2), both to full double precision.
func gammaQ(a, x float64) float64 {
	lg, _ := math.Lgamma(a)
	front := math.Exp(-x + a*math.Log(x) - lg)
	if x < a+1 {
		ap, del, s := a, 1/a, 1/a
		for range 1000 {
			ap++
			del *= x / ap
			s += del
			if math.Abs(del) < math.Abs(s)*1e-17 {
				break
			}
		}
		return 1 - s*front
	}
	const tiny = 1e-300
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < 1000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-17 {
			break
		}
	}
	return front * h
}

// JensenShannon is scipy.spatial.distance.jensenshannon(p, q, base): the
// square root of the Jensen-Shannon divergence of p and q, each normalised
// by its sum; natural logarithms when base <= 0 (SciPy's default and
// Evidently's), so it lies in [0, sqrt(ln 2)]; base 2 bounds it by 1.
func JensenShannon(p, q []float64, base float64) float64 {
	sp, sq := sum(p), sum(q)
	var js float64
	for i := range p {
		a, b := p[i]/sp, q[i]/sq
		m := (a + b) / 2
		if a > 0 {
			js += a * math.Log(a/m)
		}
		if b > 0 {
			js += b * math.Log(b/m)
		}
	}
	if base > 0 {
		js /= math.Log(base)
	}
	return math.Sqrt(max(js, 0) / 2)
}

func sum(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}
