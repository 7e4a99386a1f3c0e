package onnx

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/tensor"
	"google.golang.org/protobuf/proto"
)

// prepModel fits a pipeline with every step ONNX can express on a small
// frame and puts an MLP behind it.
func prepModel(t *testing.T) (*model.Model, []map[string]any) {
	t.Helper()
	r := rand.New(rand.NewPCG(4, 5))
	n := 40
	a, b, c := make([]float64, n), make([]float64, n), make([]float64, n)
	color, size := make([]string, n), make([]string, n)
	for i := range n {
		a[i], b[i], c[i] = r.NormFloat64()*3+1, r.Float64()*10, r.Float64()
		color[i] = []string{"red", "green", "blue"}[r.IntN(3)]
		size[i] = []string{"S", "M", "L", "XL"}[r.IntN(4)]
	}
	a[3], color[5] = math.NaN(), ""
	f := &data.Frame{Columns: []*data.Column{
		{Name: "a", Type: data.Numeric, Num: a}, {Name: "color", Type: data.Categorical, Cat: color},
		{Name: "b", Type: data.Numeric, Num: b}, {Name: "size", Type: data.Categorical, Cat: size},
		{Name: "c", Type: data.Numeric, Num: c},
	}}
	p := data.NewPipeline(data.Impute(data.Mean, "a"), data.Impute(data.Mode, "color"), data.Clip(0.05, 0.95, "a"),
		data.Log1p("b"), data.Standardize("a", "b"), data.MinMax("c"), data.OneHot("color"), data.Ordinal("size"))
	if err := p.Fit(f); err != nil {
		t.Fatal(err)
	}
	m, err := model.New(model.Spec{Name: "prep", Task: "classification", Preprocessing: p,
		Architecture: model.Architecture{Kind: "mlp", Input: []int{p.Width()}, Hidden: []int{6}, Outputs: 2}})
	if err != nil {
		t.Fatal(err)
	}
	rows := []map[string]any{
		{"a": 0.5, "color": "green", "b": 3.0, "size": "M", "c": 0.2},
		{"a": nil, "color": "", "b": 0.0, "size": "XL", "c": 0.9},           // missing values imputed
		{"a": 100.0, "color": "purple", "b": 7.5, "size": "XXL", "c": -1.0}, // clipped; unknown categories
	}
	return m, rows
}

// rowInputs turns request rows into one tensor per raw column.
func rowInputs(p *data.Pipeline, rows []map[string]any) ([]string, []*Tensor) {
	var names []string
	var ins []*Tensor
	for _, f := range p.Inputs() {
		names = append(names, f.Name)
		if f.Type == data.Categorical {
			s := make([]string, len(rows))
			for i, r := range rows {
				s[i], _ = r[f.Name].(string)
			}
			ins = append(ins, NewString(s, len(rows)))
			continue
		}
		v := make([]float32, len(rows))
		for i, r := range rows {
			x, ok := r[f.Name].(float64)
			if !ok {
				x = math.NaN()
			}
			v[i] = float32(x)
		}
		ins = append(ins, NewFloat(v, len(rows)))
	}
	return names, ins
}

// The exported graph with preprocessing maps raw columns to what the
// pipeline and network give in Shen.
func TestExportPreprocessing(t *testing.T) {
	m, rows := prepModel(t)
	feats, width, err := m.Spec.Preprocessing.TransformRows(rows)
	if err != nil {
		t.Fatal(err)
	}
	want := m.Predict(tensor.FromSlice(feats, len(feats)/width, width))
	for _, opset := range []int{14, 17} {
		mp, err := Export(m, ExportOptions{Opset: opset, Preprocessing: true})
		if err != nil {
			t.Fatal(err)
		}
		cm, err := Compile(mp, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		_, ins := rowInputs(m.Spec.Preprocessing, rows)
		outs, err := cm.NewSession().Run(ins...)
		if err != nil {
			t.Fatal(err)
		}
		assertClose(t, outs[0], NewFloat(want.Data(), want.Shape()...), 1e-5)
	}
}

// A model exported without its pipeline and imported with it takes raw
// columns again and predicts what the original artifact does.
func TestImportWithPreprocessing(t *testing.T) {
	m, rows := prepModel(t)
	mp, err := Export(m, ExportOptions{Opset: 17})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := proto.Marshal(mp)
	src := filepath.Join(t.TempDir(), "net.onnx")
	if err := os.WriteFile(src, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := Import(src, dir, ImportOptions{Labels: []string{"no", "yes"}, Preprocessing: m.Spec.Preprocessing}); err != nil {
		t.Fatal(err)
	}
	art, err := model.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(art.Spec.Signature.Inputs); got != len(m.Spec.Preprocessing.Inputs()) {
		t.Fatalf("signature has %d inputs", got)
	}
	feats, width, err := art.Spec.Preprocessing.TransformRows(rows)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.FromSlice(feats, len(feats)/width, width)
	got, want := art.Predict(x), m.Predict(x)
	assertClose(t, NewFloat(got.Data(), got.Shape()...), NewFloat(want.Data(), want.Shape()...), 1e-6)
}
