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
