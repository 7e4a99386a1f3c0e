package train

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/metrics"
	"github.com/shenml/shen/model"
)

// writeFile writes s to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, s string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestWindowDifferenceBeatsRaw trains the same GRU on a trending seasonal
// series twice: on raw values, whose test months lie above anything seen
// in training, and with window difference (and log); the differenced
// model must beat the raw one and the naive and seasonal-naive
// forecasts. It also checks that the artifact keeps the transform and
// that evaluate and predict invert it exactly as training scored it.
func TestWindowDifferenceBeatsRaw(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("t,v\n")
	for i := range 120 {
		fmt.Fprintf(&b, "%d,%.4f\n", i, 20+0.6*float64(i)+4*math.Sin(2*math.Pi*float64(i)/12))
	}
	csv := writeFile(t, dir, "s.csv", b.String())
	run := func(window string) (*Result, *model.Model) {
		cfg, err := ParseConfig(filepath.Join(dir, "c.yaml"), []byte(`task: regression
data:
  path: s.csv
  target: v
  features: [{name: v}]
  window: {length: 12, target: next, season: 12`+window+`}
  split: {val: 0.1, test: 0.2}
model: {kind: gru, hidden_size: 8}
train: {epochs: 40, batch_size: 16, optimizer: {lr: 0.01}}
`))
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(context.Background(), cfg, filepath.Join(dir, "run"+strings.NewReplacer(",", "", " ", "", ":", "").Replace(window)), RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		m, err := model.Load(res.ModelDir)
		if err != nil {
			t.Fatal(err)
		}
		return res, m
	}
	raw, _ := run("")
	diff, m := run(", log: true, difference: true")
	rawRMSE, diffRMSE := raw.Test.Metrics["rmse"], diff.Test.Metrics["rmse"]
	naive, seasonal := diff.Test.Metrics["naive_rmse"], diff.Test.Metrics["seasonal_naive_rmse"]
	t.Logf("test rmse: raw %.3f, log+difference %.3f, naive %.3f, seasonal naive %.3f", rawRMSE, diffRMSE, naive, seasonal)
	if !(diffRMSE < rawRMSE && diffRMSE < naive && diffRMSE < seasonal) {
		t.Errorf("log+difference rmse %.3f should beat raw %.3f, naive %.3f and seasonal naive %.3f", diffRMSE, rawRMSE, naive, seasonal)
	}
	// Seasonal naive by hand: test windows forecast rows 96..119.
	var se float64
	for range 24 {
		e := 0.6 * 12 // y(i) - y(i-12): the trend over a year; the season cancels
		se += e * e
	}
	if want := math.Sqrt(se / 24); math.Abs(seasonal-want) > 1e-3 {
		t.Errorf("seasonal naive rmse %v, want %v", seasonal, want)
	}
	if w := m.Spec.Window; w == nil || !w.Log || !w.Difference || w.Column != "v" {
		t.Fatalf("artifact window %+v", m.Spec.Window)
	}
	// model.json spells the transform out.
	js, err := os.ReadFile(filepath.Join(diff.ModelDir, model.SpecFile))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Window map[string]any `json:"window"`
	}
	if err := json.Unmarshal(js, &spec); err != nil || spec.Window["log"] != true || spec.Window["difference"] != true {
		t.Errorf("model.json window %v (%v)", spec.Window, err)
	}
	// evaluate on the rows the test windows read (from row 95-12, so the
	// first window's difference exists) gives the test metrics exactly.
	f, err := data.ReadCSV(csv, data.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tail := f.Take(seq(120)[96-13:])
	ev, err := predictor(t, m).EvaluateFrame(tail, "v")
	if err != nil {
		t.Fatal(err)
	}
	if ev.Samples != 24 || math.Abs(ev.Metrics["rmse"]-diffRMSE) > 1e-4*diffRMSE {
		t.Errorf("evaluate: %d samples, rmse %v; training's test rmse %v", ev.Samples, ev.Metrics["rmse"], diffRMSE)
	}
	// predict gives the same forecasts in the target's units, plus one past
	// the end.
	p, err := predictor(t, m).Frame(tail, "v")
	n := resultN(p)
	if err != nil {
		t.Fatal(err)
	}
	if n != 25 {
		t.Fatalf("%d forecasts, want 25", n)
	}
	var pse float64
	v := f.Col("v").Num
	for i := range 24 {
		e := float64(p.Values[i]) - v[96+i]
		pse += e * e
	}
	if got := math.Sqrt(pse / 24); math.Abs(got-diffRMSE) > 1e-4*diffRMSE {
		t.Errorf("predict rmse %v, training's test rmse %v", got, diffRMSE)
	}
	if last := float64(p.Values[24]); math.Abs(last-(20+0.6*120)) > 10 {
		t.Errorf("forecast past the end %v, the series would be near %v", last, 20+0.6*120)
	}
	// The transform needs the target's values at predict time.
	if _, err := predictor(t, m).Frame(tail.Drop("v"), ""); err == nil {
		t.Error("predict without the target column: no error")
	}
	// A non-positive value cannot take the log.
	bad := tail.Clone()
	bad.Col("v").Num[3] = 0
	if _, err := predictor(t, m).Frame(bad, "v"); err == nil || !strings.Contains(err.Error(), "not positive") {
		t.Errorf("log of 0: %v", err)
	}
}

// TestWindowSeries checks the transform and its inverse by hand.
func TestWindowSeries(t *testing.T) {
	w := &model.Window{Column: "y", Target: "next", Log: true, Difference: true}
	s, err := w.Series([]float64{1, math.E, math.E * math.E})
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(s[0]) || math.Abs(s[1]-1) > 1e-12 || math.Abs(s[2]-1) > 1e-12 {
		t.Errorf("series %v, want [NaN 1 1]", s)
	}
	if got := w.Invert(1, math.E); math.Abs(got-math.E*math.E) > 1e-9 {
		t.Errorf("invert %v, want e^2", got)
	}
	d := &model.Window{Column: "y", Target: "next", Difference: true}
	if got := d.Invert(2.5, 10); got != 12.5 {
		t.Errorf("difference invert %v, want 12.5", got)
	}
}

// TestBestF1Threshold checks the threshold choice by hand.
func TestBestF1Threshold(t *testing.T) {
	// Sorted: 0.9(1) 0.8(1) 0.7(0) 0.6(1) 0.2(0) 0.1(0). Cuts: after 0.9
	// F1 2/4=0.5... after 0.8 F1 4/5=0.8, after 0.6 F1 6/7=0.857.
	tc, err := metrics.BestF1Threshold([]float32{0.1, 0.9, 0.7, 0.2, 0.8, 0.6}, []int{0, 1, 0, 0, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(tc.Threshold-0.4) > 1e-6 || math.Abs(tc.F1-6.0/7) > 1e-9 || tc.TP != 3 || tc.FP != 1 || tc.Recall != 1 {
		t.Errorf("%+v, want threshold 0.4 (between 0.6 and 0.2), F1 6/7", tc)
	}
	// Equal scores are never split.
	tc, _ = metrics.BestF1Threshold([]float32{0.5, 0.5, 0.3}, []int{1, 0, 0})
	if math.Abs(tc.Threshold-0.4) > 1e-6 {
		t.Errorf("ties: threshold %v, want 0.4", tc.Threshold)
	}
	// No positives: the lowest threshold with no false alarm.
	tc, _ = metrics.BestF1Threshold([]float32{0.2, 0.7}, []int{0, 0})
	if !(tc.Threshold > 0.7 && tc.Threshold < 0.7001) || tc.F1 != 0 || tc.FP != 0 {
		t.Errorf("no positives: %+v", tc)
	}
	if _, err := metrics.BestF1Threshold([]float32{0.2}, []int{2}); err == nil {
		t.Error("label 2: no error")
	}
}

// TestClassWeightsAndThreshold trains a binary window classifier on
// imbalanced classes with balanced weights and an auto threshold, and
// checks the artifact keeps the threshold and evaluate and predict use it.
func TestClassWeightsAndThreshold(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("x,label\n")
	for i := range 600 {
		// Rare events: x jumps for a few rows every 50.
		x, y := math.Sin(float64(i)/3), 0
		if i%50 >= 45 {
			x, y = x+2, 1
		}
		fmt.Fprintf(&b, "%.4f,%d\n", x, y)
	}
	csv := writeFile(t, dir, "e.csv", b.String())
	cfg, err := ParseConfig(filepath.Join(dir, "c.yaml"), []byte(`data:
  path: e.csv
  target: label
  features: [{name: x}]
  window: {length: 4}
  split: {val: 0.25, test: 0.25}
model: {kind: lstm, hidden_size: 8}
train: {epochs: 4, batch_size: 32, optimizer: {lr: 0.01}, class_weights: balanced, threshold: auto}
`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), cfg, filepath.Join(dir, "run"), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(res.ModelDir)
	if err != nil {
		t.Fatal(err)
	}
	th := m.Spec.Threshold
	if th == nil || !(*th > 0 && *th < 1) || m.Spec.Training.Metrics["threshold"] != *th {
		t.Fatalf("artifact threshold %v, metrics %v", th, m.Spec.Training.Metrics)
	}
	for _, k := range []string{"test_precision", "test_recall", "test_f1"} {
		if _, ok := m.Spec.Training.Metrics[k]; !ok {
			t.Errorf("no %s in %v", k, m.Spec.Training.Metrics)
		}
	}
	// Balanced weights: n / (2 · count); 6 of every 50 windows... counted
	// from the training labels.
	w, err := classWeights(cfg, &prepared{classes: []string{"0", "1"}, trainY: []int64{0, 0, 0, 1}})
	if err != nil || w[0] != float32(4.0/6) || w[1] != 2 {
		t.Errorf("balanced weights %v (%v), want [0.667 2]", w, err)
	}
	// predict: class 1 exactly when p_1 >= threshold.
	f, err := data.ReadCSV(csv, data.CSVOptions{Types: map[string]data.ColumnType{"label": data.Categorical}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := predictor(t, m).Frame(f, "label")
	n := resultN(p)
	if err != nil {
		t.Fatal(err)
	}
	var tp, fp, fn int
	for i := range n {
		want := 0
		if float64(p.Probs[2*i+1]) >= *th {
			want = 1
		}
		if p.Class[i] != want {
			t.Fatalf("window %d: class %d, p_1 %v, threshold %v", i, p.Class[i], p.Probs[2*i+1], *th)
		}
		y := f.Col("label").Value(i + 3)
		switch {
		case want == 1 && y == "1":
			tp++
		case want == 1:
			fp++
		case y == "1":
			fn++
		}
	}
	// evaluate scores with the same threshold.
	ev, err := predictor(t, m).EvaluateFrame(f, "label")
	if err != nil {
		t.Fatal(err)
	}
	wantP, wantR := float64(tp)/float64(max(tp+fp, 1)), float64(tp)/float64(max(tp+fn, 1))
	if math.Abs(ev.Metrics["precision"]-wantP) > 1e-9 || math.Abs(ev.Metrics["recall"]-wantR) > 1e-9 {
		t.Errorf("evaluate precision %v recall %v; predict gives %v %v", ev.Metrics["precision"], ev.Metrics["recall"], wantP, wantR)
	}
	// A stored threshold must be in (0, 1) and only on a binary classifier.
	js, err := os.ReadFile(filepath.Join(res.ModelDir, model.SpecFile))
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(js), fmt.Sprintf(`"threshold": %v`, strings.TrimSpace(string(mustJSON(t, *th)))), `"threshold": 1.5`, 1)
	if bad == string(js) {
		t.Fatal("threshold not found in model.json")
	}
	if err := os.WriteFile(filepath.Join(res.ModelDir, model.SpecFile), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := model.Load(res.ModelDir); err == nil || !strings.Contains(err.Error(), "threshold must be in (0, 1)") {
		t.Errorf("threshold 1.5: %v", err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
