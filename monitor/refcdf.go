package monitor

import (
	"math"
	"slices"

	"github.com/shenml/shen/data"
)

// RefCDF is a numeric feature's training distribution rebuilt from its
// profile, which stores a histogram and quantiles rather than the raw
// values. It is piecewise linear through the points the profile knows
// exactly: (min, 0), each histogram edge with the share of training values
// below it, each quantile (value, q), and (max, 1). Between knots the
// values are taken as uniformly spread, the usual assumption for a
// histogram. With 10 bins and 7 quantiles the curve stays within about
// 0.01 of the true CDF for smooth features, well under the KS test's
// critical distance for windows up to the ~1000 rows where drift detection
// switches from tests to distances.
type RefCDF struct {
	X []float64 // knot positions, ascending (repeated for a jump)
	F []float64 // CDF at each knot, non-decreasing, from 0 to 1
	N int       // training values behind the profile
	// Mean and Std are the profile's (population std): Wasserstein
	// distances are divided by Std.
	Mean, Std float64
}

// NewRefCDF builds the reference CDF of a numeric feature profile; it
// returns nil when the profile has no values or no histogram.
func NewRefCDF(fp *data.FeatureProfile) *RefCDF {
	h := fp.Histogram
	if fp.Type != data.Numeric || fp.Count == 0 || h == nil || len(h.Counts) == 0 || len(h.Edges) != len(h.Counts)+1 {
		return nil
	}
	total := 0
	for _, c := range h.Counts {
		total += c
	}
	if total == 0 {
		return nil
	}
	type knot struct{ x, f float64 }
	ks := []knot{{fp.Min, 0}}
	cum := 0
	for i := 1; i < len(h.Edges)-1; i++ {
		cum += h.Counts[i-1]
		ks = append(ks, knot{h.Edges[i], float64(cum) / float64(total)})
	}
	for _, q := range fp.Quantiles {
		ks = append(ks, knot{q.Value, q.Q})
	}
	ks = append(ks, knot{fp.Max, 1})
	slices.SortStableFunc(ks, func(a, b knot) int {
		if a.x != b.x {
			if a.x < b.x {
				return -1
			}
			return 1
		}
		switch {
		case a.f < b.f:
			return -1
		case a.f > b.f:
			return 1
		}
		return 0
	})
	r := &RefCDF{N: fp.Count, Mean: fp.Mean, Std: fp.Std}
	f := 0.0
	for _, k := range ks {
		if math.IsNaN(k.x) || math.IsNaN(k.f) {
			continue
		}
		// Quantiles are interpolated and may disagree with the exact
		// histogram shares by a rounding; keep the curve monotone.
		f = min(max(f, k.f), 1)
		r.X = append(r.X, k.x)
		r.F = append(r.F, f)
	}
	r.F[len(r.F)-1] = 1
	return r
}

// CDF is the reference CDF at v (right-continuous at a jump).
func (r *RefCDF) CDF(v float64) float64 {
	n := len(r.X)
	if v < r.X[0] {
		return 0
	}
	if v >= r.X[n-1] {
		return 1
	}
	// k: the last knot with X[k] <= v, so X[k+1] > v.
	k := upperBound(r.X, v) - 1
	x0, x1 := r.X[k], r.X[k+1]
	return r.F[k] + (r.F[k+1]-r.F[k])*(v-x0)/(x1-x0)
}

// cdfLeft is the limit of the CDF from the left at v.
func (r *RefCDF) cdfLeft(v float64) float64 {
	n := len(r.X)
	if v <= r.X[0] {
		return 0
	}
	if v > r.X[n-1] {
		return 1
	}
	// k: the first knot with X[k] >= v, so X[k-1] < v.
	k := lowerBound(r.X, v)
	x0, x1 := r.X[k-1], r.X[k]
	return r.F[k-1] + (r.F[k]-r.F[k-1])*(v-x0)/(x1-x0)
}

// Quantile inverts the CDF (for drawing reference-like samples and for
// charts).
func (r *RefCDF) Quantile(p float64) float64 {
	p = clip01(p)
	k := lowerBound(r.F, p)
	if k == 0 {
		return r.X[0]
	}
	if k >= len(r.F) {
		return r.X[len(r.X)-1]
	}
	f0, f1 := r.F[k-1], r.F[k]
	if f1 == f0 {
		return r.X[k]
	}
	return r.X[k-1] + (r.X[k]-r.X[k-1])*(p-f0)/(f1-f0)
}

// upperBound is the first index with s[i] > v.
func upperBound(s []float64, v float64) int {
	lo, hi := 0, len(s)
	for lo < hi {
		m := (lo + hi) / 2
		if s[m] <= v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// lowerBound is the first index with s[i] >= v.
func lowerBound(s []float64, v float64) int {
	lo, hi := 0, len(s)
	for lo < hi {
		m := (lo + hi) / 2
		if s[m] < v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// cdfSorted writes the reference CDF at each of sorted (ascending) into
// out, walking the knots once: O(n + knots) instead of a binary search
// per value. It equals calling CDF on each value.
func (r *RefCDF) cdfSorted(sorted, out []float64) {
	k, n := 0, len(r.X)
	for i, v := range sorted {
		switch {
		case v < r.X[0]:
			out[i] = 0
			continue
		case v >= r.X[n-1]:
			out[i] = 1
			continue
		}
		for k+1 < n && r.X[k+1] <= v {
			k++
		}
		x0, x1 := r.X[k], r.X[k+1]
		out[i] = r.F[k] + (r.F[k+1]-r.F[k])*(v-x0)/(x1-x0)
	}
}
