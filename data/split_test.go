package data

import (
	"slices"
	"testing"
)

func irisLabels(t *testing.T) []int64 {
	f, err := ReadCSV(td("sklearn_iris.csv"), CSVOptions{NoHeader: true, SkipLines: 1})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := FitLabels(f, "c4")
	if err != nil {
		t.Fatal(err)
	}
	y, err := enc.Encode(f, "c4")
	if err != nil {
		t.Fatal(err)
	}
	return y
}

func TestSplit(t *testing.T) {
	y := irisLabels(t)
	tests := []struct {
		name            string
		opts            SplitOptions
		nTr, nVal, nTst int
		perClass        []int // validation count per class when stratified
	}{
		{"plain", SplitOptions{Val: 0.2, Test: 0.1, Seed: 1}, 105, 30, 15, nil},
		{"stratified", SplitOptions{Val: 0.2, Test: 0.2, Stratify: y, Seed: 7}, 90, 30, 30, []int{10, 10, 10}},
		{"no val", SplitOptions{Test: 0.3, Stratify: y, Seed: 3}, 105, 0, 45, []int{0, 0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, va, te, err := Split(150, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(tr) != tc.nTr || len(va) != tc.nVal || len(te) != tc.nTst {
				t.Fatalf("sizes %d/%d/%d", len(tr), len(va), len(te))
			}
			all := slices.Concat(tr, va, te)
			slices.Sort(all)
			for i, v := range all {
				if v != i {
					t.Fatalf("indices are not a partition of 0..149")
				}
			}
			if tc.perClass != nil {
				var cnt [3]int
				for _, i := range va {
					cnt[y[i]]++
				}
				if !slices.Equal(cnt[:], tc.perClass) {
					t.Errorf("validation per class %v, want %v", cnt, tc.perClass)
				}
			}
			tr2, va2, te2, _ := Split(150, tc.opts)
			if !slices.Equal(tr, tr2) || !slices.Equal(va, va2) || !slices.Equal(te, te2) {
				t.Error("same seed gave a different split")
			}
			o := tc.opts
			o.Seed++
			tr3, _, _, _ := Split(150, o)
			if slices.Equal(tr, tr3) {
				t.Error("different seed gave the same split")
			}
		})
	}
	for _, bad := range []SplitOptions{{Val: 0.6, Test: 0.5}, {Val: -0.1}, {Stratify: []int64{1}}} {
		if _, _, _, err := Split(10, bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}

func TestKFold(t *testing.T) {
	y := irisLabels(t)
	for _, strat := range []bool{false, true} {
		var labels []int64
		if strat {
			labels = y
		}
		folds, err := KFold(150, 5, labels, 42)
		if err != nil {
			t.Fatal(err)
		}
		seen := make([]int, 150)
		for _, f := range folds {
			if len(f.Val) != 30 || len(f.Train) != 120 {
				t.Fatalf("fold sizes %d/%d", len(f.Train), len(f.Val))
			}
			for _, i := range f.Val {
				seen[i]++
			}
			if strat {
				var cnt [3]int
				for _, i := range f.Val {
					cnt[y[i]]++
				}
				if cnt != [3]int{10, 10, 10} {
					t.Errorf("stratified fold classes %v", cnt)
				}
			}
			inVal := map[int]bool{}
			for _, i := range f.Val {
				inVal[i] = true
			}
			for _, i := range f.Train {
				if inVal[i] {
					t.Fatal("train and validation overlap")
				}
			}
		}
		for i, n := range seen {
			if n != 1 {
				t.Fatalf("sample %d validated %d times", i, n)
			}
		}
		again, _ := KFold(150, 5, labels, 42)
		if !slices.Equal(again[2].Val, folds[2].Val) {
			t.Error("k-fold not deterministic")
		}
	}
	if _, err := KFold(3, 5, nil, 0); err == nil {
		t.Error("k > n accepted")
	}
}
