package data

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
)

// ProfileQuantiles are the quantiles recorded for every numeric feature.
var ProfileQuantiles = []float64{0.01, 0.05, 0.25, 0.50, 0.75, 0.95, 0.99}

// Quantile is one quantile of a feature.
type Quantile struct {
	Q     float64 `json:"q"`
	Value float64 `json:"value"`
}

// Histogram counts values in Bins equal-width bins between Edges[0] and
// Edges[len-1] (the training min and max); bin i holds values in
// [Edges[i], Edges[i+1]), the last bin also its right edge.
type Histogram struct {
	Edges  []float64 `json:"edges"`
	Counts []int     `json:"counts"`
}

// Bin returns the bin of v, clamping values outside the range to the first
// or last bin, or -1 for NaN.
func (h *Histogram) Bin(v float64) int {
	n := len(h.Counts)
	if n == 0 || math.IsNaN(v) {
		return -1
	}
	lo, hi := h.Edges[0], h.Edges[len(h.Edges)-1]
	if hi <= lo || v <= lo {
		return 0
	}
	if v >= hi {
		return n - 1
	}
	return min(int((v-lo)/(hi-lo)*float64(n)), n-1)
}

// CategoryCount is the frequency of one category.
type CategoryCount struct {
	Value string  `json:"value"`
	Count int     `json:"count"`
	Freq  float64 `json:"freq"` // Count over non-missing values
}

// FeatureProfile summarises one column. Moments and quantiles cover the
// non-missing values; they are 0 when there are none.
type FeatureProfile struct {
	Name        string          `json:"name"`
	Type        ColumnType      `json:"type"`
	Count       int             `json:"count"`   // non-missing values
	Missing     int             `json:"missing"` // missing values
	MissingRate float64         `json:"missing_rate"`
	Mean        float64         `json:"mean,omitempty"`
	Std         float64         `json:"std,omitempty"` // population (divide by n)
	Min         float64         `json:"min,omitempty"`
	Max         float64         `json:"max,omitempty"`
	Quantiles   []Quantile      `json:"quantiles,omitempty"`
	Histogram   *Histogram      `json:"histogram,omitempty"`
	Categories  []CategoryCount `json:"categories,omitempty"` // by decreasing count, then value
}

// Profile is the reference summary of training data that monitoring
// compares live traffic against.
type Profile struct {
	Rows     int              `json:"rows"`
	Features []FeatureProfile `json:"features"`
}

// NewProfile summarises every column of f with histograms of bins
// equal-width bins (10 when bins <= 0). It sorts a copy of each numeric
// column: O(n log n) time, O(n) extra memory per column.
func NewProfile(f *Frame, bins int) *Profile {
	if bins <= 0 {
		bins = 10
	}
	p := &Profile{Rows: f.NumRows(), Features: []FeatureProfile{}}
	for _, c := range f.Columns {
		fp := FeatureProfile{Name: c.Name, Type: c.Type}
		fp.Missing = c.MissingCount()
		fp.Count = c.Len() - fp.Missing
		if c.Len() > 0 {
			fp.MissingRate = float64(fp.Missing) / float64(c.Len())
		}
		if c.Type == Numeric {
			profileNumeric(&fp, c.Num, bins)
		} else {
			profileCategorical(&fp, c.Cat)
		}
		p.Features = append(p.Features, fp)
	}
	return p
}

func profileNumeric(fp *FeatureProfile, v []float64, bins int) {
	s := sortedPresent(v)
	if len(s) == 0 {
		return
	}
	fp.Mean, fp.Std, _ = meanStd(s)
	fp.Min, fp.Max = s[0], s[len(s)-1]
	for _, q := range ProfileQuantiles {
		fp.Quantiles = append(fp.Quantiles, Quantile{q, quantileSorted(s, q)})
	}
	h := &Histogram{Edges: make([]float64, bins+1), Counts: make([]int, bins)}
	for i := range h.Edges {
		h.Edges[i] = fp.Min + (fp.Max-fp.Min)*float64(i)/float64(bins)
	}
	h.Edges[bins] = fp.Max
	for _, x := range s {
		h.Counts[h.Bin(x)]++
	}
	fp.Histogram = h
}

func profileCategorical(fp *FeatureProfile, v []string) {
	counts := map[string]int{}
	for _, s := range v {
		if s != "" {
			counts[s]++
		}
	}
	for s, n := range counts {
		fp.Categories = append(fp.Categories, CategoryCount{Value: s, Count: n, Freq: float64(n) / float64(fp.Count)})
	}
	sort.Slice(fp.Categories, func(i, j int) bool {
		a, b := fp.Categories[i], fp.Categories[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Value < b.Value
	})
}

// Feature returns the profile of the named feature, or nil.
func (p *Profile) Feature(name string) *FeatureProfile {
	for i := range p.Features {
		if p.Features[i].Name == name {
			return &p.Features[i]
		}
	}
	return nil
}

// Save writes the profile as JSON, atomically.
func (p *Profile) Save(path string) error { return writeJSONAtomic(path, p) }

// LoadProfile reads a profile written by Save.
func LoadProfile(path string) (*Profile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	p := &Profile{}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	return p, nil
}
