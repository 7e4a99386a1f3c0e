package train

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/model"
)

// TestRunWindowsForecast trains a GRU forecaster on a short sine series
// and checks the time split, the artifact round trip and WindowFeatures.
func TestRunWindowsForecast(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("t,v\n")
	for i := range 120 {
		fmt.Fprintf(&b, "%d,%.4f\n", i, 10+5*math.Sin(float64(i)/4))
	}
	csv := filepath.Join(dir, "s.csv")
	if err := os.WriteFile(csv, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(filepath.Join(dir, "c.yaml"), []byte(`task: regression
data:
  path: s.csv
  target: v
  features: [{name: v}]
  window: {length: 8, target: next}
  split: {val: 0.1, test: 0.2}
model: {kind: gru, hidden_size: 8}
train: {epochs: 3, batch_size: 16, optimizer: {lr: 0.01}}
`))
	if err != nil {
		t.Fatal(err)
	}
	// The split is by time: 84 training rows give windows forecasting rows
	// 8..83; rows 84..95 validate and 96..119 test.
	f, err := data.ReadCSV(csv, data.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	yf := make([]float32, f.NumRows())
	for i, v := range f.Col("v").Num {
		yf[i] = float32(v)
	}
	p, err := prepareWindows(cfg, &prepared{}, f, []string{"v"}, nil, yf)
	if err != nil {
		t.Fatal(err)
	}
	if p.trainN != 76 || p.valN != 12 || p.testN != 24 || p.rescale == nil {
		t.Fatalf("windows %d/%d/%d, rescale %v; want 76/12/24", p.trainN, p.valN, p.testN, p.rescale)
	}
	res, err := Run(context.Background(), cfg, filepath.Join(dir, "run"), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(res.ModelDir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Spec.Window == nil || m.Spec.Window.Length != 8 || !m.Spec.Architecture.Rescale {
		t.Fatalf("spec window %+v", m.Spec.Window)
	}
	pr := predictor(t, m)
	x, ws, err := pr.Windows(f)
	if err != nil {
		t.Fatal(err)
	}
	n, rows := len(ws), make([]int, len(ws))
	for i, w := range ws {
		rows[i] = w.Label
	}
	if n != 113 || rows[0] != 8 || rows[n-1] != -1 || len(x) != n*8 {
		t.Fatalf("%d windows, label rows %d..%d", n, rows[0], rows[n-1])
	}
	ev, err := pr.EvaluateFrame(f, pr.LabelColumn(f))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Samples != 112 || ev.Metrics["rmse"] > 5 {
		t.Errorf("evaluation on %d windows, rmse %v (series std 3.5)", ev.Samples, ev.Metrics["rmse"])
	}
}
