package train

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/tensor"
)

func TestParseConfigPrecision(t *testing.T) {
	name := filepath.Join("..", "testdata", "configs", "run.yaml")
	for _, c := range []struct {
		add  string
		want tensor.Precision
	}{{"", tensor.FP32}, {"  precision: fp32\n", tensor.FP32}, {"  precision: bf16\n", tensor.BF16}} {
		cfg, err := ParseConfig(name, []byte(base+c.add))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Train.precision != c.want || cfg.Train.Precision != c.want.String() {
			t.Errorf("%q: precision %v (%q), want %v", c.add, cfg.Train.precision, cfg.Train.Precision, c.want)
		}
	}
	_, err := ParseConfig(name, []byte(base+"  precision: fp16\n"))
	want := `run.yaml:11: train.precision: must be fp32 or bf16, got "fp16"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("precision fp16: error %v, want %q", err, want)
	}
}

// TestRunBF16 trains iris with train.precision: bf16: the run says once
// how this CPU runs bf16, the artifact records the precision, and the
// model still learns.
func TestRunBF16(t *testing.T) {
	cfg, err := LoadConfigWith(filepath.Join("..", "testdata", "configs", "iris.yaml"), []string{"train.precision=bf16", "train.epochs=20"})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := Run(context.Background(), cfg, t.TempDir(), RunOptions{Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	say := "precision: bf16 is emulated on this CPU"
	if kernel.HasBF16() {
		say = "precision: bf16 products on this CPU's " + kernel.BF16Name()
	}
	if n := strings.Count(out.String(), "precision: "); n != 1 || !strings.Contains(out.String(), say) {
		t.Errorf("the run said %d precision lines, want one starting %q:\n%s", n, say, out.String())
	}
	m, err := model.Load(res.ModelDir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Spec.Training.Precision != "bf16" {
		t.Errorf("artifact training precision %q, want bf16", m.Spec.Training.Precision)
	}
	if res.Test == nil || res.Test.Report.Accuracy < 0.85 {
		t.Errorf("bf16 iris test evaluation %+v, want accuracy >= 0.85", res.Test)
	}
}
