package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shenml/shen/metrics"
)

// wellFormed parses b as XML to the end and returns the element names seen.
func wellFormed(t *testing.T, what string, b []byte) map[string]int {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	seen := map[string]int{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v\n%s", what, err, b)
		}
		if se, ok := tok.(xml.StartElement); ok {
			seen[se.Name.Local]++
		}
	}
	if seen["svg"] != 1 {
		t.Fatalf("%s has %d <svg> elements", what, seen["svg"])
	}
	return seen
}

func sampleRecords() []Record {
	var recs []Record
	for e := 1; e <= 12; e++ {
		f := float64(e)
		recs = append(recs,
			Record{Epoch: e, Step: int64(100 * e), Split: SplitTrain, Loss: 1 / f, Metrics: map[string]float64{"accuracy": 1 - 0.5/f}, LR: 0.01},
			Record{Epoch: e, Step: int64(100 * e), Split: SplitVal, Loss: 1.1/f + 0.05, Metrics: map[string]float64{"accuracy": 0.95 - 0.5/f, "macro_f1": 0.9 - 0.5/f}})
	}
	recs[5].Loss = math.NaN() // a gap in the train curve
	recs = append(recs, Record{Epoch: 0, Split: SplitTest, Loss: 0.12345, Metrics: map[string]float64{"accuracy": 0.9321}})
	return recs
}

func TestLineChartSVG(t *testing.T) {
	loss, acc := LearningCurves(sampleRecords(), "accuracy")
	if len(loss.Series) != 2 || loss.Series[0].Name != SplitTrain || !loss.Series[1].Dashed || len(loss.Series[0].X) != 12 {
		t.Fatalf("loss chart series %+v", loss.Series)
	}
	if len(acc.Series) != 2 || acc.Title != "Accuracy" {
		t.Fatalf("accuracy chart %+v", acc)
	}
	for _, c := range []LineChart{loss, acc} {
		svg := c.SVG()
		seen := wellFormed(t, c.Title, svg)
		if seen["path"] != 2 || seen["circle"] != 24-boolInt(c.Title == "Loss") {
			t.Errorf("%s: %d paths, %d circles", c.Title, seen["path"], seen["circle"])
		}
		s := string(svg)
		for _, want := range []string{">train</text>", ">val</text>", ">epoch</text>", "stroke-dasharray", ">12</text>"} {
			if !strings.Contains(s, want) {
				t.Errorf("%s SVG lacks %q", c.Title, want)
			}
		}
	}
	// The NaN breaks the train loss path into two pieces.
	if s := string(loss.SVG()); strings.Count(s, `d="M`) != 2 || strings.Count(s, " M") != 1 {
		t.Errorf("NaN gap not drawn as a second subpath")
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestLineChartEdgeCases(t *testing.T) {
	tests := []LineChart{
		{},
		{Title: `<script>alert("x")</script> & more`, Series: []Series{{Name: "a<b>&\"c'", X: []float64{1}, Y: []float64{2}}}},
		{Series: []Series{{Name: "flat", X: []float64{1, 2, 3}, Y: []float64{5, 5, 5}}}},
		{Series: []Series{{Name: "nan", X: []float64{1, 2}, Y: []float64{math.NaN(), math.Inf(1)}}}},
		{Series: []Series{{Name: "tiny", X: []float64{0.1, 0.2}, Y: []float64{1e-7, 3e-7}}}},
		{Series: []Series{{Name: "short Y", X: []float64{1, 2, 3}, Y: []float64{1}}}},
	}
	for i, c := range tests {
		svg := c.SVG()
		wellFormed(t, "edge case", svg)
		if strings.Contains(string(svg), "<script>") || strings.Contains(string(svg), "NaN") {
			t.Errorf("case %d: unescaped or NaN output:\n%s", i, svg)
		}
	}
}

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   []float64
	}{
		{0, 1, []float64{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}},
		{0.93, 1.07, []float64{0.94, 0.96, 0.98, 1, 1.02, 1.04, 1.06}},
		{1, 12, []float64{2, 4, 6, 8, 10, 12}},
	}
	for _, tc := range tests {
		got, step := niceTicks(tc.lo, tc.hi, 5)
		if len(got) != len(tc.want) {
			t.Errorf("niceTicks(%v, %v) = %v (step %v), want %v", tc.lo, tc.hi, got, step, tc.want)
			continue
		}
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-12 {
				t.Errorf("niceTicks(%v, %v) = %v, want %v", tc.lo, tc.hi, got, tc.want)
				break
			}
		}
	}
	if got := formatTick(0.6000000000000001, 0.2); got != "0.6" {
		t.Errorf("formatTick = %q", got)
	}
}

func TestConfusionMatrixSVG(t *testing.T) {
	tests := []struct {
		name    string
		classes []string
	}{
		{"short names", []string{"cat", "dog", "<&>"}},
		{"long names rotate", []string{"a very long class name indeed", "another long one", "x"}},
		{"many classes", classNames(60)},
		{"empty", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cm := metrics.NewConfusionMatrix(tc.classes)
			for i := range cm.Counts {
				cm.Counts[i][i] = int64(10 + i)
				cm.Counts[i][(i+1)%len(cm.Counts)] += 3
			}
			svg := ConfusionMatrixSVG(cm, "Confusion <val>")
			seen := wellFormed(t, tc.name, svg)
			k := len(tc.classes)
			if seen["rect"] != k*k+2 {
				t.Errorf("%d rects, want %d cells + 2", seen["rect"], k*k)
			}
			s := string(svg)
			if k == 3 && (!strings.Contains(s, ">10</text>") || !strings.Contains(s, ">12</text>")) {
				t.Errorf("counts missing:\n%s", s)
			}
			if k == 60 && strings.Contains(s, ">10</text>") {
				t.Error("counts drawn in cells too small for them")
			}
			if strings.Contains(s, "<&>") || strings.Contains(s, "<val>") {
				t.Error("class name not escaped")
			}
		})
	}
}

func sampleSummary() RunSummary {
	m := metrics.NewClassificationMetrics([]string{"setosa", "versicolor", "virginica"})
	_ = m.AddProbs([]float32{
		0.9, 0.05, 0.05,
		0.1, 0.8, 0.1,
		0.2, 0.3, 0.5,
		0.1, 0.6, 0.3,
		0.05, 0.15, 0.8,
	}, []int{0, 1, 2, 2, 2})
	r := m.Result()
	return RunSummary{
		Title:          "iris <mlp>",
		Config:         map[string]string{"optimizer": "adam", "lr": "0.001", "batch_size": "32"},
		Dataset:        map[string]int{"train": 120, "val": 15, "test": 15},
		Records:        sampleRecords(),
		Classification: &r,
		Started:        time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		TrainingTime:   83 * time.Second,
	}
}

func TestRenderReport(t *testing.T) {
	s := sampleSummary()
	var buf bytes.Buffer
	if err := RenderReport(&buf, s); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	r := s.Classification
	for _, want := range []string{
		"<title>iris &lt;mlp&gt;</title>",
		"<th>batch_size</th><td>32</td>",
		"<td>train</td><td>120</td>",
		"training time 1:23",
		"started 2025-01-02 03:04:05 UTC",
		"<td>test</td><td>–</td><td>0.1235</td>", // final metrics row of the test split
		"<th>macro_f1</th>",
		"<td>versicolor</td><td>" + formatNum(r.PerClass[1].Precision) + "</td>",
		"<td>" + formatNum(r.Accuracy) + "</td><td>" + formatNum(r.MacroF1) + "</td>",
		formatNum(*r.ROCAUC),
		"Confusion matrix (val)",
		"<svg xmlns=\"http://www.w3.org/2000/svg\"",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if n := strings.Count(html, "<svg "); n != 3 {
		t.Errorf("%d inline SVGs, want 3", n)
	}
	// Regression-only report.
	buf.Reset()
	s.Classification = nil
	s.Regression = &metrics.RegressionReport{Samples: 9, MAE: 0.5, MSE: 0.25, RMSE: 0.5, R2: 0.875}
	if err := RenderReport(&buf, s); err != nil {
		t.Fatal(err)
	}
	if h := buf.String(); !strings.Contains(h, "<td>0.8750</td>") || strings.Count(h, "<svg ") != 2 {
		t.Errorf("regression report:\n%s", h)
	}
}

func TestWriteReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run", "report")
	if err := WriteReport(dir, sampleSummary()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{LossCurveSVG, MetricCurveSVG, ConfusionMatrixSVGFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("<?xml")) {
			t.Errorf("%s lacks the XML declaration", name)
		}
		wellFormed(t, name, b)
	}
	if _, err := os.Stat(filepath.Join(dir, ReportHTML)); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 4 {
		t.Errorf("%d files in the report folder (temporary files left?)", len(ents))
	}
}

func classNames(k int) []string {
	c := make([]string, k)
	for i := range c {
		c[i] = fmt.Sprintf("c%d", i)
	}
	return c
}
