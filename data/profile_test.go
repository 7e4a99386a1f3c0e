package data

import (
	"math"
	"path/filepath"
	"reflect"
	"testing"
)

func TestProfile(t *testing.T) {
	f := &Frame{}
	f.AddNumeric("x", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, nan, nan})
	f.AddCategorical("c", []string{"a", "b", "a", "", "a", "b", "c", "a", "b", "a", "a", ""})
	p := NewProfile(f, 4)
	if p.Rows != 12 || len(p.Features) != 2 {
		t.Fatalf("profile %+v", p)
	}
	x := p.Feature("x")
	// Hand-computed: mean 5.5, population variance 8.25, quantile type 7
	// at h = q*9: q=0.25 -> 3.25, q=0.01 -> 1.09, q=0.99 -> 9.91.
	if x.Count != 10 || x.Missing != 2 || x.MissingRate != 2.0/12 || x.Mean != 5.5 ||
		!near(x.Std, math.Sqrt(8.25), 1e-12) || x.Min != 1 || x.Max != 10 {
		t.Errorf("x = %+v", x)
	}
	wantQ := []float64{1.09, 1.45, 3.25, 5.5, 7.75, 9.55, 9.91}
	for i, q := range x.Quantiles {
		if q.Q != ProfileQuantiles[i] || !near(q.Value, wantQ[i], 1e-12) {
			t.Errorf("quantile %v = %v, want %v", q.Q, q.Value, wantQ[i])
		}
	}
	// Bins of width 2.25 over [1,10]: [1,3.25) [3.25,5.5) [5.5,7.75) [7.75,10].
	if !reflect.DeepEqual(x.Histogram.Counts, []int{3, 2, 2, 3}) || x.Histogram.Edges[2] != 5.5 {
		t.Errorf("histogram %+v", x.Histogram)
	}
	if x.Histogram.Bin(-5) != 0 || x.Histogram.Bin(50) != 3 || x.Histogram.Bin(nan) != -1 {
		t.Error("Bin outside the range")
	}
	c := p.Feature("c")
	want := []CategoryCount{{"a", 6, 0.6}, {"b", 3, 0.3}, {"c", 1, 0.1}}
	for i := range want {
		if c.Categories[i].Value != want[i].Value || c.Categories[i].Count != want[i].Count || !near(c.Categories[i].Freq, want[i].Freq, 1e-12) {
			t.Errorf("categories %+v", c.Categories)
		}
	}
	path := filepath.Join(t.TempDir(), "profile.json")
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	q, err := LoadProfile(path)
	if err != nil || !reflect.DeepEqual(p, q) {
		t.Errorf("reload: %v\n%+v\n%+v", err, p, q)
	}
	// An all-missing column must still serialise.
	g := &Frame{}
	g.AddNumeric("m", []float64{nan})
	if err := NewProfile(g, 0).Save(filepath.Join(t.TempDir(), "p.json")); err != nil {
		t.Error(err)
	}
}

func TestImageProfile(t *testing.T) {
	// Three 2-channel 1x2 images; the profile covers images 0 and 2.
	x := []float32{
		0, 1, 0.5, 0.5, // image 0: c0 {0, 1}, c1 {0.5, 0.5}
		9, 9, 9, 9, // image 1: left out
		0.25, 0.75, 1, 0, // image 2: c0 {0.25, 0.75}, c1 {1, 0}
	}
	p, err := NewImageProfile(x, 2, 1, 2, []int{0, 2}, []int64{1, 0, 1}, []string{"cat", "dog"}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if p.Rows != 2 || len(p.Features) != 4 || p.Features[0].Name != "pixel_c0" || p.Features[1].Name != "pixel_mean_c0" || p.Features[3].Name != "pixel_mean_c1" {
		t.Fatalf("profile %+v", p)
	}
	c0 := p.Feature("pixel_c0")
	// Pixels {0, 1, 0.25, 0.75}: mean 0.5, variance (0.25+0.25+0.0625+0.0625)/4.
	if c0.Count != 4 || c0.Mean != 0.5 || !near(c0.Std, math.Sqrt(0.15625), 1e-12) || c0.Min != 0 || c0.Max != 1 {
		t.Errorf("pixel_c0 %+v", c0)
	}
	if q := c0.Quantiles[3]; q.Q != 0.5 || q.Value != 0.5 {
		t.Errorf("median %+v", q)
	}
	// Bins [0,.25) [.25,.5) [.5,.75) [.75,1]: 0 | 0.25 | - | 0.75 and 1.
	if !reflect.DeepEqual(c0.Histogram.Counts, []int{1, 1, 0, 2}) {
		t.Errorf("histogram %+v", c0.Histogram)
	}
	m1 := p.Feature("pixel_mean_c1") // per-image means 0.5 and 0.5
	if m1.Count != 2 || m1.Mean != 0.5 || m1.Std != 0 {
		t.Errorf("pixel_mean_c1 %+v", m1)
	}
	if !reflect.DeepEqual(p.Labels, []CategoryCount{{"dog", 2, 1}}) {
		t.Errorf("labels %+v", p.Labels)
	}
	path := filepath.Join(t.TempDir(), "profile.json")
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	if q, err := LoadProfile(path); err != nil || !reflect.DeepEqual(p, q) {
		t.Errorf("reload: %v", err)
	}
	for _, bad := range []struct {
		x    []float32
		rows []int
		y    []int64
	}{{x[:5], nil, nil}, {x, []int{3}, nil}, {x, []int{}, nil}, {x, nil, []int64{0}}} {
		if _, err := NewImageProfile(bad.x, 2, 1, 2, bad.rows, bad.y, nil, 0); err == nil {
			t.Errorf("no error for %v rows %v labels %v", len(bad.x), bad.rows, bad.y)
		}
	}
}
