package monitor

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/model"
)

func TestDriftFlagsShiftedFeatures(t *testing.T) {
	spec, prof := testArtifact()
	ref, err := NewReference(spec, prof)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		traffic traffic
		want    []string
	}{
		{"in distribution", traffic{}, nil},
		{"x1 shifted", traffic{shift: 1}, []string{"x1"}},
		{"x2 scaled", traffic{scale: 1.5}, []string{"x2"}},
		{"x3 missing", traffic{missing: 0.4}, []string{"x3"}},
		{"new category", traffic{newCat: 0.3}, []string{"cat"}},
		{"everything", traffic{shift: 1, scale: 1.5, missing: 0.4, newCat: 0.3}, []string{"cat", "x1", "x2", "x3"}},
	}
	// 500 rows decide by tests (KS, chi-squared), 3000 by distances. Each
	// case runs over 5 draws: a shifted feature must be flagged in every
	// one; an untouched feature may be flagged by chance (a test's 5%
	// false alarms) in at most one.
	const draws = 5
	for _, rows := range []int{500, 3000} {
		for _, c := range cases {
			flagged, datasets := map[string]int{}, 0
			var last []FeatureDrift
			for d := range draws {
				rng := rand.New(rand.NewPCG(11+uint64(d), uint64(rows)))
				cmp := ref.CompareRecords(c.traffic.rows(rng, rows), DefaultConfig().Drift)
				for f := range drifted(cmp.Features) {
					flagged[f]++
				}
				if cmp.Dataset.Dataset {
					datasets++
				}
				if method := cmp.Features[0].Method; (rows <= 1000) != (method == "ks") {
					t.Errorf("%d rows: x1 decided by %s", rows, method)
				}
				last = cmp.Features
			}
			for _, f := range []string{"x1", "x2", "x3", "cat"} {
				want := slices.Contains(c.want, f)
				if (want && flagged[f] != draws) || (!want && flagged[f] > 1) {
					t.Errorf("%d rows, %s: %s flagged in %d of %d draws, want %v%s", rows, c.name, f, flagged[f], draws, want, describe(last))
				}
			}
			if wantDataset := len(c.want) >= 2; (datasets > draws/2) != wantDataset {
				t.Errorf("%d rows, %s: dataset drift in %d of %d draws, want %v", rows, c.name, datasets, draws, wantDataset)
			}
		}
	}
}

// TestSmallWindowsRaiseNoFalseAlarm draws many 30-row windows from the
// training distribution: each feature's test flags about p_value of them
// (the test's false-alarm rate, bounded here with slack for the profile's
// piecewise-linear CDF), and the dataset verdict, needing half the
// features at once, almost never.
func TestSmallWindowsRaiseNoFalseAlarm(t *testing.T) {
	spec, prof := testArtifact()
	ref, _ := NewReference(spec, prof)
	const windows = 400
	rng := rand.New(rand.NewPCG(3, 4))
	flags := map[string]int{}
	datasets := 0
	for range windows {
		cmp := ref.CompareRecords(traffic{}.rows(rng, 30), DefaultConfig().Drift)
		for f := range drifted(cmp.Features) {
			flags[f]++
		}
		if cmp.Dataset.Dataset {
			datasets++
		}
	}
	for f, n := range flags {
		if rate := float64(n) / windows; rate > 0.09 {
			t.Errorf("feature %s flagged in %.1f%% of in-distribution 30-row windows", f, 100*rate)
		}
	}
	if rate := float64(datasets) / windows; rate > 0.03 { // two of four features at 5% each: about 6·0.05² = 1.5%
		t.Errorf("dataset drift in %.1f%% of in-distribution 30-row windows", 100*rate)
	}
	t.Logf("per-feature false alarms over %d windows: %v; dataset: %d", windows, flags, datasets)
}

// FuzzCompareRecords measures arbitrary client records (JSON) against the
// profile: any values, types and sizes must give a report that encodes as
// JSON (no NaN or infinity), never a panic.
func FuzzCompareRecords(f *testing.F) {
	f.Add(`[{"x1": 1.5, "x2": 3, "x3": null, "cat": "a"}]`)
	f.Add(`[{"x1": 1e308, "x2": -1e308, "x3": "7", "cat": 5}, {"x1": -1e308, "x2": 1e308, "cat": ""}]`)
	f.Add(`[{"x1": true, "x2": [1], "x3": {"a": 1}, "cat": null}, {}]`)
	spec, prof := testArtifact()
	ref, err := NewReference(spec, prof)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var recs []map[string]any
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		if dec.Decode(&recs) != nil {
			return
		}
		for _, cfg := range []DriftConfig{DefaultConfig().Drift, {PValue: 0.05, Wasserstein: 0.1, JensenShannon: 0.1, PSI: 0.2, TestMaxRows: 0, NumericMethod: "auto", CategoricalMethod: "auto", DatasetShare: 0.5}} {
			c := ref.CompareRecords(recs, cfg)
			if _, err := json.Marshal(c); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
	})
}

// TestDiscreteFeatures: integer codes and constants have step CDFs; they
// are compared bin by bin, so in-distribution windows are flagged at the
// test's rate and shifted ones always.
func TestDiscreteFeatures(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	draw := func(n int, shift int) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			k := 0
			for rng.Float64() < 0.6 && k < 8 { // geometric counts 0..8
				k++
			}
			out[i] = map[string]any{"rooms": float64(k + shift), "flag": 0.0}
		}
		return out
	}
	train := &data.Frame{}
	recs := draw(3000, 0)
	rooms, flags := make([]float64, len(recs)), make([]float64, len(recs))
	for i, r := range recs {
		rooms[i], flags[i] = r["rooms"].(float64), r["flag"].(float64)
	}
	train.AddNumeric("rooms", rooms)
	train.AddNumeric("flag", flags)
	ref, err := NewReference(model.Spec{Name: "d"}, data.NewProfile(train, 10))
	if err != nil {
		t.Fatal(err)
	}
	for _, rows := range []int{30, 500, 3000} {
		flagged := map[string]int{}
		const windows = 100
		for range windows {
			for f := range drifted(ref.CompareRecords(draw(rows, 0), DefaultConfig().Drift).Features) {
				flagged[f]++
			}
		}
		if flagged["rooms"] > 10 || flagged["flag"] > 0 {
			t.Errorf("%d rows in distribution: flagged %v of %d windows", rows, flagged, windows)
		}
		shifted := draw(rows, 1)
		for _, r := range shifted[:rows/3] {
			r["flag"] = 1.0
		}
		c := ref.CompareRecords(shifted, DefaultConfig().Drift)
		if got := drifted(c.Features); !got["rooms"] || !got["flag"] || (rows <= 1000) != (c.Features[0].Method == "chisquare") {
			t.Errorf("%d rows shifted: %v%s", rows, got, describe(c.Features))
		}
	}
}
