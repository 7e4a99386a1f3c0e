package data

import (
	"math"
	"slices"
)

// present returns the non-NaN values of v, sorted.
func sortedPresent(v []float64) []float64 {
	out := make([]float64, 0, len(v))
	for _, x := range v {
		if !math.IsNaN(x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

// quantileSorted returns the q-quantile of sorted values with linear
// interpolation between order statistics (NumPy's default, Hyndman-Fan type
// 7). It returns NaN for no values.
func quantileSorted(s []float64, q float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	q = min(max(q, 0), 1)
	h := q * float64(len(s)-1)
	lo := int(math.Floor(h))
	hi := min(lo+1, len(s)-1)
	return s[lo] + (h-float64(lo))*(s[hi]-s[lo])
}

// meanStd returns the mean and population standard deviation (divide by n)
// of the non-NaN values and their count.
func meanStd(v []float64) (mean, std float64, n int) {
	var sum float64
	for _, x := range v {
		if !math.IsNaN(x) {
			sum += x
			n++
		}
	}
	if n == 0 {
		return math.NaN(), math.NaN(), 0
	}
	mean = sum / float64(n)
	var ss float64
	for _, x := range v {
		if !math.IsNaN(x) {
			d := x - mean
			ss += d * d
		}
	}
	return mean, math.Sqrt(ss / float64(n)), n
}

// modeString returns the most frequent non-empty string, ties broken by the
// smallest string, and its count.
func modeString(v []string) (string, int) {
	counts := map[string]int{}
	for _, s := range v {
		if s != "" {
			counts[s]++
		}
	}
	best, bn := "", 0
	for s, n := range counts {
		if n > bn || (n == bn && s < best) {
			best, bn = s, n
		}
	}
	return best, bn
}

// modeFloat returns the most frequent non-NaN value, ties broken by the
// smallest value.
func modeFloat(v []float64) (float64, int) {
	counts := map[float64]int{}
	for _, x := range v {
		if !math.IsNaN(x) {
			counts[x]++
		}
	}
	best, bn := math.NaN(), 0
	for x, n := range counts {
		if n > bn || (n == bn && x < best) {
			best, bn = x, n
		}
	}
	return best, bn
}
