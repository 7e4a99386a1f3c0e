package data

import (
	"encoding/json"
	"math"
	"slices"
	"testing"
)

// TestIrisEndToEnd runs the whole preparation path on real data: read,
// clean, stratified split, fit on train only, serialise, load, transform,
// batch.
func TestIrisEndToEnd(t *testing.T) {
	f, classes, err := ReadSklearnCSV(td("sklearn_iris.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(classes, []string{"setosa", "versicolor", "virginica"}) || f.NumRows() != 150 || f.Lines[0] != 2 {
		t.Fatalf("classes %v rows %d first line %d", classes, f.NumRows(), f.Lines[0])
	}
	f, rep, err := Clean(f, CleanOptions{DropDuplicates: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Duplicates != 1 { // Iris has one exact duplicate row (143 repeats 102, 1-based)
		t.Errorf("duplicates %d:\n%s", rep.Duplicates, rep)
	}
	enc, err := FitLabels(f, "target")
	if err != nil {
		t.Fatal(err)
	}
	enc.Classes = classes
	y, err := enc.Encode(f, "target")
	if err != nil {
		t.Fatal(err)
	}
	tr, va, _, err := Split(f.NumRows(), SplitOptions{Val: 0.2, Stratify: y, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	train, val := f.Take(tr), f.Take(va)
	p := NewPipeline(Standardize())
	if err := p.Fit(train.Drop("target")); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(p)
	var served Pipeline
	if err := json.Unmarshal(b, &served); err != nil {
		t.Fatal(err)
	}
	xtr, w, err := served.Transform(train)
	if err != nil || w != 4 {
		t.Fatal(err, w)
	}
	// Standardised training columns: mean 0, std 1.
	for j := range w {
		var s, ss float64
		n := len(xtr) / w
		for i := range n {
			v := float64(xtr[i*w+j])
			s += v
			ss += v * v
		}
		if math.Abs(s/float64(n)) > 1e-5 || math.Abs(ss/float64(n)-1) > 1e-4 {
			t.Errorf("feature %d mean %g var %g", j, s/float64(n), ss/float64(n))
		}
	}
	xva, _, err := served.Transform(val)
	if err != nil {
		t.Fatal(err)
	}
	yva, _ := enc.Encode(val, "target")
	ds, err := NewArrayDataset(xva, []int{w}, yva)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := NewLoader(ds, LoaderOptions{BatchSize: 8, Shuffle: true, Prefetch: 2})
	n := 0
	for b, err := range l.Epoch(0) {
		if err != nil {
			t.Fatal(err)
		}
		n += b.Size
	}
	if n != len(va) {
		t.Errorf("%d validation samples batched, want %d", n, len(va))
	}
	// Serving one raw row gives the same features as the batch transform.
	row := map[string]any{"f0": val.Col("f0").Num[0], "f1": val.Col("f1").Num[0], "f2": val.Col("f2").Num[0], "f3": val.Col("f3").Num[0]}
	one, err := served.TransformRow(row)
	if err != nil || !sameFloats(one, xva[:w]) {
		t.Errorf("TransformRow %v, Transform %v (%v)", one, xva[:w], err)
	}
}
