package monitor

import (
	"math"
	"slices"

	"github.com/shenml/shen/data"
)

// FeatureDrift is one feature's verdict over a window.
//
// Which statistic decides follows Evidently's defaults, keyed on the
// window rather than the reference (the reference is a profile of any
// size): windows of at most test_max_rows values use a test, whose p-value
// already accounts for the window's size, so a 30-row window is flagged
// only at the test's own false-alarm rate (p_value); larger windows use a
// distance, because there every test rejects for shifts too small to
// matter. Numeric: two-sample KS (small) or Wasserstein distance divided
// by the reference std (large). Categorical: Pearson's chi-squared (small)
// or the Jensen-Shannon distance (large). PSI is always reported and
// decides when a method of psi is configured.
type FeatureDrift struct {
	Feature   string  `json:"feature"`
	Kind      string  `json:"kind"`   // numeric, categorical, prediction, pixels
	Rows      int     `json:"rows"`   // non-missing values in the window
	Method    string  `json:"method"` // ks, wasserstein, chisquare, jensen_shannon, psi
	Statistic float64 `json:"statistic"`
	// PValue is the test's p-value (ks, chisquare); 1 for distances.
	PValue    float64 `json:"p_value"`
	Threshold float64 `json:"threshold"`
	PSI       float64 `json:"psi"`
	Drifted   bool    `json:"drifted"`

	MissingRate    float64 `json:"missing_rate"`
	RefMissingRate float64 `json:"ref_missing_rate"`
	MissingDrifted bool    `json:"missing_drifted"`
	UnseenRate     float64 `json:"unseen_rate,omitempty"` // categorical: values absent from training
	UnseenDrifted  bool    `json:"unseen_drifted,omitempty"`

	Mean    float64 `json:"mean,omitempty"` // numeric: window mean and std
	Std     float64 `json:"std,omitempty"`
	RefMean float64 `json:"ref_mean,omitempty"`
	RefStd  float64 `json:"ref_std,omitempty"`

	// Bins labels the shares compared: histogram edges (numeric, one more
	// than the shares) or category names (the last "(unseen)").
	Edges     []float64 `json:"edges,omitempty"`
	Bins      []string  `json:"bins,omitempty"`
	RefShares []float64 `json:"ref_shares"`
	Shares    []float64 `json:"shares"`
}

// Any reports whether the feature drifted in any way: its values, its
// missing rate or its unseen-category rate.
func (f *FeatureDrift) Any() bool { return f.Drifted || f.MissingDrifted || f.UnseenDrifted }

// numericRef is what the drift of one numeric feature is measured against.
type numericRef struct {
	name string
	fp   *data.FeatureProfile
	cdf  *RefCDF
}

// numeric measures a window's values of one numeric feature (sorted:
// ascending, NaN removed; missing: the NaNs) against its profile.
func (c *DriftConfig) numeric(r *numericRef, sorted []float64, missing int) FeatureDrift {
	fd := c.numericRaw(r, sorted, missing)
	fd.finite()
	return fd
}

// finite clamps what extreme client values (±1e308 and the like) can push
// past float64's range, so a report always encodes as JSON: infinities
// become ±MaxFloat64, NaN 0 (a p-value 1).
func (f *FeatureDrift) finite() {
	for _, p := range []*float64{&f.Statistic, &f.PSI, &f.Mean, &f.Std} {
		switch {
		case math.IsNaN(*p):
			*p = 0
		case math.IsInf(*p, 0):
			*p = math.Copysign(math.MaxFloat64, *p)
		}
	}
	if math.IsNaN(f.PValue) {
		f.PValue = 1
	}
}

func (c *DriftConfig) numericRaw(r *numericRef, sorted []float64, missing int) FeatureDrift {
	fp := r.fp
	fd := FeatureDrift{Feature: r.name, Kind: "numeric", Rows: len(sorted), PValue: 1,
		RefMean: fp.Mean, RefStd: fp.Std, RefMissingRate: fp.MissingRate}
	c.missing(&fd, missing, fp)
	h := fp.Histogram
	fd.Edges = h.Edges
	fd.RefShares = shares(h.Counts)
	fd.Shares = make([]float64, len(h.Counts))
	if len(sorted) == 0 {
		return fd
	}
	k := float64(len(sorted))
	for _, v := range sorted {
		fd.Shares[h.Bin(v)]++
		fd.Mean += v / k // term by term: no overflow for any finite values
	}
	// Std scaled by the largest deviation, so huge values do not overflow.
	scale := max(math.Abs(sorted[0]-fd.Mean), math.Abs(sorted[len(sorted)-1]-fd.Mean))
	if scale > 0 {
		var ss float64
		for _, v := range sorted {
			d := (v - fd.Mean) / scale
			ss += d * d
		}
		fd.Std = scale * math.Sqrt(ss/k)
	}
	fd.PSI = PSI(fd.RefShares, fd.Shares)
	counts := slices.Clone(fd.Shares)
	for i := range fd.Shares {
		fd.Shares[i] /= float64(len(sorted))
	}
	method := c.NumericMethod
	if method == "auto" || method == "" {
		method = "wasserstein"
		if len(sorted) <= c.TestMaxRows {
			method = "ks"
		}
		// A feature taking few distinct values (counts, codes, a constant)
		// has a step CDF that the profile's piecewise-linear curve cannot
		// follow, so KS and Wasserstein would see a difference that is
		// only the curve's: compare the histogram bins instead, whose
		// training counts are exact (as Evidently treats numeric features
		// with few values as categorical).
		if distinct(sorted) <= discreteValues {
			method = "jensen_shannon"
			if len(sorted) <= c.TestMaxRows {
				method = "chisquare"
			}
		}
	}
	fd.Method = method
	switch method {
	case "chisquare", "jensen_shannon":
		// Values outside the training range count apart (the histogram
		// would fold them into its end bins): training had none of them,
		// so they are to these comparisons what unseen categories are.
		ref := make([]float64, len(h.Counts)+1)
		for i, n := range h.Counts {
			ref[i] = float64(n)
		}
		cur := append(counts, 0)
		for _, v := range sorted {
			if v < fp.Min || v > fp.Max {
				cur[h.Bin(v)]--
				cur[len(h.Counts)]++
			}
		}
		if method == "jensen_shannon" {
			fd.Statistic, fd.Threshold = JensenShannon(ref, cur, 0), c.JensenShannon
			fd.Drifted = fd.Statistic >= c.JensenShannon
			break
		}
		fd.Threshold = c.PValue
		if a, b := pooled(ref[:len(h.Counts)], cur[:len(h.Counts)], cur[len(h.Counts):]); len(a) >= 2 {
			fd.Statistic, fd.PValue = ChiSquareHomogeneity(a, b)
			fd.Drifted = fd.PValue < c.PValue
		}
	case "ks":
		g := make([]float64, len(sorted))
		r.cdf.cdfSorted(sorted, g)
		ks := ksAgainst(sorted, func(i int) float64 { return g[i] }, r.cdf.N)
		fd.Statistic, fd.PValue, fd.Threshold = ks.D, ks.P, c.PValue
		fd.Drifted = ks.P < c.PValue
	case "wasserstein":
		w := WassersteinAgainstCDF(sorted, r.cdf)
		if r.cdf.Std > 0 {
			w /= r.cdf.Std
		} else if w > 0 {
			w = 1e9 // a constant feature that now varies: "infinitely" far (JSON has no Inf)
		}
		fd.Statistic, fd.Threshold = w, c.Wasserstein
		fd.Drifted = w >= c.Wasserstein
	case "psi":
		fd.Statistic, fd.Threshold = fd.PSI, c.PSI
		fd.Drifted = fd.PSI >= c.PSI
	}
	return fd
}

// discreteValues is how few distinct values in a window make a numeric
// feature discrete (see numeric).
const discreteValues = 20

// distinct counts the distinct values of sorted.
func distinct(sorted []float64) int {
	n := 0
	for i, v := range sorted {
		if i == 0 || v != sorted[i-1] {
			n++
		}
	}
	return n
}

// pooled prepares a two-sample chi-squared table from reference counts a
// and window counts b: columns the window would expect fewer than 5 times
// are pooled into one, with extra window counts (values the reference
// never had) added to the pool. Columns empty in both rows are dropped.
func pooled(a, b []float64, extra []float64) (ra, rb []float64) {
	na, nb := sum(a), sum(b)+sum(extra)
	poolA, poolB := 0.0, sum(extra)
	for i := range a {
		if nb*(a[i]+b[i])/(na+nb) < 5 {
			poolA += a[i]
			poolB += b[i]
			continue
		}
		ra, rb = append(ra, a[i]), append(rb, b[i])
	}
	if poolA+poolB > 0 {
		ra, rb = append(ra, poolA), append(rb, poolB)
	}
	return ra, rb
}

// missing decides whether the missing rate moved: a chi-squared test of
// (missing, present) against the training rate, smoothed by half a count
// so a feature never missing in training still has a finite expectation,
// and a change of at least rate_delta so a lone missing value in a small
// window is no alarm.
func (c *DriftConfig) missing(fd *FeatureDrift, missing int, fp *data.FeatureProfile) {
	total := fd.Rows + missing
	if total == 0 {
		return
	}
	fd.MissingRate = float64(missing) / float64(total)
	fd.MissingDrifted = rateDrift(missing, total, fp.Missing, fp.Count+fp.Missing, c)
}

// rateDrift tests k events in n window rows against kRef in nRef training
// rows.
func rateDrift(k, n, kRef, nRef int, c *DriftConfig) bool {
	pr := (float64(kRef) + 0.5) / (float64(nRef) + 1)
	rate := float64(k) / float64(n)
	if math.Abs(rate-float64(kRef)/float64(max(nRef, 1))) < c.RateDelta {
		return false
	}
	_, p := ChiSquare([]float64{float64(k), float64(n - k)}, []float64{pr * float64(n), (1 - pr) * float64(n)})
	return p < c.PValue
}

// categoricalRef is the reference of a categorical feature or of the
// predicted classes: category names and their training frequencies.
type categoricalRef struct {
	name   string
	kind   string
	names  []string
	freq   []float64
	n      int       // training values
	counts []float64 // training counts, for the two-sample chi-squared test
	fp     *data.FeatureProfile
	index  map[string]int
}

func newCategoricalRef(name, kind string, cats []data.CategoryCount, fp *data.FeatureProfile) *categoricalRef {
	r := &categoricalRef{name: name, kind: kind, fp: fp, index: map[string]int{}}
	for i, c := range cats {
		r.names = append(r.names, c.Value)
		r.n += c.Count
		r.index[c.Value] = i
	}
	for _, c := range cats {
		r.freq = append(r.freq, float64(c.Count)/float64(max(r.n, 1)))
		r.counts = append(r.counts, float64(c.Count))
	}
	return r
}

// categorical measures a window's category counts (len(names)+1: the last
// counts values unseen in training) and missing values against the
// reference.
func (c *DriftConfig) categorical(r *categoricalRef, counts []float64, missing int) FeatureDrift {
	fd := c.categoricalRaw(r, counts, missing)
	fd.finite()
	return fd
}

func (c *DriftConfig) categoricalRaw(r *categoricalRef, counts []float64, missing int) FeatureDrift {
	k := len(r.names)
	n := 0.0
	for _, v := range counts {
		n += v
	}
	fd := FeatureDrift{Feature: r.name, Kind: r.kind, Rows: int(n), PValue: 1}
	if r.fp != nil {
		fd.RefMissingRate = r.fp.MissingRate
		c.missing(&fd, missing, r.fp)
	}
	fd.Bins = append(append(fd.Bins, r.names...), "(unseen)")
	fd.RefShares = append(append(fd.RefShares, r.freq...), 0)
	fd.Shares = make([]float64, k+1)
	if n == 0 {
		return fd
	}
	for i, v := range counts {
		fd.Shares[i] = v / n
	}
	fd.UnseenRate = counts[k] / n
	if r.n == 0 {
		return fd // never observed in training: nothing to compare with
	}
	fd.UnseenDrifted = counts[k] > 0 && rateDrift(int(counts[k]), int(n), 0, r.n, c)
	fd.PSI = PSI(fd.RefShares, counts)
	method := c.CategoricalMethod
	if method == "auto" || method == "" {
		method = "jensen_shannon"
		if int(n) <= c.TestMaxRows {
			method = "chisquare"
		}
	}
	fd.Method = method
	switch method {
	case "chisquare":
		// Two samples, training counts and window counts, so a small
		// training set is no more trusted than it deserves (as the KS test
		// uses the training row count). Columns expected fewer than 5
		// times in the window are pooled with the unseen values.
		fd.Threshold = c.PValue
		if a, b := pooled(r.counts, counts[:k], counts[k:]); len(a) >= 2 {
			fd.Statistic, fd.PValue = ChiSquareHomogeneity(a, b)
			fd.Drifted = fd.PValue < c.PValue
		}
	case "jensen_shannon":
		fd.Statistic, fd.Threshold = JensenShannon(fd.RefShares, counts, 0), c.JensenShannon
		fd.Drifted = fd.Statistic >= c.JensenShannon
	case "psi":
		fd.Statistic, fd.Threshold = fd.PSI, c.PSI
		fd.Drifted = fd.PSI >= c.PSI
	}
	return fd
}

// pixels measures the pixel intensities of one image channel over a window,
// binned in the profile's histogram bins (counts), by the Jensen-Shannon
// distance (a window of images holds thousands of pixels, so a distance,
// not a test) and PSI.
func (c *DriftConfig) pixels(name string, fp *data.FeatureProfile, counts []float64, mean, std float64) FeatureDrift {
	fd := FeatureDrift{Feature: name, Kind: "pixels", PValue: 1, Method: "jensen_shannon",
		Threshold: c.JensenShannon, Mean: mean, Std: std, RefMean: fp.Mean, RefStd: fp.Std,
		Edges: fp.Histogram.Edges, RefShares: shares(fp.Histogram.Counts)}
	n := sum(counts)
	fd.Rows = int(n)
	fd.Shares = make([]float64, len(counts))
	if n == 0 {
		return fd
	}
	for i, v := range counts {
		fd.Shares[i] = v / n
	}
	fd.PSI = PSI(fd.RefShares, counts)
	fd.Statistic = JensenShannon(fd.RefShares, counts, 0)
	fd.Drifted = fd.Statistic >= c.JensenShannon
	if c.CategoricalMethod == "psi" || c.NumericMethod == "psi" {
		fd.Method, fd.Statistic, fd.Threshold = "psi", fd.PSI, c.PSI
		fd.Drifted = fd.PSI >= c.PSI
	}
	return fd
}

func shares(counts []int) []float64 {
	t := 0
	for _, c := range counts {
		t += c
	}
	out := make([]float64, len(counts))
	for i, c := range counts {
		if t > 0 {
			out[i] = float64(c) / float64(t)
		}
	}
	return out
}

// DatasetDrift is the verdict over all input features: Drifted when the
// share of features that drifted in any way reaches dataset_share.
type DatasetDrift struct {
	Features int     `json:"features"` // features with values in the window
	Drifted  int     `json:"drifted"`
	Share    float64 `json:"share"`
	Dataset  bool    `json:"dataset_drift"`
}

func (c *DriftConfig) dataset(fs []FeatureDrift) DatasetDrift {
	var d DatasetDrift
	for i := range fs {
		if fs[i].Rows == 0 && fs[i].MissingRate == 0 {
			continue
		}
		d.Features++
		if fs[i].Any() {
			d.Drifted++
		}
	}
	if d.Features > 0 {
		d.Share = float64(d.Drifted) / float64(d.Features)
		d.Dataset = d.Share >= c.DatasetShare
	}
	return d
}
