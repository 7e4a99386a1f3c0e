package data

import (
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func trainFrame() *Frame {
	f := &Frame{Source: "train"}
	f.AddNumeric("x", []float64{1, 2, 3, 4, nan})
	f.AddNumeric("z", []float64{0, 9, 99, 999, 9999})
	f.AddCategorical("color", []string{"red", "blue", "red", "", "green"})
	f.AddCategorical("text", []string{"the cat", "the dog", "a cat", "the the", ""})
	return f
}

func TestTransformSteps(t *testing.T) {
	// x after mean imputation: 1,2,3,4,2.5 -> mean 2.5, population std 1.
	sd := 1.0
	tests := []struct {
		name  string
		steps []Step
		cols  []string // input columns used
		want  map[string][]float64
	}{
		{"standardize", []Step{Impute(Mean, "x"), Standardize("x")}, []string{"x"},
			map[string][]float64{"x": {-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd, 0}}},
		{"minmax", []Step{Impute(Median, "x"), MinMax("x")}, []string{"x"},
			map[string][]float64{"x": {0, 1.0 / 3, 2.0 / 3, 1, 0.5}}},
		{"robust", []Step{Robust("x"), ImputeConstant("-7", "x")}, []string{"x"},
			// median 2.5, q25 1.75, q75 3.25 -> IQR 1.5
			map[string][]float64{"x": {-1, -1.0 / 3, 1.0 / 3, 1, -7}}},
		{"log1p", []Step{Log1p("z")}, []string{"z"},
			map[string][]float64{"z": {0, math.Log(10), math.Log(100), math.Log(1000), math.Log(10000)}}},
		{"clip", []Step{Clip(0.25, 0.75, "z")}, []string{"z"},
			map[string][]float64{"z": {9, 9, 99, 999, 999}}},
		{"impute mode", []Step{Impute(Mode, "x")}, []string{"x"},
			map[string][]float64{"x": {1, 2, 3, 4, 1}}},
		{"onehot", []Step{OneHot("color")}, []string{"color"},
			map[string][]float64{"color=blue": {0, 1, 0, 0, 0}, "color=green": {0, 0, 0, 0, 1}, "color=red": {1, 0, 1, 0, 0}}},
		{"impute categorical then onehot", []Step{Impute(Mode, "color"), OneHot()}, []string{"color"},
			map[string][]float64{"color=red": {1, 0, 1, 1, 0}}},
		{"ordinal", []Step{Ordinal()}, []string{"color"},
			map[string][]float64{"color": {3, 1, 3, 0, 2}}},
		{"tokens", []Step{Tokens("text", 3, VocabOptions{Level: Words}, nil)}, []string{"text"},
			// vocab: <pad> <unk> the(4) cat(2) a(1) dog(1)
			map[string][]float64{"text[0]": {2, 2, 4, 2, 0}, "text[1]": {3, 5, 3, 2, 0}, "text[2]": {0, 0, 0, 0, 0}}},
		{"drop", []Step{DropColumns("z"), Impute(Mean)}, []string{"x", "z"},
			map[string][]float64{"x": {1, 2, 3, 4, 2.5}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			train, err := trainFrame().Select(tc.cols...)
			if err != nil {
				t.Fatal(err)
			}
			p := NewPipeline(tc.steps...)
			p.AllowNaN = true
			if err := p.Fit(train); err != nil {
				t.Fatal(err)
			}
			out, err := p.Apply(train)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tc.want {
				if got := nums(t, out, name); !eqF(got, want) {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
			// Round trip through JSON: identical outputs.
			x1, w1, err := p.Transform(train)
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			var q Pipeline
			if err := json.Unmarshal(b, &q); err != nil {
				t.Fatalf("unmarshal %s: %v", b, err)
			}
			x2, w2, err := q.Transform(train)
			if err != nil {
				t.Fatal(err)
			}
			if w1 != w2 || !sameFloats(x1, x2) {
				t.Errorf("reloaded pipeline differs: %v vs %v", x1, x2)
			}
			b2, _ := json.Marshal(&q)
			if string(b) != string(b2) {
				t.Errorf("JSON not stable:\n%s\n%s", b, b2)
			}
		})
	}
}

func sameFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(a[i] != a[i] && b[i] != b[i]) {
			return false
		}
	}
	return true
}

func TestPipelineServing(t *testing.T) {
	train := trainFrame().Drop("text")
	p := NewPipeline(Impute(Median), Clip(0, 1), Standardize(), OneHot())
	if err := p.Fit(train); err != nil {
		t.Fatal(err)
	}
	wantOut := []string{"x", "z", "color=blue", "color=green", "color=red"}
	if !slices.Equal(p.Outputs(), wantOut) {
		t.Fatalf("outputs %v", p.Outputs())
	}
	path := filepath.Join(t.TempDir(), "pipeline.json")
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	q, err := LoadPipeline(path)
	if err != nil {
		t.Fatal(err)
	}
	x, w, err := p.Transform(train)
	if err != nil || w != 5 {
		t.Fatal(err, w)
	}
	// Row 1 through TransformRow, with numbers as strings and json.Number.
	row, err := q.TransformRow(map[string]any{"x": "2", "z": json.Number("9"), "color": "blue", "extra": true})
	if err != nil {
		t.Fatal(err)
	}
	if !sameFloats(row, x[w:2*w]) {
		t.Errorf("TransformRow %v, Transform %v", row, x[w:2*w])
	}
	// Unknown category and missing value: zeros and the imputed median.
	row, err = q.TransformRow(map[string]any{"x": nil, "z": 5.0, "color": "purple"})
	if err != nil {
		t.Fatal(err)
	}
	if row[2] != 0 || row[3] != 0 || row[4] != 0 {
		t.Errorf("unknown category encoded as %v", row[2:])
	}
	// Bad values are errors naming the field.
	if _, err := q.TransformRow(map[string]any{"x": "abc"}); err == nil || !strings.Contains(err.Error(), `field "x"`) {
		t.Errorf("bad number: %v", err)
	}
	if _, err := q.TransformRow(map[string]any{"x": []int{1}}); err == nil {
		t.Errorf("array accepted")
	}
	// Frame at serve time with categorical types from a fresh CSV read.
	serve := &Frame{Source: "serve.csv", Lines: []int{2}}
	serve.AddCategorical("x", []string{"zz"})
	serve.AddNumeric("z", []float64{1})
	serve.AddNumeric("color", []float64{3})
	if _, _, err := q.Transform(serve); err == nil || !strings.Contains(err.Error(), `serve.csv:2: column "x"`) {
		t.Errorf("bad serve frame: %v", err)
	}
	if _, _, err := q.Transform(train.Drop("z")); err == nil || !strings.Contains(err.Error(), `input column "z" is absent`) {
		t.Errorf("absent column: %v", err)
	}
}

func TestPipelineErrors(t *testing.T) {
	f := trainFrame()
	if err := NewPipeline(Standardize()).Fit(f); err == nil || !strings.Contains(err.Error(), `"color" is still categorical`) {
		t.Errorf("unencoded categorical: %v", err)
	}
	if err := NewPipeline(Standardize("color")).Fit(f); err == nil || !strings.Contains(err.Error(), "needs numeric") {
		t.Errorf("standardize categorical: %v", err)
	}
	p := NewPipeline(DropColumns("color", "text"))
	if err := p.Fit(f); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Transform(f); err == nil || !strings.Contains(err.Error(), `train: row 4: feature "x" is missing`) {
		t.Errorf("NaN output: %v", err)
	}
	if _, _, err := NewPipeline().Transform(f); err == nil || !strings.Contains(err.Error(), "not fitted") {
		t.Errorf("unfitted: %v", err)
	}
	bad := []string{
		`{"version":2}`,
		`{"version":1,"fitted":true,"inputs":[{"name":"a","type":"numeric"}],"outputs":["a"],"steps":[{"kind":"standardize","columns":["a"],"center":[1],"scale":[]}]}`,
		`{"version":1,"fitted":true,"inputs":[{"name":"a","type":"numeric"}],"outputs":["a"],"steps":[{"kind":"standardize","columns":["b"],"center":[1],"scale":[1]}]}`,
		`{"version":1,"fitted":true,"inputs":[{"name":"a","type":"numeric"}],"outputs":["b"],"steps":[]}`,
		`{"version":1,"fitted":true,"inputs":[],"outputs":[],"steps":[{"kind":"magic"}]}`,
		`{"version":1,"fitted":true,"inputs":[{"name":"a","type":"categorical"}],"outputs":["a"],"steps":[{"kind":"onehot","columns":["a"],"categories":[["x","x"]]}]}`,
	}
	for _, s := range bad {
		var p Pipeline
		if err := json.Unmarshal([]byte(s), &p); err == nil {
			t.Errorf("accepted %s", s)
		}
	}
}
