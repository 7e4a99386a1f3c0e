package train

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseConfigWithOverrides(t *testing.T) {
	name := filepath.Join("..", "testdata", "configs", "run.yaml")
	cfg, err := ParseConfigWith(name, []byte(base), []string{
		"train.optimizer.lr=0.003",
		"model.hidden=[64, 32]",
		"train.optimizer={name: sgd, lr: 0.2, momentum: 0.9}",
		"data.split.val=0.25",
		"train.seed=7",
		"model.dropout=0.1",
		"name=renamed",
		"preprocessing.features.f0=[log, standardize]",
	})
	if err != nil {
		t.Fatal(err)
	}
	if o := cfg.Train.Optimizer; o.Name != "sgd" || o.LR != 0.2 || o.Momentum != 0.9 {
		t.Errorf("optimizer = %+v", o)
	}
	if !slices.Equal(cfg.Model.Hidden, []int{64, 32}) || *cfg.Data.Split.Val != 0.25 || *cfg.Train.Seed != 7 || cfg.Model.Dropout != float32(0.1) || cfg.Name != "renamed" {
		t.Errorf("overrides not applied: hidden %v val %v seed %v dropout %v name %v", cfg.Model.Hidden, *cfg.Data.Split.Val, *cfg.Train.Seed, cfg.Model.Dropout, cfg.Name)
	}
	if !slices.Equal(cfg.Preprocessing.Features["f0"], []string{"log", "standardize"}) {
		t.Errorf("map override: %v", cfg.Preprocessing.Features)
	}
	plain, err := ParseConfig(name, []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if string(plain.Raw) == string(cfg.Raw) || !strings.Contains(string(cfg.Raw), `"train.seed=7"`) {
		t.Errorf("overrides must change Raw (the config hash): %q", cfg.Raw)
	}
	// The last of two overrides of one key wins, and an index reaches into a list.
	cfg, err = ParseConfigWith(name, []byte(base), []string{"model.hidden=[4, 5]", "model.hidden[1]=9", "data.window.length=3", "data.window=null"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Model.Hidden, []int{4, 9}) || cfg.Data.Window != nil {
		t.Errorf("hidden %v window %v", cfg.Model.Hidden, cfg.Data.Window)
	}
}

func TestParseConfigWithErrors(t *testing.T) {
	name := filepath.Join("..", "testdata", "configs", "run.yaml")
	cases := []struct{ set, want string }{
		{"train.optimizer.lrr=0.1", "run.yaml (--set train.optimizer.lrr=0.1): train.optimizer.lrr: unknown key (did you mean train.optimizer.lr?)"},
		{"trian.epochs=3", "unknown key (did you mean train?)"},
		{"train.epochs=two", "train.epochs: want an integer, got \"two\""},
		{"train.epochs=0", "run.yaml (--set train.epochs=0): train.epochs: must be positive"},
		{"train.optimizer.lr=0", "train.optimizer.lr: must be positive, got 0"},
		{"model.dropout=1.5", "model.dropout: must be in [0, 1)"},
		{"model.hidden[3]=4", "index 3 is past the end of model.hidden (1 items)"},
		{"model.hidden.x=4", "model.hidden has no key x"},
		{"train.epochs", "want KEY=VALUE"},
		{"=3", "want KEY=VALUE"},
		{"train.optimizer={name: sgd, lrate: 1}", "train.optimizer: value"},
		{"model.hidden[x]=1", "bad list index"},
		{"train..epochs=1", "empty name"},
		{"model.hidden=[8, -2]", "(--set model.hidden=[8, -2]): model.hidden[1]: must be positive"},
	}
	for _, c := range cases {
		_, err := ParseConfigWith(name, []byte(base), []string{c.set})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--set %s: got %v, want %q", c.set, err, c.want)
		}
	}
}

func TestParseConfigAcceptsTuneSection(t *testing.T) {
	name := filepath.Join("..", "testdata", "configs", "run.yaml")
	_, err := ParseConfig(name, []byte(base+"tune:\n  trials: 3\n  parameters:\n    train.optimizer.lr: {space: loguniform, lower: 0.001, upper: 0.1}\n"))
	if err != nil {
		t.Fatal(err)
	}
}

func FuzzParseOverride(f *testing.F) {
	for _, s := range []string{"train.optimizer.lr=0.1", "model.hidden[0]=3", "a.b[1][2].c=[1, 2]", "x", "=", "data.features[9].type=numeric", "train.optimizer={name: sgd}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name := filepath.Join("..", "testdata", "configs", "run.yaml")
		cfg, err := ParseConfigWith(name, []byte(base), []string{s})
		if err == nil && cfg == nil {
			t.Fatal("nil config without an error")
		}
	})
}

// TestFitOnEpochStops checks the per-epoch hook shen tune prunes with:
// it sees every epoch's validation metrics, and its error ends Fit at once.
func TestFitOnEpochStops(t *testing.T) {
	o := setup(t, 1, "")
	var seen []int
	stop := errors.New("pruned")
	o.OnEpoch = func(r EpochResult) error {
		if r.Val["accuracy"] == 0 && r.Val["macro_f1"] == 0 {
			t.Errorf("epoch %d: no validation metrics: %v", r.Epoch, r.Val)
		}
		seen = append(seen, r.Epoch)
		if r.Epoch == 2 {
			return stop
		}
		return nil
	}
	h, err := Fit(context.Background(), o)
	if !errors.Is(err, stop) || !slices.Equal(seen, []int{1, 2}) || h == nil {
		t.Fatalf("err %v, epochs seen %v", err, seen)
	}
}
