package model

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shenml/shen/nn"
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
