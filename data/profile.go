package data

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/shenml/shen/internal/safeio"
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
	// Labels is the distribution of the training labels by class name
	// (image profiles; see NewImageProfile), by decreasing count.
	Labels []CategoryCount `json:"labels,omitempty"`
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

// imageQuantileSample caps the pixel values sorted for the quantiles of
// an image profile.
const imageQuantileSample = 1 << 20

// NewImageProfile summarises images for monitoring, in the shape of a
// table profile: x holds CHW images in [0, 1], sample-major, and only
// those whose indices are in rows (all when rows is nil) are profiled
// (the training split). Rows is the number of images. For each channel c
// there are two numeric features:
//
//   - pixel_c<c>: every pixel intensity of channel c (count images·h·w):
//     mean, std, min, max and the histogram of bins equal-width bins
//     (10 when bins <= 0) are exact; the quantiles come from an evenly
//     strided sample of at most 2^20 pixels.
//   - pixel_mean_c<c>: the mean intensity of channel c of each image, one
//     value per image, which a monitor can compute for every request.
//
// labels (indices into classes; nil for none) fill Labels with the class
// distribution. It costs O(images·c·h·w) time and O(images) memory.
func NewImageProfile(x []float32, c, h, w int, rows []int, labels []int64, classes []string, bins int) (*Profile, error) {
	if bins <= 0 {
		bins = 10
	}
	sz := c * h * w
	if c <= 0 || h <= 0 || w <= 0 || len(x)%sz != 0 {
		return nil, fmt.Errorf("data: image profile: %d values are not whole %dx%dx%d images", len(x), c, h, w)
	}
	n := len(x) / sz
	if rows == nil {
		rows = make([]int, n)
		for i := range rows {
			rows[i] = i
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("data: image profile: no images")
	}
	for _, r := range rows {
		if r < 0 || r >= n {
			return nil, fmt.Errorf("data: image profile: image %d out of range [0,%d)", r, n)
		}
	}
	if labels != nil && len(labels) != n {
		return nil, fmt.Errorf("data: image profile: %d labels for %d images", len(labels), n)
	}
	plane := h * w
	total := len(rows) * plane
	stride := (total + imageQuantileSample - 1) / imageQuantileSample
	p := &Profile{Rows: len(rows), Features: []FeatureProfile{}}
	for ch := range c {
		pixels := func(yield func(float64)) {
			for _, r := range rows {
				for _, v := range x[r*sz+ch*plane : r*sz+(ch+1)*plane] {
					yield(float64(v))
				}
			}
		}
		fp := FeatureProfile{Name: fmt.Sprintf("pixel_c%d", ch), Type: Numeric, Count: total}
		means := make([]float64, 0, len(rows))
		var sum float64
		fp.Min, fp.Max = math.Inf(1), math.Inf(-1)
		sample := make([]float64, 0, min(total, imageQuantileSample))
		k := 0
		for _, r := range rows {
			var s float64
			for _, v := range x[r*sz+ch*plane : r*sz+(ch+1)*plane] {
				f := float64(v)
				s += f
				fp.Min, fp.Max = min(fp.Min, f), max(fp.Max, f)
				if k%stride == 0 {
					sample = append(sample, f)
				}
				k++
			}
			sum += s
			means = append(means, s/float64(plane))
		}
		fp.Mean = sum / float64(total)
		var ss float64
		pixels(func(f float64) { d := f - fp.Mean; ss += d * d })
		fp.Std = math.Sqrt(ss / float64(total))
		sort.Float64s(sample)
		for _, q := range ProfileQuantiles {
			fp.Quantiles = append(fp.Quantiles, Quantile{q, quantileSorted(sample, q)})
		}
		hist := &Histogram{Edges: make([]float64, bins+1), Counts: make([]int, bins)}
		for i := range hist.Edges {
			hist.Edges[i] = fp.Min + (fp.Max-fp.Min)*float64(i)/float64(bins)
		}
		hist.Edges[bins] = fp.Max
		pixels(func(f float64) {
			if b := hist.Bin(f); b >= 0 {
				hist.Counts[b]++
			}
		})
		fp.Histogram = hist
		p.Features = append(p.Features, fp)
		mp := FeatureProfile{Name: fmt.Sprintf("pixel_mean_c%d", ch), Type: Numeric, Count: len(rows)}
		profileNumeric(&mp, means, bins)
		p.Features = append(p.Features, mp)
	}
	if labels != nil {
		names := make([]string, len(rows))
		for i, r := range rows {
			y := labels[r]
			if y >= 0 && int(y) < len(classes) {
				names[i] = classes[y]
			} else {
				names[i] = strconv.FormatInt(y, 10)
			}
		}
		lp := FeatureProfile{Count: len(rows)}
		profileCategorical(&lp, names)
		p.Labels = lp.Categories
	}
	return p, nil
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
	b, err := safeio.ReadFile(path, safeio.MaxJSON)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	p := &Profile{}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	return p, nil
}
