package model

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
)

// testSpec is a classifier over three labels for a, or a language model
// over 11 tokens for a causal transformer.
func testSpec(a Architecture) Spec {
	if a.Kind == "transformer" && len(a.Input) == 1 {
		v, err := data.BuildVocab("abcdefghi", data.VocabOptions{})
		if err != nil {
			panic(err)
		}
		return Spec{Name: "lm", Task: TaskLanguageModel, Architecture: a, Vocab: v}
	}
	if a.Outputs == 0 {
		a.Outputs = 3
	}
	return Spec{Name: "t", Task: "classification", Architecture: a, Labels: []string{"a", "b", "c"}}
}

// TestRoundTrip saves each architecture family and checks that the
// reloaded model predicts exactly what the original did.
// familyArchitectures has one architecture of each family the artifact
// can rebuild.
func familyArchitectures() []Architecture {
	pad := 1
	return []Architecture{
		{Kind: "mlp", Input: []int{7}, Outputs: 3, Hidden: []int{16, 8}, BatchNorm: true, Dropout: 0.1},
		{Kind: "cnn", Input: []int{1, 8, 8}, Outputs: 3, Channels: []int{4, 6}, Kernel: 3, Padding: &pad, Hidden: []int{12}},
		{Kind: "layers", Input: []int{1, 6, 6}, Layers: []LayerSpec{
			{Type: "conv2d", Out: 3, Kernel: 3}, {Type: "relu"}, {Type: "flatten"}, {Type: "linear", Out: 3}}},
		{Kind: "lstm", Input: []int{6, 2}, Outputs: 3, HiddenSize: 8, NumLayers: 2, Bidirectional: true, Dropout: 0.2, Hidden: []int{5}},
		{Kind: "gru", Input: []int{5, 3}, Outputs: 3, HiddenSize: 7},
		{Kind: "transformer", Input: []int{6, 2}, Outputs: 3, DModel: 8, Heads: 2, NumLayers: 2, FF: 16, Dropout: 0.1, Norm: "post"},
		{Kind: "transformer", Input: []int{6}, Outputs: 11, DModel: 8, Heads: 2, Causal: true, MaxLen: 10},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, a := range familyArchitectures() {
		name := a.Kind
		if a.Kind == "transformer" && len(a.Input) == 1 {
			name = "transformer_lm"
		}
		t.Run(name, func(t *testing.T) {
			nn.SetSeed(7)
			m, err := New(testSpec(a))
			if err != nil {
				t.Fatal(err)
			}
			// One training-mode pass so BatchNorm running statistics are not trivial.
			x := tensor.RandN(tensor.NewRNG(1), append([]int{5}, a.Input...)...)
			if len(a.Input) == 1 && a.Kind == "transformer" { // token ids
				d := x.Data()
				for i := range d {
					d[i] = float32(i % a.Outputs)
				}
			}
			nn.NoGrad(m.Net, func() { m.Net.Forward(x) })
			nn.Train(m.Net, false)
			want := m.Predict(x).Data()
			dir := t.TempDir()
			if err := m.Save(dir); err != nil {
				t.Fatal(err)
			}
			back, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := back.Predict(x).Data(); !slices.Equal(got, want) {
				t.Errorf("reloaded predictions differ:\n got %v\nwant %v", got, want)
			}
			if back.Spec.Signature.Inputs[0].Shape[0] != -1 || (back.Spec.Task == TaskClassification && back.Spec.Labels[2] != "c") {
				t.Errorf("spec not preserved: %+v", back.Spec)
			}
		})
	}
}

// TestLoadErrors checks that damaged artifacts give errors naming the
// file and the tensor or field at fault, never a panic.
func TestLoadErrors(t *testing.T) {
	nn.SetSeed(1)
	m, err := New(testSpec(Architecture{Kind: "mlp", Input: []int{4}, Outputs: 3, Hidden: []int{5}}))
	if err != nil {
		t.Fatal(err)
	}
	good := t.TempDir()
	if err := m.Save(good); err != nil {
		t.Fatal(err)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(good, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	spec, weights := read(SpecFile), read(WeightsFile)
	cases := []struct {
		name    string
		spec    string
		weights []byte
		want    string
	}{
		{"truncated weights", string(spec), weights[:len(weights)-10], WeightsFile},
		{"empty weights", string(spec), nil, WeightsFile},
		{"future version", strings.Replace(string(spec), `"format_version": 1`, `"format_version": 99`, 1), weights, "format_version 99"},
		{"not json", "{", weights, SpecFile},
		{"wrong shape", strings.Replace(string(spec), `"hidden": [
      5
    ]`, `"hidden": [
      6
    ]`, 1), weights, `tensor "0.weight" has shape [5 4], the architecture needs [6 4]`},
		{"missing tensor", strings.Replace(string(spec), `"hidden": [
      5
    ]`, `"hidden": [
      5, 5
    ]`, 1), weights, `tensor "2.weight" has shape`},
		{"bad kind", strings.Replace(string(spec), `"kind": "mlp"`, `"kind": "nope"`, 1), weights, `unknown kind "nope"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, SpecFile), []byte(c.spec), 0o644)
			os.WriteFile(filepath.Join(dir, WeightsFile), c.weights, 0o644)
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load error = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	for _, c := range []struct {
		a    Architecture
		want string
	}{
		{Architecture{Kind: "mlp", Outputs: 2}, "input shape is required"},
		{Architecture{Kind: "cnn", Input: []int{8}, Outputs: 2, Channels: []int{2}}, "cnn input must be"},
		{Architecture{Kind: "cnn", Input: []int{1, 3, 3}, Outputs: 2, Channels: []int{2, 2, 2}}, "too small"},
		{Architecture{Kind: "mlp", Input: []int{3}, Outputs: 2, Activation: "swoosh"}, "unknown activation"},
		{Architecture{Kind: "mlp", Input: []int{3}, Outputs: 2, Hidden: []int{1 << 20, 1 << 20}}, "parameters, more than"},
		{Architecture{Kind: "lstm", Input: []int{5, 3}, Outputs: 2, HiddenSize: 1 << 16}, "parameters, more than"},
		{Architecture{Kind: "layers", Input: []int{3}, Layers: []LayerSpec{{Type: "conv2d", Out: 2, Kernel: 3}}}, "layers[0] (conv2d)"},
	} {
		if _, err := Build(c.a); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Build(%+v) error = %v, want %q", c.a, err, c.want)
		}
	}
}

// TestImageInput checks that the image preprocessing survives a save and
// reload, and that a damaged one is an error naming the field.
func TestImageInput(t *testing.T) {
	nn.SetSeed(1)
	spec := testSpec(Architecture{Kind: "mlp", Input: []int{1, 2, 2}, Outputs: 3, Hidden: []int{4}})
	spec.Image = &ImageInput{Channels: 1, Height: 2, Width: 2, Normalize: &data.ImageNormalize{Mean: []float32{0.1307}, Std: []float32{0.3081}}}
	m, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{0, 0.1307, 1, 0.5}
	want := slices.Clone(x)
	if err := m.Spec.Image.Apply(want); err != nil {
		t.Fatal(err)
	}
	if err := back.Spec.Image.Apply(x); err != nil || !slices.Equal(x, want) || x[1] != 0 {
		t.Errorf("reloaded Apply gives %v (%v), want %v", x, err, want)
	}
	if in := ImageInputOf(back.Spec); in != back.Spec.Image {
		t.Error("ImageInputOf ignores Spec.Image")
	}
	// An artifact from before Spec.Image: inferred from the input shape.
	old := testSpec(Architecture{Kind: "cnn", Input: []int{3, 4, 5}})
	if in := ImageInputOf(old); in == nil || !slices.Equal(in.Shape(), []int{3, 4, 5}) || in.Normalize != nil {
		t.Errorf("inferred %+v", in)
	}
	if ImageInputOf(testSpec(Architecture{Kind: "mlp", Input: []int{4}})) != nil {
		t.Error("a table model has an image input")
	}
	raw, _ := os.ReadFile(filepath.Join(dir, SpecFile))
	for _, c := range []struct{ from, to, want string }{
		{`"channels": 1`, `"channels": 2`, "image.channels must be 1 or 3"},
		{`"width": 2`, `"width": 0`, "image.height and image.width must be in [1, 16384], got 2x0"},
		{`"width": 2`, `"width": 3`, "image: input [1 2 3] holds 6 values"},
		{`0.3081`, `0`, "image.normalize channel 0"},
		{`0.3081`, `0.3, 0.2`, "image.normalize has 1 means and 2 stds"},
	} {
		s := strings.Replace(string(raw), c.from, c.to, 1)
		if s == string(raw) {
			t.Fatalf("%q is not in model.json", c.from)
		}
		if err := os.WriteFile(filepath.Join(dir, SpecFile), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), SpecFile) {
			t.Errorf("%s -> %s: error %v, want %q", c.from, c.to, err, c.want)
		}
	}
}

// TestConcurrentPredict runs Predict from several goroutines at once, as a
// server does, and checks every result against a sequential one (run with
// -race to also check for data races).
func TestConcurrentPredict(t *testing.T) {
	for _, a := range familyArchitectures() {
		nn.SetSeed(3)
		m, err := New(testSpec(a))
		if err != nil {
			t.Fatal(err)
		}
		nn.Train(m.Net, false)
		input := func(i int) *tensor.Tensor {
			shape := append([]int{2}, a.Input...)
			if a.Kind == "transformer" && a.Causal {
				return nil // token ids; covered by the round trip
			}
			return tensor.RandN(tensor.NewRNG(uint64(i)), shape...)
		}
		if input(0) == nil {
			continue
		}
		const workers, calls = 4, 8
		want := make([][]float32, workers*calls)
		for i := range want {
			want[i] = slices.Clone(m.Predict(input(i)).Data())
		}
		var wg sync.WaitGroup
		errs := make(chan string, workers*calls)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for c := range calls {
					i := w*calls + c
					if got := m.Predict(input(i)).Data(); !slices.Equal(got, want[i]) {
						errs <- fmt.Sprintf("%s: call %d differs under concurrency", a.Kind, i)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
	}
}
