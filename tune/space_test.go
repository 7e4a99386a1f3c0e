package tune

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

const specYAML = `tune:
  metric: accuracy
  goal: maximize
  trials: 16
  time: 10m
  parallel: 2
  sampler: tpe
  pruner: asha
  seed: 3
  parameters:
    train.optimizer.lr: {space: loguniform, lower: 0.0003, upper: 0.03}
    train.batch_size: {space: choice, categories: [16, 32, 64]}
    model.hidden: {space: choice, categories: [[32], [64, 32]]}
    model.dropout: {space: uniform, lower: 0.0, upper: 0.3}
    train.early_stopping.patience: {space: randint, lower: 5, upper: 30}
    train.epochs: {space: qrandint, lower: 10, upper: 40, q: 10}
`

func TestParseSpec(t *testing.T) {
	s, err := ParseSpec("run.yaml", []byte(specYAML), "tune")
	if err != nil {
		t.Fatal(err)
	}
	if s.Metric != "accuracy" || !s.Maximize || s.Trials != 16 || s.Time.Minutes() != 10 || s.Parallel != 2 || s.Pruner != "asha" || s.Seed != 3 || len(s.Params) != 6 {
		t.Fatalf("spec %+v", s)
	}
	keys := []string{"train.optimizer.lr", "train.batch_size", "model.hidden", "model.dropout", "train.early_stopping.patience", "train.epochs"}
	for i, k := range keys {
		if s.Params[i].Key != k {
			t.Errorf("param %d is %s, want %s (order as written)", i, s.Params[i].Key, k)
		}
	}
	if p := s.Params[4]; p.Kind != Int || p.Low != 5 || p.High != 29 {
		t.Errorf("randint [5, 30) = %+v, want ints 5..29", p)
	}
	if p := s.Params[5]; p.Low != 10 || p.High != 40 || p.Step != 10 {
		t.Errorf("qrandint = %+v", p)
	}
	sets := s.Sets([]float64{0.001, 2, 1, 0.25, 7, 20})
	want := []string{"train.optimizer.lr=0.001", "train.batch_size=64", "model.hidden=[64, 32]", "model.dropout=0.25", "train.early_stopping.patience=7", "train.epochs=20"}
	for i := range want {
		if sets[i] != want[i] {
			t.Errorf("set %d = %q, want %q", i, sets[i], want[i])
		}
	}
}

func TestParseSpecErrors(t *testing.T) {
	head := "tune:\n  trials: 4\n  parameters:\n"
	cases := []struct{ yaml, want string }{
		{head + "    a.b: {space: uniform, lower: 1, upper: 1}\n", "run.yaml:4: tune.parameters.a.b: empty range"},
		{head + "    a.b: {space: uniform, lower: 2, upper: 1}\n", "run.yaml:4: tune.parameters.a.b: reversed range"},
		{head + "    a.b: {space: loguniform, lower: 0, upper: 1}\n", "tune.parameters.a.b: a log range must be above zero"},
		{head + "    a.b: {space: loguniform, lower: -1, upper: 1}\n", "a log range must be above zero"},
		{head + "    a.b: {space: randint, lower: 3, upper: 3}\n", "empty range: randint [3, 3) holds no integer"},
		{head + "    a.b: {space: randint, lower: 1.5, upper: 3}\n", "whole-number bounds"},
		{head + "    a.b: {space: choice, categories: []}\n", "choice needs at least one value"},
		{head + "    a.b: {space: normal, lower: 0, upper: 1}\n", "unknown space \"normal\""},
		{head + "    a.b: {space: uniform, lower: 0, upper: 1, bogus: 1}\n", "tune.parameters.a.b:"},
		{head + "    a.b: {space: uniform, lower: 0}\n", "uniform needs lower and upper"},
		{head + "    a.b: {space: quniform, lower: 0, upper: 1}\n", "quniform needs q"},
		{head + "    a.b: {lower: 0, upper: 1}\n", "space is required"},
		{head + "    a.b: {space: choice, categories: [1], lower: 0}\n", "choice takes no lower"},
		{"tune:\n  trials: 4\n  parameters: {}\n", "run.yaml:3: tune.parameters: is empty"},
		{"tune:\n  trials: 4\n  sampler: bayes\n  parameters:\n    a: {space: choice, categories: [1]}\n", "run.yaml:3: tune.sampler: must be grid, random or tpe"},
		{"tune:\n  trials: 4\n  pruner: hyperband\n  parameters:\n    a: {space: choice, categories: [1]}\n", "tune.pruner: must be none, asha or median"},
		{"tune:\n  trials: 4\n  goal: max\n  parameters:\n    a: {space: choice, categories: [1]}\n", "tune.goal: must be minimize or maximize"},
		{"tune:\n  time: soon\n  parameters:\n    a: {space: choice, categories: [1]}\n", "tune.time: must be a positive duration"},
		{"tune:\n  parameters:\n    a: {space: choice, categories: [1]}\n", "give a budget"},
		{"tune:\n  trails: 4\n", "run.yaml:2: tune.trails: unknown key"},
		{"tune:\n  sampler: grid\n  parameters:\n    a: {space: uniform, lower: 0, upper: 1}\n", "the grid sampler needs a finite set"},
		{"name: x\n", "has no tune: section"},
	}
	for _, c := range cases {
		_, err := ParseSpec("run.yaml", []byte(c.yaml), "tune")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q:\n got %v\nwant %q", c.yaml, err, c.want)
		}
	}
}

// irisConfig writes a small iris config with a tune section into a temp
// folder and returns its path.
func irisConfig(t testing.TB, tune string) string {
	t.Helper()
	data, err := filepath.Abs("../testdata/configs/iris.csv")
	if err != nil {
		t.Fatal(err)
	}
	cfg := `name: iris
data:
  path: ` + data + `
  format: sklearn_csv
  split: {val: 0.2, test: 0.2, seed: 1}
model:
  kind: mlp
  hidden: [8]
train:
  epochs: 6
  batch_size: 16
  optimizer: {name: adam, lr: 0.01}
  seed: 1
` + tune
	p := filepath.Join(t.TempDir(), "iris.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSpecCheckAgainstConfig(t *testing.T) {
	good := "tune:\n  trials: 2\n  parameters:\n    train.optimizer.lr: {space: loguniform, lower: 0.001, upper: 0.1}\n    model.hidden: {space: choice, categories: [[4], [8, 4]]}\n"
	p := irisConfig(t, good)
	s, err := ReadSpec(p, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(p); err != nil {
		t.Fatal(err)
	}
	if s.Metric != "val_loss" || s.Maximize {
		t.Errorf("default objective %s maximize=%v, want val_loss minimised", s.Metric, s.Maximize)
	}
	bad := []struct{ params, want string }{
		{"    train.optimizer.lrate: {space: uniform, lower: 0.1, upper: 0.2}\n", "tune.parameters.train.optimizer.lrate: bound 0.1 fails the config's validation: PATH (--set train.optimizer.lrate=0.1): train.optimizer.lrate: unknown key (did you mean train.optimizer.lr?)"},
		{"    model.dropout: {space: uniform, lower: 0.0, upper: 1.0}\n", "iris.yaml:17: tune.parameters.model.dropout: bound 1 fails the config's validation"},
		{"    model.hidden: {space: choice, categories: [[8], [0]]}\n", "tune.parameters.model.hidden: value [0] fails the config's validation"},
		{"    train.optimizer.name: {space: choice, categories: [adam, lion]}\n", "value lion fails"},
		{"    train.batch_size: {space: choice, categories: [16, big]}\n", "train.batch_size: want an integer"},
	}
	for _, c := range bad {
		p := irisConfig(t, "tune:\n  trials: 2\n  parameters:\n"+c.params)
		s, err := ReadSpec(p, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Check(p); err == nil || !strings.Contains(err.Error(), strings.ReplaceAll(c.want, "PATH", p)) {
			t.Errorf("%s: got %v, want %q", c.params, err, c.want)
		}
	}
	p = irisConfig(t, "tune:\n  trials: 2\n  metric: rmse\n  parameters:\n    train.optimizer.lr: {space: uniform, lower: 0.01, upper: 0.1}\n")
	s, _ = ReadSpec(p, "")
	if err := s.Check(p); err == nil || !strings.Contains(err.Error(), `"val_rmse" is not a validation metric of a classification run`) {
		t.Errorf("metric check: %v", err)
	}
}

func FuzzParseSpec(f *testing.F) {
	f.Add([]byte(specYAML))
	f.Add([]byte("tune:\n  trials: 1\n  parameters:\n    a: {space: randint, lower: 0, upper: 9}\n"))
	f.Add([]byte("tune: [1, 2]\n"))
	f.Add([]byte("tune:\n  parameters:\n    a: 3\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSpec("f.yaml", b, "tune")
		if err != nil {
			return
		}
		for _, p := range s.Params {
			if p.Kind != Categorical && !(p.Low <= p.High) {
				t.Fatalf("accepted a bad range %+v", p)
			}
			if p.Kind == Categorical && len(p.Choices) == 0 {
				t.Fatalf("accepted an empty choice %+v", p)
			}
			if p.Log && p.Low <= 0 {
				t.Fatalf("accepted a log range through zero %+v", p)
			}
		}
	})
}

// TestYAMLFlowRoundTrips: a choice written for --set reads back as the
// value it was (go-yaml's own encoder writes 1e-05, which reads back as a
// string).
func TestYAMLFlowRoundTrips(t *testing.T) {
	vals := []any{1e-05, 3.0, uint64(2), int64(-4), "a b", "1e-05", "yes", true, nil, 1e21,
		[]any{uint64(64), uint64(32)}, map[string]any{"name": "sgd", "lr": 1e-05}}
	for _, v := range vals {
		s := yamlFlow(v)
		var got any
		if err := yaml.Unmarshal([]byte("v: "+s), &got); err != nil {
			t.Fatalf("%#v -> %q: %v", v, s, err)
		}
		if back := got.(map[string]any)["v"]; !reflect.DeepEqual(back, v) {
			t.Errorf("%#v -> %q -> %#v", v, s, back)
		}
	}
}
