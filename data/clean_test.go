package data

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	read := func(t *testing.T) *Frame {
		f, err := ReadCSV(td("mixed.csv"), CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	tests := []struct {
		name  string
		opts  CSVOptions
		clean CleanOptions
		check func(t *testing.T, f *Frame, r *CleanReport)
	}{
		{"duplicates", CSVOptions{}, CleanOptions{DropDuplicates: true}, func(t *testing.T, f *Frame, r *CleanReport) {
			if r.Duplicates != 1 || f.NumRows() != 4 || len(r.Dropped) != 1 || r.Dropped[0].Row != 4 || r.Dropped[0].Line != 6 ||
				r.Dropped[0].Reason != "duplicate of row 0" {
				t.Errorf("report %+v", r)
			}
		}},
		{"drop missing", CSVOptions{}, CleanOptions{Missing: DropMissing}, func(t *testing.T, f *Frame, r *CleanReport) {
			if f.NumRows() != 2 || len(r.Dropped) != 3 {
				t.Fatalf("rows %d report %+v", f.NumRows(), r)
			}
			if r.Dropped[1].Reason != "missing city, score" || r.Dropped[1].Line != 4 {
				t.Errorf("dropped %+v", r.Dropped[1])
			}
			if got := f.Lines; got[0] != 2 || got[1] != 6 {
				t.Errorf("kept lines %v", got)
			}
		}},
		{"drop missing in some columns", CSVOptions{}, CleanOptions{Missing: DropMissing, Columns: []string{"age"}}, func(t *testing.T, f *Frame, r *CleanReport) {
			if f.NumRows() != 4 || r.Dropped[0].Reason != "missing age" {
				t.Errorf("report %+v", r)
			}
		}},
		{"impute mean and mode", CSVOptions{}, CleanOptions{DropDuplicates: true, Missing: ImputeMissing, Strategy: Mean}, func(t *testing.T, f *Frame, r *CleanReport) {
			// After dropping the duplicate: age 34,NA,29,41 -> mean 104/3.
			if got := nums(t, f, "age"); !near(got[1], 104.0/3, 1e-12) {
				t.Errorf("age %v", got)
			}
			if got := cats(t, f, "city"); got[2] != "paris" {
				t.Errorf("city %v", got)
			}
			want := map[string]ImputeCount{
				"age":    {Mean, "34.666666666666664", 1},
				"city":   {Mode, "paris", 1},
				"income": {Mean, "53666.666666666664", 1},
				"score":  {Mean, "0.7000000000000001", 1}, // (0.5+0.7+0.9)/3 in float64
			}
			for k, w := range want {
				if g := r.Imputed[k]; g != w {
					t.Errorf("imputed[%s] = %+v, want %+v", k, g, w)
				}
			}
		}},
		{"impute median and constant", CSVOptions{}, CleanOptions{Missing: ImputeMissing, Strategy: Constant, Constant: "0", Columns: []string{"score"}}, func(t *testing.T, f *Frame, r *CleanReport) {
			if got := nums(t, f, "score"); got[2] != 0 || r.Imputed["score"].Count != 1 || len(r.Imputed) != 1 {
				t.Errorf("score %v report %+v", got, r.Imputed)
			}
		}},
		{"clip", CSVOptions{}, CleanOptions{ClipLow: 0, ClipHigh: 0.5, ClipColumns: []string{"income"}}, func(t *testing.T, f *Frame, r *CleanReport) {
			// income 52000,61000,48000,NA,52000 -> median 52000.
			if got := nums(t, f, "income"); !eqF(got, []float64{52000, 52000, 48000, nan, 52000}) {
				t.Errorf("income %v", got)
			}
			if c := r.Clipped["income"]; c.AboveHigh != 1 || c.BelowLow != 0 || c.High != 52000 {
				t.Errorf("clipped %+v", c)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := read(t)
			before := in.Clone()
			f, r, err := Clean(in, tc.clean)
			if err != nil {
				t.Fatal(err)
			}
			if r.RowsIn != 5 || r.RowsOut != f.NumRows() {
				t.Errorf("rows in/out %d/%d", r.RowsIn, r.RowsOut)
			}
			tc.check(t, f, r)
			if rowKey(in, 1) != rowKey(before, 1) || in.NumRows() != 5 {
				t.Error("Clean modified its input")
			}
			if _, err := json.Marshal(r); err != nil {
				t.Error(err)
			}
			_ = r.String()
		})
	}
}

func TestCleanCoercedAndErrors(t *testing.T) {
	f, err := ReadCSV(td("bad.csv"), CSVOptions{Types: map[string]ColumnType{"y": Numeric}, BadValues: BadValueMissing})
	if err != nil {
		t.Fatal(err)
	}
	_, r, err := Clean(f, CleanOptions{Missing: ImputeMissing, Strategy: Median})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Coerced) != 1 || r.Imputed["y"].Value != "4" || !strings.Contains(r.String(), "bad.csv:3:2") {
		t.Errorf("report:\n%s", r)
	}
	if _, _, err := Clean(f, CleanOptions{Missing: DropMissing, Columns: []string{"nope"}}); err == nil {
		t.Error("unknown column accepted")
	}
	all := &Frame{}
	all.AddNumeric("a", []float64{nan, nan})
	if _, _, err := Clean(all, CleanOptions{Missing: ImputeMissing}); err == nil || !strings.Contains(err.Error(), "no values") {
		t.Errorf("all missing: %v", err)
	}
}
