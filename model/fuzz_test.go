package model

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
)

// FuzzLoad feeds arbitrary model.json and weights bytes to Load: whatever
// they hold, Load returns a model or an error, never panics.
func FuzzLoad(f *testing.F) {
	nn.SetSeed(1)
	m, err := New(Spec{Name: "f", Task: "classification", Labels: []string{"a", "b"},
		Architecture: Architecture{Kind: "mlp", Input: []int{3}, Outputs: 2, Hidden: []int{4}}})
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	if err := m.Save(dir); err != nil {
		f.Fatal(err)
	}
	spec, _ := os.ReadFile(filepath.Join(dir, SpecFile))
	weights, _ := os.ReadFile(filepath.Join(dir, WeightsFile))
	f.Add(spec, weights)
	// The same model quantised (a real layer, then a layer it lacks).
	q := `"quantization":{"scheme":"int8-symmetric","calibration":"max-abs","samples":1,"layers":[{"name":"0","kind":"linear","input_scale":0.01,"input_max":1.27}]},`
	f.Add(bytes.Replace(spec, []byte(`"training"`), []byte(q+`"training"`), 1), weights)
	f.Add(bytes.Replace(spec, []byte(`"training"`), []byte(strings.Replace(q, `"name":"0"`, `"name":"1"`, 1)+`"training"`), 1), weights)
	f.Add([]byte(`{"format":"shen-model","format_version":1,"architecture":{"kind":"cnn","input":[1,2,2],"outputs":2,"channels":[3]}}`), weights)
	f.Add([]byte(`{"format":"shen-model","format_version":1,"architecture":{"kind":"lstm","input":[4,2],"outputs":2,"hidden_size":-3}}`), weights)
	f.Add([]byte(`{"format":"shen-model","format_version":1,"architecture":{"kind":"layers","input":[2],"layers":[{"type":"linear","out":1000000000}]}}`), weights)
	f.Fuzz(func(t *testing.T, spec, weights []byte) {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, SpecFile), spec, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, WeightsFile), weights, 0o644); err != nil {
			t.Fatal(err)
		}
		Load(d) // must not panic
	})
}

// runLoaded runs a loaded artifact the way predict and evaluate do, on a
// small input: one zero sample (token ids 0 for a language model) through
// the network, the label of its most probable class, and when there is
// preprocessing, one record with every input missing through the
// pipeline, then through the network. It returns an error where the
// artifact cannot run; it must not panic on anything Load accepted.
func runLoaded(m *Model) error {
	a := m.Spec.Architecture
	x := tensor.Zeros(append([]int{1}, a.Input...)...)
	out := m.Predict(x)
	want := []int{1, a.Outputs}
	if m.Spec.Task == TaskLanguageModel {
		want = []int{1, a.Input[0], a.Outputs}
	}
	if !slices.Equal(out.Shape(), want) {
		return fmt.Errorf("output shape %v, want %v", out.Shape(), want)
	}
	if m.Spec.Task == TaskClassification {
		c := tensor.Argmax(out, 1, false).Data()[0]
		_ = m.Spec.Labels[c] // must be in range
	}
	if im := m.Spec.Image; im != nil {
		if err := im.Apply(make([]float32, im.Channels*im.Height*im.Width)); err != nil {
			return err
		}
	}
	if p := m.Spec.Preprocessing; p != nil {
		row := map[string]any{}
		for _, in := range p.Inputs() {
			row[in.Name] = nil
		}
		feats, err := p.TransformRow(row)
		if err != nil {
			return nil // a missing value the pipeline does not impute is a per-row error
		}
		if m.Spec.Window == nil {
			m.Predict(tensor.FromSlice(feats, append([]int{1}, a.Input...)...))
		}
	}
	return nil
}

// FuzzLoadPredict loads arbitrary model.json bytes over valid weights of
// each kind of artifact and runs whatever loads on a small input: Load
// either refuses it or returns a model that runs, never a panic.
func FuzzLoadPredict(f *testing.F) {
	b := newHostileBase(f)
	for _, s := range []Spec{b.table, b.image, b.window, b.lm} {
		dir := f.TempDir()
		saveSpec(f, dir, s, s)
		spec, _ := os.ReadFile(filepath.Join(dir, SpecFile))
		f.Add(spec, s.Name)
	}
	weights := map[string][]byte{}
	for _, s := range []Spec{b.table, b.image, b.window, b.lm} {
		dir := f.TempDir()
		saveSpec(f, dir, s, s)
		weights[s.Name], _ = os.ReadFile(filepath.Join(dir, WeightsFile))
	}
	f.Fuzz(func(t *testing.T, spec []byte, kind string) {
		w, ok := weights[kind]
		if !ok {
			w = weights["t"]
		}
		d := t.TempDir()
		os.WriteFile(filepath.Join(d, SpecFile), spec, 0o644)
		os.WriteFile(filepath.Join(d, WeightsFile), w, 0o644)
		m, err := Load(d)
		if err != nil {
			return
		}
		if err := runLoaded(m); err != nil {
			t.Fatalf("Load accepted an artifact that cannot run: %v", err)
		}
	})
}
