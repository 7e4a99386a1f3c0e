package train

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/predict"
	"github.com/shenml/shen/report"
)

// trainIris runs testdata/configs/iris.yaml into a temporary directory.
func trainIris(t *testing.T) (*Result, *Config) {
	t.Helper()
	cfg, err := LoadConfig(filepath.Join("..", "testdata", "configs", "iris.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), cfg, t.TempDir(), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res, cfg
}

func TestRunIrisEndToEnd(t *testing.T) {
	res, cfg := trainIris(t)
	if res.Test == nil || res.Test.Report.Accuracy < 0.9 {
		t.Fatalf("test evaluation %+v, want accuracy >= 0.9", res.Test)
	}
	if res.Sizes[report.SplitTrain]+res.Sizes[report.SplitVal]+res.Sizes[report.SplitTest] != 150 {
		t.Errorf("split sizes %v", res.Sizes)
	}
	for _, f := range []string{"model/model.json", "model/weights.safetensors", "model/profile.json", RunLogFile, report.ReportHTML, report.LossCurveSVG, report.ConfusionMatrixSVGFile, "checkpoints/" + CheckpointFile} {
		if _, err := os.Stat(filepath.Join(res.Dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	m, err := model.Load(res.ModelDir)
	if err != nil {
		t.Fatal(err)
	}
	s := m.Spec
	if s.Task != Classification || len(s.Labels) != 3 || s.Labels[0] != "setosa" || s.Preprocessing == nil || m.Profile == nil || m.Profile.Rows != res.Sizes[report.SplitTrain] {
		t.Errorf("spec %+v", s)
	}
	if s.Training.ConfigHash == "" || len(s.Training.DataHash) != 64 || s.Training.Seed != 1 || s.Training.Metrics["test_accuracy"] != res.Test.Report.Accuracy {
		t.Errorf("training metadata %+v", s.Training)
	}
	recs, err := ReadRunLog(filepath.Join(res.Dir, RunLogFile))
	if err != nil {
		t.Fatal(err)
	}
	if last, ok := report.LastRecord(recs, report.SplitTest); !ok || last.Metrics["accuracy"] != res.Test.Report.Accuracy {
		t.Errorf("run log has no matching test record: %+v", last)
	}
	// Running the same config again in the same directory resumes from
	// the final checkpoint instead of training again.
	res2, err := Run(context.Background(), cfg, res.Dir, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res2.History.ResumedFrom != res.History.Steps || res2.Test.Loss != res.Test.Loss {
		t.Errorf("rerun resumed from %d (want %d), test loss %v (want %v)", res2.History.ResumedFrom, res.History.Steps, res2.Test.Loss, res.Test.Loss)
	}
	// A changed config refuses the old checkpoints.
	cfg.Raw = append(cfg.Raw, '\n')
	if _, err := Run(context.Background(), cfg, res.Dir, RunOptions{}); err == nil {
		t.Error("checkpoints of another config were accepted")
	}
}

func TestArtifactRoundTrip(t *testing.T) {
	res, cfg := trainIris(t)
	f, err := predict.ReadTable(cfg.DataPath(cfg.Data.Path))
	if err != nil {
		t.Fatal(err)
	}
	// The in-memory model and pipeline against the saved and reloaded ones.
	pr1 := predictor(t, res.Model)
	x1, _, err := pr1.FrameFeatures(f, "target")
	n := f.NumRows()
	if err != nil {
		t.Fatal(err)
	}
	p1, err := pr1.Tensor(x1, n)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(res.ModelDir)
	if err != nil {
		t.Fatal(err)
	}
	pr2 := predictor(t, m)
	x2, _, err := pr2.FrameFeatures(f, "target")
	if err != nil {
		t.Fatal(err)
	}
	for i := range x1 {
		if math.Float32bits(x1[i]) != math.Float32bits(x2[i]) {
			t.Fatalf("reloaded preprocessing: feature %d is %v, was %v", i, x2[i], x1[i])
		}
	}
	p2, err := pr2.Tensor(x2, n)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p1.Probs {
		if math.Float32bits(p1.Probs[i]) != math.Float32bits(p2.Probs[i]) {
			t.Fatalf("reloaded model: probability %d is %v, was %v", i, p2.Probs[i], p1.Probs[i])
		}
	}
	// One JSON row through the reloaded pipeline gives the same features.
	row, err := m.Spec.Preprocessing.TransformRow(map[string]any{"f0": f.Col("f0").Num[0], "f1": f.Col("f1").Num[0], "f2": f.Col("f2").Num[0], "f3": f.Col("f3").Num[0]})
	if err != nil {
		t.Fatal(err)
	}
	for j, v := range row {
		if v != x1[j] {
			t.Fatalf("TransformRow feature %d: %v, Transform gave %v", j, v, x1[j])
		}
	}
	ev, err := pr2.EvaluateFrame(f, "target")
	if err != nil {
		t.Fatal(err)
	}
	if ev.Samples != 150 || ev.Report.Accuracy < 0.9 {
		t.Errorf("evaluation on the whole file: %d samples, accuracy %v", ev.Samples, ev.Report.Accuracy)
	}
	if pr2.LabelColumn(f) != "target" {
		t.Errorf("LabelColumn = %q", pr2.LabelColumn(f))
	}
}

func TestReadTableSklearn(t *testing.T) {
	f, err := predict.ReadTable(filepath.Join("..", "testdata", "configs", "iris.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if f.NumRows() != 150 || f.Col("target") == nil || f.Col("f3") == nil {
		t.Errorf("read %d rows, columns %v", f.NumRows(), f.Names())
	}
	_ = data.Numeric
}

// predictor is the inference layer over m, failing the test if it cannot
// be built.
func predictor(t testing.TB, m *model.Model) *predict.Predictor {
	t.Helper()
	p, err := predict.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// resultN is the number of answers in r (0 for nil).
func resultN(r *predict.Result) int {
	if r == nil {
		return 0
	}
	return r.N
}

// A loss that overflows because an input holds huge values names that
// input instead of advising a lower learning rate.
func TestHugeInputNamedWhenLossOverflows(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("small,big,label\n")
	for i := range 200 {
		fmt.Fprintf(&b, "%d,%g,%d\n", i%7, 1e36*float64(1+i%5), i%2)
	}
	if err := os.WriteFile(filepath.Join(dir, "huge.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := `name: huge
data: {path: huge.csv, target: label}
preprocessing: {numeric: none}
model: {kind: mlp, hidden: [8]}
train: {epochs: 3, batch_size: 16, optimizer: {name: sgd, lr: 0.1}}
`
	if err := os.WriteFile(filepath.Join(dir, "huge.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(filepath.Join(dir, "huge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), c, filepath.Join(dir, "run"), RunOptions{})
	if err == nil || !strings.Contains(err.Error(), `input "big" holds`) || strings.Contains(err.Error(), "lower the learning rate") {
		t.Errorf("error %v, want one naming the input \"big\"", err)
	}
}

// A date column becomes calendar features (detected, not one-hot
// encoded), saved in the artifact so prediction applies them to raw
// dates.
func TestRunDateColumn(t *testing.T) {
	dir := t.TempDir()
	cfg, err := ParseConfig(filepath.Join(dir, "w.yaml"), []byte(`name: weather
task: regression
data: {path: `+filepath.Join(wd(t), "..", "testdata", "data", "weather_daily.csv")+`, target: temp_max}
model: {kind: mlp, hidden: [16]}
train: {epochs: 3}
`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), cfg, filepath.Join(dir, "run"), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, s := range res.Model.Spec.Preprocessing.Steps {
		kinds = append(kinds, s.Kind())
	}
	if !slices.Contains(kinds, "dates") || res.Model.Spec.Architecture.Input[0] > 20 {
		t.Fatalf("steps %v, %v inputs: the date was not turned into calendar features", kinds, res.Model.Spec.Architecture.Input)
	}
	p := predictor(t, res.Model)
	r, err := p.Records([]map[string]any{{"date": "2024-07-01", "humidity": 60.0, "wind": 10.0}})
	if err != nil || r.N != 1 {
		t.Fatalf("predicting from a raw date: %v", err)
	}
}

func wd(t *testing.T) string {
	d, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Missing values the preprocessing fills are counted per column in the
// run's cleaning report: imputation is never silent.
func TestFilledValuesReported(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("a,b,y\n")
	for i := range 30 {
		a, c := fmt.Sprint(i), []string{"x", "y"}[i%2]
		if i%10 == 3 {
			a = ""
		}
		if i == 7 {
			c = ""
		}
		fmt.Fprintf(&b, "%s,%s,%d\n", a, c, i%2)
	}
	os.WriteFile(filepath.Join(dir, "m.csv"), []byte(b.String()), 0o644)
	cfg, err := ParseConfig(filepath.Join(dir, "m.yaml"), []byte("data: {path: m.csv, target: y}\nmodel: {kind: mlp, hidden: [4]}\ntrain: {epochs: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	res, err := Run(context.Background(), cfg, filepath.Join(dir, "run"), RunOptions{Out: &log})
	if err != nil {
		t.Fatal(err)
	}
	f := res.Clean.Filled
	if f["a"].Count != 3 || f["b"].Count != 1 || f["b"].Strategy != data.Mode {
		t.Errorf("filled counts %+v, want 3 in a and 1 in b (mode)", f)
	}
	if !strings.Contains(log.String(), "filled 3 missing values of a") {
		t.Errorf("the log does not say what was filled:\n%s", log.String())
	}
	js, _ := os.ReadFile(filepath.Join(dir, "run", CleanFile))
	if !strings.Contains(string(js), "filled_by_preprocessing") {
		t.Errorf("%s lacks the filled counts: %s", CleanFile, js)
	}
}
