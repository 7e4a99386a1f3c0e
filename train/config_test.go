package train

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// base is a valid config; each case replaces a line or appends some.
const base = `name: t
data:
  path: iris.csv
  format: sklearn_csv
model:
  kind: mlp
  hidden: [8]
train:
  epochs: 2
  optimizer: {name: adam, lr: 0.01}
`

func TestParseConfigValid(t *testing.T) {
	cfg, err := ParseConfig(filepath.Join("..", "testdata", "configs", "run.yaml"), []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Data.Target != "target" || cfg.Task != Classification || cfg.Train.BatchSize != 32 || *cfg.Train.Seed != 1 || *cfg.Data.Split.Val != 0.1 {
		t.Errorf("defaults not filled: %+v", cfg)
	}
}

func TestParseConfigErrors(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown top key", base + "extra: 1\n", "run.yaml:11: extra: unknown key"},
		{"unknown nested key", strings.Replace(base, "  hidden: [8]", "  hiden: [8]", 1), "run.yaml:7: model.hiden: unknown key"},
		{"wrong type", strings.Replace(base, "epochs: 2", "epochs: two", 1), "run.yaml:9: train.epochs: want an integer"},
		{"list for int", strings.Replace(base, "hidden: [8]", "hidden: 8", 1), "run.yaml:7: model.hidden: int was used where sequence is expected"},
		{"negative lr", strings.Replace(base, "lr: 0.01", "lr: -0.1", 1), "run.yaml:10: train.optimizer.lr: must be positive"},
		{"zero lr", strings.Replace(base, "lr: 0.01", "lr: 0", 1), "run.yaml:10: train.optimizer.lr: must be positive"},
		{"negative hidden", strings.Replace(base, "hidden: [8]", "hidden: [8, -1]", 1), "run.yaml:7: model.hidden[1]: must be positive"},
		{"cnn on tabular", strings.Replace(base, "kind: mlp\n  hidden: [8]", "kind: cnn\n  channels: [4]", 1), "run.yaml:6: model.kind: cnn needs image input"},
		{"no target", strings.Replace(base, "format: sklearn_csv", "format: csv", 1), "run.yaml:2: data.target: classification needs a target column"},
		{"image feature in csv", strings.Replace(base, "format: sklearn_csv", "format: csv\n  target: y\n  features:\n    - {name: pic, type: image}", 1), "run.yaml:7: data.features[0].type: image features cannot come from a csv reader"},
		{"bad format", strings.Replace(base, "format: sklearn_csv", "format: xls", 1), "run.yaml:4: data.format: must be csv"},
		{"missing file", strings.Replace(base, "path: iris.csv", "path: nope.csv", 1), "run.yaml:3: data.path: "},
		{"no epochs", strings.Replace(base, "epochs: 2", "epochs: 0", 1), "run.yaml:9: train.epochs: must be positive"},
		{"NaN dropout", strings.Replace(base, "hidden: [8]", "hidden: [8]\n  dropout: .nan", 1), "run.yaml:8: model.dropout: must be a finite number"},
		{"NaN clip_norm", strings.Replace(base, "epochs: 2", "epochs: 2\n  clip_norm: .nan", 1), "run.yaml:10: train.clip_norm: must be a finite number"},
		{"infinite lr", strings.Replace(base, "lr: 0.01", "lr: .inf", 1), "run.yaml:10: train.optimizer.lr: must be a finite number"},
		{"NaN split", strings.Replace(base, "format: sklearn_csv", "format: sklearn_csv\n  split: {val: .nan}", 1), "run.yaml:5: data.split.val: must be a finite number"},
		{"name ..", strings.Replace(base, "name: t", "name: ..", 1), `run.yaml:1: name: name ".." is not a file name`},
		{"name with a path", strings.Replace(base, "name: t", "name: ../../x", 1), `run.yaml:1: name: name "../../x" holds a path separator`},
		{"name with a control character", strings.Replace(base, "name: t", `name: "a\tb"`, 1), `run.yaml:1: name: name "a\tb" holds a control character`},
		{"split too big", strings.Replace(base, "format: sklearn_csv", "format: sklearn_csv\n  split: {val: 0.5, test: 0.5}", 1), "run.yaml:5: data.split: val + test is 1"},
		{"bad optimizer", strings.Replace(base, "name: adam", "name: adamx", 1), "run.yaml:10: train.optimizer.name: must be adam"},
		{"bad monitor", base + "  early_stopping: {patience: 3, monitor: val_r2}\n", "run.yaml:11: train.early_stopping.monitor: \"val_r2\" is not a classification metric"},
		{"no kind", strings.Replace(base, "  kind: mlp\n", "", 1), "run.yaml:5: model.kind: is required"},
		{"syntax", base + "  bad: [1, 2\n", "run.yaml:11"},
		{"step without size", base + "  schedule: {name: step}\n", "run.yaml:11: train.schedule.step_size: schedule step needs step_size"},
		{"labels for csv", strings.Replace(base, "format: sklearn_csv", "format: sklearn_csv\n  labels: x", 1), "run.yaml:5: data.labels: is only for format idx"},
		{"momentum for adam", strings.Replace(base, "lr: 0.01", "lr: 0.01, momentum: 0.9", 1), "run.yaml:10: train.optimizer.momentum: is only for sgd"},
		{"regression stratified", "task: regression\n" + strings.Replace(base, "format: sklearn_csv", "format: sklearn_csv\n  split: {stratify: true}", 1), "run.yaml:6: data.split.stratify: needs class labels"},
		{"transform of unknown", base + "preprocessing:\n  features:\n    f0: [sqrt]\n", "run.yaml:13: preprocessing.features.f0[0]: unknown transform \"sqrt\""},
		{"empty", "", "run.yaml: is empty"},
		{"not a mapping", "- 1\n- 2\n", "run.yaml"},
		{"text without section", strings.Replace(strings.Replace(base, "format: sklearn_csv", "format: text", 1), "iris.csv", "tiny.txt", 1), "run.yaml:2: data.text: format text needs a text section"},
		{"text with mlp", strings.Replace(strings.Replace(base, "format: sklearn_csv", "format: text\n  text: {seq: 16}", 1), "iris.csv", "tiny.txt", 1), "run.yaml:7: model.kind: format text needs kind transformer"},
		{"text lm not causal", strings.Replace(strings.Replace(strings.Replace(base, "format: sklearn_csv", "format: text\n  text: {seq: 16}", 1), "iris.csv", "tiny.txt", 1), "kind: mlp\n  hidden: [8]", "kind: transformer\n  d_model: 8\n  heads: 2", 1), "run.yaml:6: model.causal: a language model on format text must be causal"},
		{"classification on text", "task: classification\n" + strings.Replace(strings.Replace(base, "format: sklearn_csv", "format: text\n  text: {seq: 16}", 1), "iris.csv", "tiny.txt", 1), "run.yaml:1: task: format text trains a language model"},
		{"lstm on flat input", strings.Replace(base, "kind: mlp\n  hidden: [8]", "kind: lstm\n  hidden_size: 8\n  input: [4]", 1), "run.yaml:8: model.input: lstm needs [steps, features] sequences, got the flat input [4]"},
		{"lstm without window", strings.Replace(base, "kind: mlp\n  hidden: [8]", "kind: lstm\n  hidden_size: 8", 1), "run.yaml:6: model.kind: lstm needs sequences"},
		{"lstm without hidden size", strings.Replace(base, "kind: mlp\n  hidden: [8]", "kind: gru\n  input: [2, 2]", 1), "run.yaml:5: model.hidden_size: gru needs hidden_size > 0"},
		{"heads do not divide", strings.Replace(base, "kind: mlp\n  hidden: [8]", "kind: transformer\n  input: [2, 2]\n  d_model: 10\n  heads: 3", 1), "run.yaml:9: model.heads: must be positive and divide d_model (10)"},
		{"hidden_size on mlp", strings.Replace(base, "hidden: [8]", "hidden: [8]\n  hidden_size: 4", 1), "run.yaml:8: model.hidden_size: is only for kinds lstm, gru and transformer"},
		{"causal on lstm", strings.Replace(base, "kind: mlp\n  hidden: [8]", "kind: lstm\n  hidden_size: 4\n  input: [2, 2]\n  causal: true", 1), "run.yaml:9: model.causal: is only for kind transformer"},
		{"window on sklearn csv", strings.Replace(base, "format: sklearn_csv", "format: sklearn_csv\n  window: {length: 4}", 1), "run.yaml:5: data.window: is only for csv, tsv and jsonl"},
		{"window with mlp", strings.Replace(base, "format: sklearn_csv", "format: csv\n  target: y\n  window: {length: 4}", 1), "run.yaml:8: model.kind: data.window gives [steps, features] sequences"},
		{"window next for classes", strings.Replace(base, "format: sklearn_csv", "format: csv\n  target: y\n  window: {length: 4, target: next}", 1), "run.yaml:6: data.window.target: next (forecasting the next value) needs task: regression"},
		{"window stratified", strings.Replace(base, "format: sklearn_csv", "format: csv\n  target: y\n  window: {length: 4}\n  split: {stratify: true}", 1), "run.yaml:7: data.split.stratify: windows are split by time"},
		{"normalize on tabular", base + "preprocessing:\n  image:\n    normalize: true\n", "run.yaml:13: preprocessing.image.normalize: is only for image data, format idx or images (format is sklearn_csv)"},
		{"normalize on text", strings.Replace(strings.Replace(base, "format: sklearn_csv", "format: text\n  text: {seq: 16}", 1), "iris.csv", "tiny.txt", 1) + "preprocessing: {image: {normalize: true}}\n", "run.yaml:12: preprocessing.image.normalize: is only for image data"},
		{"augment on tabular", base + "preprocessing:\n  image:\n    augment: {pad: 2}\n", "run.yaml:13: preprocessing.image.augment: is only for image data"},
		{"normalize not a bool", strings.Replace(imageBase, "normalize: true", "normalize: yes please", 1), "run.yaml:6: preprocessing.image.normalize: want a boolean"},
		{"normalize unknown key", strings.Replace(imageBase, "normalize: true", "normalise: true", 1), "run.yaml:6: preprocessing.image.normalise: unknown key"},
		{"window zero length", strings.Replace(base, "format: sklearn_csv", "format: csv\n  target: y\n  window: {length: 0}", 1), "run.yaml:6: data.window.length: must be at least 1"},
		{"window log on last", "task: regression\n" + strings.Replace(seqBase, "target: next", "target: last, log: true", 1), "run.yaml:5: data.window.log: transforms a forecast target; it needs target: next"},
		{"difference without target feature", "task: regression\n" + strings.Replace(strings.Replace(seqBase, "target: next", "target: next, difference: true", 1), "  target: y\n", "  target: y\n  features: [{name: f0}]\n", 1), "run.yaml:6: data.window.difference: predicts the change from the last value of \"y\""},
		{"negative season", "task: regression\n" + strings.Replace(seqBase, "target: next", "target: next, season: -12", 1), "run.yaml:5: data.window.season: must be >= 0"},
		{"season on last", strings.Replace(seqBase, "target: next", "season: 12", 1), "run.yaml:4: data.window.season: gives the seasonal-naive forecast baseline"},
		{"window log not a bool", "task: regression\n" + strings.Replace(seqBase, "target: next", "target: next, log: maybe", 1), "run.yaml:5: data.window.log: want a boolean"},
		{"class weights word", base + "  class_weights: even\n", "run.yaml:11: train.class_weights: must be balanced or a list of weights"},
		{"class weights negative", base + "  class_weights:\n    - 1\n    - -2\n", "run.yaml:13: train.class_weights[1]: must be a finite number >= 0"},
		{"class weights not numbers", base + "  class_weights: [1, heavy]\n", "run.yaml:11: train.class_weights[1]: must be a number"},
		{"class weights one", base + "  class_weights: [1]\n", "run.yaml:11: train.class_weights: needs one weight per class"},
		{"class weights zero", base + "  class_weights: [0, 0]\n", "run.yaml:11: train.class_weights: are all zero"},
		{"class weights mapping", base + "  class_weights: {a: 1}\n", "run.yaml:11: train.class_weights: must be balanced or a list"},
		{"class weights regression", "task: regression\n" + strings.Replace(base, "format: sklearn_csv", "format: csv\n  target: y", 1) + "  class_weights: balanced\n", "run.yaml:13: train.class_weights: weights the classes of the cross-entropy; it needs task: classification"},
		{"threshold word", base + "  threshold: best\n", "run.yaml:11: train.threshold: must be auto or a number in (0, 1)"},
		{"threshold one", base + "  threshold: 1\n", "run.yaml:11: train.threshold: must be auto or a number in (0, 1), got 1"},
		{"threshold list", base + "  threshold: [0.5]\n", "run.yaml:11: train.threshold: must be auto or a number"},
		{"threshold without val", strings.Replace(base, "format: sklearn_csv", "format: sklearn_csv\n  split: {val: 0, test: 0.2}", 1) + "  threshold: auto\n", "run.yaml:12: train.threshold: auto is chosen on the validation split"},
		{"threshold regression", "task: regression\n" + strings.Replace(base, "format: sklearn_csv", "format: csv\n  target: y", 1) + "  threshold: 0.3\n", "run.yaml:13: train.threshold: is the decision threshold of a binary classifier"},
	}
	name := filepath.Join("..", "testdata", "configs", "run.yaml")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig(name, []byte(c.yaml))
			if err == nil {
				t.Fatalf("no error for:\n%s", c.yaml)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *ConfigError", err)
			}
			msg := strings.TrimPrefix(err.Error(), filepath.Join("..", "testdata", "configs")+string(filepath.Separator))
			if !strings.HasPrefix(msg, c.want) {
				t.Errorf("got  %q\nwant prefix %q", msg, c.want)
			}
		})
	}
}

// seqBase is a window config on iris.csv (the columns do not matter to
// ParseConfig); cases prepend a task and edit the window.
const seqBase = `data:
  path: iris.csv
  target: y
  window: {length: 4, target: next}
model: {kind: gru, hidden_size: 8}
train: {epochs: 1}
`

// TestParseConfigDecisions parses the forecast transform, class weights
// and threshold keys into their settings.
func TestParseConfigDecisions(t *testing.T) {
	name := filepath.Join("..", "testdata", "configs", "run.yaml")
	cfg, err := ParseConfig(name, []byte("task: regression\n"+strings.Replace(seqBase, "target: next", "target: next, log: true, difference: true, season: 12", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if w := cfg.Data.Window; !w.Log || !w.Difference || w.Season != 12 {
		t.Errorf("window %+v", w)
	}
	for _, c := range []struct {
		yaml     string
		balanced bool
		weights  []float64
		auto     bool
		t        float64
	}{
		{"  class_weights: balanced\n  threshold: auto\n", true, nil, true, 0},
		{"  class_weights: [1, 2.5, 0]\n  threshold: 0.25\n", false, []float64{1, 2.5, 0}, false, 0.25},
		{"", false, nil, false, 0},
	} {
		cfg, err := ParseConfig(name, []byte(base+c.yaml))
		if err != nil {
			t.Fatalf("%q: %v", c.yaml, err)
		}
		tc := cfg.Train
		if tc.balanced != c.balanced || !slices.Equal(tc.weights, c.weights) || tc.autoThreshold != c.auto || tc.threshold != c.t {
			t.Errorf("%q: balanced %v weights %v auto %v threshold %v", c.yaml, tc.balanced, tc.weights, tc.autoThreshold, tc.threshold)
		}
	}
}

// imageBase is a valid config on IDX images with normalisation.
const imageBase = `data:
  path: ../data/tiny-images-idx3-ubyte
  labels: ../data/tiny-labels-idx1-ubyte
preprocessing:
  image:
    normalize: true
model: {kind: mlp, hidden: [4]}
train: {epochs: 1}
`

// TestParseConfigImageNormalize accepts normalize for image data.
func TestParseConfigImageNormalize(t *testing.T) {
	cfg, err := ParseConfig(filepath.Join("..", "testdata", "configs", "run.yaml"), []byte(imageBase))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Data.Format != "idx" || !cfg.Preprocessing.Image.Normalize {
		t.Errorf("format %q, normalize %v", cfg.Data.Format, cfg.Preprocessing.Image.Normalize)
	}
}

// TestParseConfigSequences accepts the sequence configs and fills their defaults.
func TestParseConfigSequences(t *testing.T) {
	name := filepath.Join("..", "testdata", "configs", "run.yaml")
	cfg, err := ParseConfig(name, []byte("task: regression\ndata: {path: iris.csv, target: y, window: {length: 4, target: next}}\nmodel: {kind: gru, hidden_size: 8}\ntrain: {epochs: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Data.Window.Stride != 1 || *cfg.Data.Split.Stratify {
		t.Errorf("window defaults not filled: %+v %v", cfg.Data.Window, *cfg.Data.Split.Stratify)
	}
	cfg, err = ParseConfig(name, []byte("data: {path: tiny.txt, text: {seq: 8}}\nmodel: {kind: transformer, causal: true, d_model: 8, heads: 2}\ntrain: {epochs: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Task != LanguageModel || cfg.Data.Format != "text" || cfg.Data.Text.Level != "char" || cfg.Data.Text.Stride != 4 {
		t.Errorf("text defaults not filled: %s %s %+v", cfg.Task, cfg.Data.Format, cfg.Data.Text)
	}
}

func FuzzConfig(f *testing.F) {
	f.Add([]byte(base))
	f.Add([]byte(base + "extra: 1\n"))
	f.Add([]byte(imageBase))
	f.Add([]byte("data: {path: iris.csv}\nmodel: {kind: layers, layers: [{type: linear, out: 3}]}\ntrain: {epochs: 1}\n"))
	f.Add([]byte("a: &x [1, *x]\n"))
	f.Add([]byte("train:\n  seed: -1\n  epochs: 99999999999999999999\n"))
	f.Add([]byte("task: regression\ndata: {path: iris.csv, target: y, window: {length: 4, target: next}}\nmodel: {kind: gru, hidden_size: 8}\ntrain: {epochs: 1}\n"))
	f.Add([]byte("data: {path: tiny.txt, text: {level: char, seq: 8}}\nmodel: {kind: transformer, causal: true, d_model: 8, heads: 2}\ntrain: {epochs: 1}\n"))
	f.Add([]byte("task: regression\n" + strings.Replace(seqBase, "target: next", "target: next, log: true, difference: true, season: 12", 1)))
	f.Add([]byte(base + "  class_weights: balanced\n  threshold: auto\n"))
	f.Add([]byte(base + "  class_weights: [1, 2.5]\n  threshold: 0.3\n"))
	f.Add([]byte(base + "  class_weights: [1, -1e999]\n  threshold: .nan\n"))
	f.Add([]byte(base + "  class_weights: {a: [1]}\n  threshold: [auto]\n"))
	name := filepath.Join("..", "testdata", "configs", "fuzz.yaml")
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := ParseConfig(name, b)
		if err != nil {
			if cfg != nil {
				t.Fatal("config returned with an error")
			}
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if cfg.Train.Epochs <= 0 || cfg.Train.BatchSize <= 0 || cfg.Train.Optimizer.LR <= 0 || cfg.Model.Kind == "" {
			t.Fatalf("accepted an invalid config: %+v", cfg)
		}
	})
}

// YAML that would cost a decoder far more than it holds (an alias bomb,
// deep nesting) is refused before decoding, in bounded memory.
func TestParseConfigBombs(t *testing.T) {
	var bomb strings.Builder
	bomb.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&bomb, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	deep := "name: " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n"
	for name, doc := range map[string]string{"billion laughs": bomb.String(), "deep flow nesting": deep} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := ParseConfig("bomb.yaml", []byte(doc))
		runtime.ReadMemStats(&after)
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), "bomb.yaml") {
			t.Errorf("%s: error %v, want a ConfigError naming the file", name, err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<20 {
			t.Errorf("%s: decoding allocated %d MiB", name, grew>>20)
		}
	}
}

// An unknown key suggests the nearest one and lists the keys valid there.
func TestUnknownKeySuggests(t *testing.T) {
	_, err := ParseConfig("run.yaml", []byte(strings.Replace(base, "epochs: 2", "epoch: 2", 1)))
	if err == nil || !strings.Contains(err.Error(), `train.epoch: unknown key (did you mean "epochs"? keys here: epochs, batch_size`) {
		t.Errorf("error %v", err)
	}
}
