package monitor

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
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
	// 500 rows decide by tests (KS, chi-squared), 3000 by distances.
	for _, rows := range []int{500, 3000} {
		for _, c := range cases {
			rng := rand.New(rand.NewPCG(11, uint64(rows)))
			cmp := ref.CompareRecords(c.traffic.rows(rng, rows), DefaultConfig().Drift)
			got := slices.Sorted(maps.Keys(drifted(cmp.Features)))
			if !slices.Equal(got, c.want) {
				t.Errorf("%d rows, %s: drifted %v, want %v%s", rows, c.name, got, c.want, describe(cmp.Features))
			}
			if wantDataset := len(c.want) >= 2; cmp.Dataset.Dataset != wantDataset {
				t.Errorf("%d rows, %s: dataset drift %v (share %v), want %v", rows, c.name, cmp.Dataset.Dataset, cmp.Dataset.Share, wantDataset)
			}
			method := cmp.Features[0].Method
			if (rows <= 1000) != (method == "ks") {
				t.Errorf("%d rows: x1 decided by %s", rows, method)
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
