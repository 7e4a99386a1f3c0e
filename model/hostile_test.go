package model

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/internal/hostile"
	"github.com/shenml/shen/nn"
)

// hostileBase is a small valid artifact of each kind the hostile cases
// start from: a table classifier with preprocessing, an image CNN, a
// windowed forecaster and a language model.
type hostileBase struct {
	table, image, window, lm Spec
}

func newHostileBase(t testing.TB) hostileBase {
	f := &data.Frame{Columns: []*data.Column{
		{Name: "x", Type: data.Numeric, Num: []float64{1, 2, 3, 4}},
		{Name: "c", Type: data.Categorical, Cat: []string{"a", "b", "a", "c"}},
	}}
	pipe := data.NewPipeline(data.Standardize("x"), data.OneHot("c"))
	if err := pipe.Fit(f); err != nil {
		t.Fatal(err)
	}
	v, err := data.BuildVocab("abcdef", data.VocabOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return hostileBase{
		table: Spec{Name: "t", Task: TaskClassification, Labels: []string{"no", "yes"}, Preprocessing: pipe,
			Architecture: Architecture{Kind: "mlp", Input: []int{pipe.Width()}, Outputs: 2, Hidden: []int{4}}},
		image: Spec{Name: "i", Task: TaskClassification, Labels: []string{"0", "1", "2"},
			Image:        &ImageInput{Channels: 1, Height: 8, Width: 8},
			Architecture: Architecture{Kind: "cnn", Input: []int{1, 8, 8}, Outputs: 3, Channels: []int{2}}},
		window: Spec{Name: "w", Task: TaskRegression, Window: &Window{Length: 5, Target: "next", Column: "y"},
			Architecture: Architecture{Kind: "gru", Input: []int{5, 2}, Outputs: 1, HiddenSize: 3}},
		lm: Spec{Name: "l", Task: TaskLanguageModel, Vocab: v,
			Architecture: Architecture{Kind: "transformer", Input: []int{4}, Outputs: v.Len(), DModel: 4, Heads: 1, Causal: true}},
	}
}

// saveSpec writes spec's model.json over weights of a network built from
// weightsSpec (so the weights can disagree with the spec), with no checks.
func saveSpec(t testing.TB, dir string, spec, weightsSpec Spec) {
	nn.SetSeed(1)
	m, err := New(weightsSpec)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	spec.Format, spec.FormatVersion = "shen-model", FormatVersion
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, SpecFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// specCase is a case whose model.json is base changed by edit.
func specCase(name string, base Spec, edit func(*Spec), culprit ...string) hostile.Case {
	return hostile.Case{Name: name, Culprit: append([]string{SpecFile}, culprit...),
		Make: func(t testing.TB, dir string) {
			s := base
			s.Architecture.Hidden = append([]int(nil), base.Architecture.Hidden...)
			s.Labels = append([]string(nil), base.Labels...)
			edit(&s)
			saveSpec(t, dir, s, base)
		},
		Run: loadAndPredict}
}

// rawCase is a case that writes the artifact's files itself.
func rawCase(name string, base Spec, make func(t testing.TB, dir string), culprit ...string) hostile.Case {
	return hostile.Case{Name: name, Culprit: culprit,
		Make: func(t testing.TB, dir string) {
			saveSpec(t, dir, base, base)
			make(t, dir)
		},
		Run: loadAndPredict}
}

// loadAndPredict loads the artifact and, if that succeeds, runs it.
func loadAndPredict(dir string) error {
	m, err := Load(dir)
	if err != nil {
		return err
	}
	return runLoaded(m)
}

func replaceFile(t testing.TB, dir, name string, b []byte) {
	p := filepath.Join(dir, name)
	os.Remove(p)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func sparse(t testing.TB, dir, name string, size int64) {
	p := filepath.Join(dir, name)
	os.Remove(p)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(size)
	f.Close()
}

func special(t testing.TB, dir, name, kind string) {
	p := filepath.Join(dir, name)
	os.Remove(p)
	var err error
	switch kind {
	case "fifo":
		err = syscall.Mkfifo(p, 0o644)
	case "zero":
		err = os.Symlink("/dev/zero", p)
	case "dir":
		err = os.Mkdir(p, 0o755)
	case "dangling":
		err = os.Symlink(filepath.Join(dir, "nowhere"), p)
	}
	if err != nil {
		t.Skip("cannot make a special file here:", err)
	}
}

// safetensorsHeader is a weights file of header h and data bytes.
func safetensorsHeader(h string, data int) []byte {
	b := make([]byte, 8, 8+len(h)+data)
	binary.LittleEndian.PutUint64(b, uint64(len(h)))
	b = append(b, h...)
	return append(b, make([]byte, data)...)
}

// modelHostileCases is the corpus of hostile artifacts for Load.
func modelHostileCases(t testing.TB) []hostile.Case {
	b := newHostileBase(t)
	pad := 100000
	one := 1.5
	var cs []hostile.Case
	add := func(c ...hostile.Case) { cs = append(cs, c...) }
	// Mismatches between fields.
	add(
		specCase("labels fewer than outputs", b.table, func(s *Spec) { s.Labels = s.Labels[:1] }, "labels"),
		specCase("labels more than outputs", b.table, func(s *Spec) { s.Labels = append(s.Labels, "maybe") }, "labels"),
		specCase("duplicate labels", b.table, func(s *Spec) { s.Labels = []string{"a", "a"} }, "labels[1]"),
		specCase("unknown task", b.table, func(s *Spec) { s.Task = "segmentation" }, "task"),
		specCase("empty task", b.table, func(s *Spec) { s.Task = "" }, "task"),
		specCase("regression with labels", b.table, func(s *Spec) { s.Task = TaskRegression }, "labels"),
		specCase("classification of one output", b.window, func(s *Spec) { s.Task, s.Labels = TaskClassification, []string{"a"} }, "outputs"),
		specCase("language model task on a table", b.table, func(s *Spec) { s.Task, s.Labels = TaskLanguageModel, nil }, "vocab"),
		specCase("vocab size differs from the embedding", b.lm, func(s *Spec) {
			v, _ := data.BuildVocab("ab", data.VocabOptions{})
			s.Vocab = v
		}, "vocab"),
		specCase("vocab on a classifier", b.table, func(s *Spec) { s.Vocab = b.lm.Vocab }, "vocab"),
		specCase("preprocessing width vs input", b.table, func(s *Spec) { s.Architecture.Input = []int{7} }, "preprocessing"),
		specCase("outputs zero", b.table, func(s *Spec) { s.Architecture.Outputs = 0 }, "outputs"),
		specCase("threshold above 1", b.table, func(s *Spec) { s.Threshold = &one }, "threshold"),
		specCase("threshold on three classes", b.image, func(s *Spec) { h := 0.5; s.Threshold = &h }, "threshold"),
		specCase("window length vs input", b.window, func(s *Spec) { w := *s.Window; w.Length = 9; s.Window = &w }, "window.length"),
		specCase("window target unknown", b.window, func(s *Spec) { w := *s.Window; w.Target = "sideways"; s.Window = &w }, "window.target"),
		specCase("window without column", b.window, func(s *Spec) { w := *s.Window; w.Column = ""; s.Window = &w }, "window.column"),
		specCase("window on a flat input", b.table, func(s *Spec) { s.Window = &Window{Length: 1, Target: "last", Column: "x"} }, "window"),
		specCase("log transform on a classifier", b.table, func(s *Spec) { s.Window = &Window{Length: 1, Target: "next", Column: "x", Log: true} }, "window.log"),
		specCase("signature output width", b.table, func(s *Spec) {
			s.Signature = Signature{Outputs: []Tensor{{Name: "o", Datatype: "FP32", Shape: []int{-1, 9}}}}
		}, "signature.outputs"),
		specCase("signature datatype", b.table, func(s *Spec) {
			s.Signature = Signature{Inputs: []Tensor{{Name: "i", Datatype: "FP128", Shape: []int{-1}}}}
		}, "signature.inputs[0]"),
		specCase("output shape vs task", b.image, func(s *Spec) {
			s.Architecture = Architecture{Kind: "layers", Input: []int{1, 8, 8}, Outputs: 3, Layers: []LayerSpec{{Type: "flatten"}, {Type: "linear", Out: 5}}}
		}, "the network gives [5]"),
		specCase("layers that do not fit", b.image, func(s *Spec) {
			s.Architecture = Architecture{Kind: "layers", Input: []int{1, 8, 8}, Outputs: 3, Layers: []LayerSpec{{Type: "linear", Out: 3}}}
		}, "layers[0]"),
	)
	// Overflows and absurd sizes.
	add(
		specCase("image height x width overflows int", b.image, func(s *Spec) { s.Image = &ImageInput{Channels: 1, Height: 1 << 40, Width: 1 << 40} }, "image.height"),
		specCase("image too large", b.image, func(s *Spec) {
			s.Image = &ImageInput{Channels: 3, Height: 16384, Width: 16384}
			s.Architecture.Input = []int{3, 16384, 16384}
		}, "values per sample"),
		specCase("image normalize zero std", b.image, func(s *Spec) {
			s.Image = &ImageInput{Channels: 1, Height: 8, Width: 8, Normalize: &data.ImageNormalize{Mean: []float32{0}, Std: []float32{0}}}
		}, "image.normalize"),
		specCase("image vs input", b.image, func(s *Spec) { s.Image = &ImageInput{Channels: 1, Height: 8, Width: 9} }, "image"),
		specCase("cnn padding 100000", b.image, func(s *Spec) { s.Architecture.Padding = &pad }, "convolution 0"),
		specCase("layers conv padding 100000", b.image, func(s *Spec) {
			s.Architecture = Architecture{Kind: "layers", Input: []int{1, 8, 8}, Outputs: 3, Layers: []LayerSpec{{Type: "conv2d", Out: 2, Kernel: 3, Padding: 100000}}}
		}, "layers[0]"),
		specCase("conv negative stride", b.image, func(s *Spec) {
			s.Architecture = Architecture{Kind: "layers", Input: []int{1, 8, 8}, Outputs: 3, Layers: []LayerSpec{{Type: "conv2d", Out: 2, Kernel: 3, Stride: -2}}}
		}, "layers[0]"),
		specCase("huge kernel", b.image, func(s *Spec) { s.Architecture.Kernel = 1 << 20 }, "architecture"),
		specCase("huge input", b.table, func(s *Spec) { s.Architecture.Input = []int{1 << 40} }, "architecture.input"),
		specCase("input product overflows", b.image, func(s *Spec) { s.Architecture.Input = []int{1 << 25, 1 << 25, 1 << 25} }, "architecture"),
		specCase("huge hidden layer", b.table, func(s *Spec) { s.Architecture.Hidden = []int{1 << 30} }, "architecture: a hidden layer"),
		specCase("parameters over the cap", b.table, func(s *Spec) { s.Architecture.Hidden = []int{20000, 20000} }, "parameters"),
		specCase("huge recurrent state", b.window, func(s *Spec) { s.Architecture.HiddenSize = 1 << 30 }, "architecture: the recurrent layers"),
		specCase("attention over a huge window", b.lm, func(s *Spec) { s.Architecture.Input = []int{1 << 20} }, "attention"),
		specCase("dropout out of range", b.table, func(s *Spec) { s.Architecture.Dropout = 1.5 }, "dropout"),
		specCase("negative hidden", b.table, func(s *Spec) { s.Architecture.Hidden = []int{-4} }, "hidden"),
		specCase("zero heads", b.lm, func(s *Spec) { s.Architecture.Heads = 0 }, "heads"),
	)
	// Raw model.json text the encoder cannot make.
	rawSpec := func(name, text string, culprit ...string) hostile.Case {
		return rawCase(name, b.table, func(t testing.TB, dir string) { replaceFile(t, dir, SpecFile, []byte(text)) }, append([]string{SpecFile}, culprit...)...)
	}
	add(
		rawSpec("truncated model.json", `{"format":"shen-model","format_version":1,"architecture":{"kind":"mlp"`),
		rawSpec("dropout past float32", `{"format":"shen-model","format_version":1,"task":"regression","architecture":{"kind":"mlp","input":[3],"outputs":1,"dropout":1e39}}`),
		rawSpec("all NUL model.json", strings.Repeat("\x00", 4096)),
		rawSpec("wrong format", `{"format":"onnx","format_version":1}`, "format"),
		rawSpec("future version", `{"format":"shen-model","format_version":99}`, "format_version"),
		rawSpec("negative input", `{"format":"shen-model","format_version":1,"task":"regression","architecture":{"kind":"mlp","input":[-3],"outputs":1}}`, "architecture.input"),
		rawSpec("input beyond int", `{"format":"shen-model","format_version":1,"task":"regression","architecture":{"kind":"mlp","input":[1e30],"outputs":1}}`),
	)
	// Special files, size caps, lying weights.
	add(
		rawCase("model.json is a FIFO", b.table, func(t testing.TB, dir string) { special(t, dir, SpecFile, "fifo") }, SpecFile, "not a regular file"),
		rawCase("model.json links to /dev/zero", b.table, func(t testing.TB, dir string) { special(t, dir, SpecFile, "zero") }, SpecFile, "not a regular file"),
		rawCase("model.json is a folder", b.table, func(t testing.TB, dir string) { special(t, dir, SpecFile, "dir") }, SpecFile),
		rawCase("model.json dangling link", b.table, func(t testing.TB, dir string) { special(t, dir, SpecFile, "dangling") }, SpecFile),
		rawCase("model.json over 64 MiB", b.table, func(t testing.TB, dir string) { sparse(t, dir, SpecFile, 65<<20) }, SpecFile, "64 MiB"),
		rawCase("weights are a FIFO", b.table, func(t testing.TB, dir string) { special(t, dir, WeightsFile, "fifo") }, WeightsFile, "not a regular file"),
		rawCase("weights link to /dev/zero", b.table, func(t testing.TB, dir string) { special(t, dir, WeightsFile, "zero") }, WeightsFile, "not a regular file"),
		rawCase("weights 8 GiB sparse", b.table, func(t testing.TB, dir string) { sparse(t, dir, WeightsFile, 8<<30) }, WeightsFile, "limit"),
		rawCase("weights missing", b.table, func(t testing.TB, dir string) { os.Remove(filepath.Join(dir, WeightsFile)) }, WeightsFile),
		rawCase("weights empty", b.table, func(t testing.TB, dir string) { replaceFile(t, dir, WeightsFile, nil) }, WeightsFile),
		rawCase("weights header size 2^63", b.table, func(t testing.TB, dir string) {
			w := make([]byte, 16)
			binary.LittleEndian.PutUint64(w, 1<<63)
			replaceFile(t, dir, WeightsFile, w)
		}, WeightsFile, "header size"),
		rawCase("weights declare a 2^40 tensor", b.table, func(t testing.TB, dir string) {
			replaceFile(t, dir, WeightsFile, safetensorsHeader(`{"0.weight":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,4398046511104]}}`, 16))
		}, WeightsFile, "0.weight"),
		rawCase("weights shape overflows", b.table, func(t testing.TB, dir string) {
			replaceFile(t, dir, WeightsFile, safetensorsHeader(`{"0.weight":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}}`, 16))
		}, WeightsFile, "0.weight"),
		rawCase("weights truncated", b.table, func(t testing.TB, dir string) {
			w, _ := os.ReadFile(filepath.Join(dir, WeightsFile))
			replaceFile(t, dir, WeightsFile, w[:len(w)-3])
		}, WeightsFile),
		rawCase("weights of another architecture", b.table, func(t testing.TB, dir string) {
			other := t.TempDir()
			saveSpec(t, other, b.image, b.image)
			w, _ := os.ReadFile(filepath.Join(other, WeightsFile))
			replaceFile(t, dir, WeightsFile, w)
		}, WeightsFile),
		rawCase("profile.json is a FIFO", b.table, func(t testing.TB, dir string) { special(t, dir, ProfileFile, "fifo") }, ProfileFile, "not a regular file"),
		rawCase("profile.json links to /dev/zero", b.table, func(t testing.TB, dir string) { special(t, dir, ProfileFile, "zero") }, ProfileFile, "not a regular file"),
		rawCase("profile.json over 64 MiB", b.table, func(t testing.TB, dir string) { sparse(t, dir, ProfileFile, 65<<20) }, ProfileFile, "64 MiB"),
		rawCase("profile.json truncated", b.table, func(t testing.TB, dir string) { replaceFile(t, dir, ProfileFile, []byte(`{"rows": 3, "features": [`)) }, ProfileFile),
	)
	// Path escapes: an artifact folder that is a link to elsewhere, or a
	// name with a parent reference, reads only what is there.
	add(
		hostile.Case{Name: "artifact path escapes with ..", Culprit: []string{SpecFile},
			Make: func(t testing.TB, dir string) {},
			Run:  func(dir string) error { return loadAndPredict(filepath.Join(dir, "..", "outside", "..", "missing")) }},
	)
	return cs
}

// TestHostileArtifacts runs the corpus of hostile artifacts through Load
// and, where Load accepts, a prediction: each must be refused with an
// error naming the file and field, allocating at most 64 MiB, touching
// nothing outside the artifact.
func TestHostileArtifacts(t *testing.T) {
	res := hostile.Check(t, modelHostileCases(t), 64<<20)
	if res.Cases < 60 {
		t.Errorf("only %d cases", res.Cases)
	}
}

// TestBuildRefusesNaN: NaN passes "x < 0 || x >= 1" checks, so a NaN
// dropout (a YAML .nan, or a Go caller) used to build a network that
// trained every epoch and only failed writing model.json.
func TestBuildRefusesNaN(t *testing.T) {
	nan := float32(math.NaN())
	for _, a := range []Architecture{
		{Kind: "mlp", Input: []int{3}, Outputs: 2, Hidden: []int{4}, Dropout: nan},
		{Kind: "layers", Input: []int{3}, Outputs: 2, Layers: []LayerSpec{{Type: "dropout", P: nan}, {Type: "linear", Out: 2}}},
		{Kind: "layers", Input: []int{3}, Outputs: 2, Layers: []LayerSpec{{Type: "dropout", P: 1}, {Type: "linear", Out: 2}}},
	} {
		if _, err := Build(a); err == nil || !strings.Contains(err.Error(), "dropout") {
			t.Errorf("Build(%+v) = %v, want a dropout error", a, err)
		}
	}
}
