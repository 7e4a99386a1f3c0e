package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
)

const tol = 1e-9

type goldenClassification struct {
	Name      string     `json:"name"`
	K         int        `json:"k"`
	Labels    []int      `json:"labels"`
	Pred      []int      `json:"pred"`
	Probs     []float32  `json:"probs"`
	Scores    []float32  `json:"scores"`
	Accuracy  float64    `json:"accuracy"`
	Precision []float64  `json:"precision"`
	Recall    []float64  `json:"recall"`
	F1        []float64  `json:"f1"`
	Support   []int64    `json:"support"`
	Confusion [][]int64  `json:"confusion"`
	Macro     [3]float64 `json:"macro"`
	Weighted  [3]float64 `json:"weighted"`
	LogLoss   *float64   `json:"log_loss"`
	ROCAUC    *float64   `json:"roc_auc"`
	ClassAUC  []float64  `json:"class_auc"`
}

type goldenRegression struct {
	Name   string    `json:"name"`
	Target []float64 `json:"target"`
	Pred   []float64 `json:"pred"`
	MAE    float64   `json:"mae"`
	MSE    float64   `json:"mse"`
	RMSE   float64   `json:"rmse"`
	R2     float64   `json:"r2"`
}

type goldenMetrics struct {
	Sklearn        string                 `json:"sklearn"`
	Classification []goldenClassification `json:"classification"`
	Regression     []goldenRegression     `json:"regression"`
}

func loadGolden(t *testing.T) goldenMetrics {
	t.Helper()
	b, err := os.ReadFile("../testdata/metrics/metrics.json")
	if err != nil {
		t.Fatal(err)
	}
	var g goldenMetrics
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Classification) == 0 || len(g.Regression) == 0 {
		t.Fatal("metrics.json has no cases")
	}
	return g
}

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.17g, sklearn %.17g (diff %.3g)", what, got, want, got-want)
	}
}

func classNames(k int) []string {
	c := make([]string, k)
	for i := range c {
		c[i] = fmt.Sprintf("c%d", i)
	}
	return c
}

func checkReport(t *testing.T, g goldenClassification, r ClassificationReport) {
	t.Helper()
	if r.Samples != int64(len(g.Labels)) {
		t.Errorf("samples %d, want %d", r.Samples, len(g.Labels))
	}
	near(t, "accuracy", r.Accuracy, g.Accuracy)
	for c := range g.K {
		pc := r.PerClass[c]
		near(t, fmt.Sprintf("precision[%d]", c), pc.Precision, g.Precision[c])
		near(t, fmt.Sprintf("recall[%d]", c), pc.Recall, g.Recall[c])
		near(t, fmt.Sprintf("f1[%d]", c), pc.F1, g.F1[c])
		if pc.Support != g.Support[c] {
			t.Errorf("support[%d] = %d, want %d", c, pc.Support, g.Support[c])
		}
		for p := range g.K {
			if r.Confusion.Counts[c][p] != g.Confusion[c][p] {
				t.Errorf("confusion[%d][%d] = %d, want %d", c, p, r.Confusion.Counts[c][p], g.Confusion[c][p])
			}
		}
		if g.ClassAUC != nil {
			if pc.AUC == nil {
				t.Errorf("class %d AUC missing", c)
			} else {
				near(t, fmt.Sprintf("auc[%d]", c), *pc.AUC, g.ClassAUC[c])
			}
		}
	}
	near(t, "macro precision", r.MacroPrecision, g.Macro[0])
	near(t, "macro recall", r.MacroRecall, g.Macro[1])
	near(t, "macro f1", r.MacroF1, g.Macro[2])
	near(t, "weighted precision", r.WeightedPrecision, g.Weighted[0])
	near(t, "weighted recall", r.WeightedRecall, g.Weighted[1])
	near(t, "weighted f1", r.WeightedF1, g.Weighted[2])
	if (r.LogLoss == nil) != (g.LogLoss == nil) {
		t.Errorf("log loss present %v, want %v", r.LogLoss != nil, g.LogLoss != nil)
	} else if g.LogLoss != nil {
		near(t, "log loss", *r.LogLoss, *g.LogLoss)
	}
	if (r.ROCAUC == nil) != (g.ROCAUC == nil) {
		t.Errorf("roc auc present %v, want %v", r.ROCAUC != nil, g.ROCAUC != nil)
	} else if g.ROCAUC != nil {
		near(t, "roc auc", *r.ROCAUC, *g.ROCAUC)
	}
}

// TestClassificationGolden feeds each sklearn case in uneven batches and
// compares every number to sklearn's.
func TestClassificationGolden(t *testing.T) {
	g := loadGolden(t)
	for _, c := range g.Classification {
		t.Run(c.Name, func(t *testing.T) {
			m := NewClassificationMetrics(classNames(c.K))
			n := len(c.Labels)
			for lo, bs := 0, 1; lo < n; lo, bs = lo+bs, bs*2+1 {
				hi := min(lo+bs, n)
				var err error
				if c.Probs != nil {
					err = m.AddProbs(c.Probs[lo*c.K:hi*c.K], c.Labels[lo:hi])
				} else {
					err = m.Add(c.Pred[lo:hi], c.Labels[lo:hi])
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			r := m.Result()
			checkReport(t, c, r)
			near(t, "Accuracy()", Accuracy(c.Pred, c.Labels), c.Accuracy)

			// The JSON form has no NaN and round-trips.
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			var back ClassificationReport
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			checkReport(t, c, back)

			// Reset gives an empty accumulator that works again.
			m.Reset()
			if e := m.Result(); e.Samples != 0 || e.Accuracy != 0 || e.LogLoss != nil || e.ROCAUC != nil {
				t.Errorf("after Reset: %+v", e)
			}
			if c.Probs != nil {
				if err := m.AddProbs(c.Probs, c.Labels); err != nil {
					t.Fatal(err)
				}
				checkReport(t, c, m.Result())

				ll, err := LogLoss(c.Probs, c.K, c.Labels)
				if err != nil {
					t.Fatal(err)
				}
				near(t, "LogLoss()", ll, *c.LogLoss)
				var auc float64
				if c.K == 2 {
					auc, err = ROCAUC(c.Scores, c.Labels)
				} else {
					auc, err = ROCAUCOvR(c.Probs, c.K, c.Labels)
				}
				if err != nil {
					t.Fatal(err)
				}
				near(t, "ROCAUC()", auc, *c.ROCAUC)
			}
			if c.Scores != nil {
				b := NewClassificationMetrics(classNames(2))
				if err := b.AddBinary(c.Scores, c.Labels); err != nil {
					t.Fatal(err)
				}
				br := b.Result()
				near(t, "AddBinary roc auc", *br.ROCAUC, *c.ROCAUC)
				near(t, "AddBinary log loss", *br.LogLoss, *c.LogLoss)
				pred := make([]int, len(c.Scores))
				for i, s := range c.Scores {
					if s >= 0.5 {
						pred[i] = 1
					}
				}
				near(t, "AddBinary accuracy", br.Accuracy, Accuracy(pred, c.Labels))
			}
		})
	}
}

func TestRegressionGolden(t *testing.T) {
	g := loadGolden(t)
	for _, c := range g.Regression {
		t.Run(c.Name, func(t *testing.T) {
			var m RegressionMetrics
			for lo := 0; lo < len(c.Pred); lo += 7 {
				hi := min(lo+7, len(c.Pred))
				if err := m.Add(c.Pred[lo:hi], c.Target[lo:hi]); err != nil {
					t.Fatal(err)
				}
			}
			for _, r := range []RegressionReport{m.Result(), ScoreRegression(c.Pred, c.Target)} {
				near(t, "mae", r.MAE, c.MAE)
				near(t, "mse", r.MSE, c.MSE)
				near(t, "rmse", r.RMSE, c.RMSE)
				near(t, "r2", r.R2, c.R2)
				if r.Samples != int64(len(c.Pred)) {
					t.Errorf("samples %d", r.Samples)
				}
			}
			if mm := m.Result().Metrics(); mm["r2"] != m.Result().R2 {
				t.Errorf("Metrics map %v", mm)
			}
		})
	}
}

func TestROCAUCHandCases(t *testing.T) {
	tests := []struct {
		name   string
		scores []float32
		labels []int
		want   float64
		err    error
	}{
		{"perfect", []float32{0.1, 0.2, 0.8, 0.9}, []int{0, 0, 1, 1}, 1, nil},
		{"inverted", []float32{0.9, 0.8, 0.2, 0.1}, []int{0, 0, 1, 1}, 0, nil},
		{"all tied", []float32{0.5, 0.5, 0.5, 0.5}, []int{0, 1, 0, 1}, 0.5, nil},
		{"one tie", []float32{0.1, 0.4, 0.35, 0.8}, []int{0, 0, 1, 1}, 0.75, nil},
		{"positive ties negative", []float32{0.3, 0.3, 0.9}, []int{0, 1, 1}, 0.75, nil},
		{"only positives", []float32{0.3, 0.4}, []int{1, 1}, 0, ErrUndefinedAUC},
		{"empty", nil, nil, 0, ErrUndefinedAUC},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ROCAUC(tc.scores, tc.labels)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err == nil && got != tc.want {
				t.Errorf("AUC %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := ROCAUC([]float32{0.1}, []int{2}); err == nil {
		t.Error("label 2 accepted as binary")
	}
	if _, err := ROCAUC([]float32{0.1, float32(math.NaN())}, []int{0, 1}); err == nil {
		t.Error("NaN score accepted")
	}
}

func TestClassificationErrors(t *testing.T) {
	m := NewClassificationMetrics([]string{"a", "b", "c"})
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"length", m.Add([]int{0}, []int{0, 1}), "1 predictions for 2 labels"},
		{"label range", m.Add([]int{0}, []int{3}), "label 3 at batch index 0"},
		{"pred range", m.Add([]int{-1}, []int{0}), "prediction -1"},
		{"probs length", m.AddProbs([]float32{1, 0}, []int{0}), "2 probabilities for 1 labels × 3 classes"},
		{"nan", m.AddProbs([]float32{0, float32(math.NaN()), 1}, []int{0}), "row 0, class 1 is NaN"},
		{"row length", m.AddRows([][]float32{{1, 0}}, []int{0}), "row 0 has 2 values, want 3"},
		{"binary on 3", m.AddBinary([]float32{0.3}, []int{0}), "needs 2 classes"},
	}
	for _, tc := range tests {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, tc.err, tc.want)
		}
	}
	if r := m.Result(); r.Samples != 0 {
		t.Errorf("failed adds counted %d samples", r.Samples)
	}
}

func TestClassificationMixedAndOptions(t *testing.T) {
	m := NewClassificationMetrics([]string{"neg", "pos"})
	m.KeepScores = false
	if err := m.AddRows([][]float32{{0.9, 0.1}, {0.2, 0.8}, {0.6, 0.4}}, []int{0, 1, 1}); err != nil {
		t.Fatal(err)
	}
	r := m.Result()
	if r.ROCAUC != nil {
		t.Error("AUC without kept scores")
	}
	wantLL := -(math.Log(float64(float32(0.9))) + math.Log(float64(float32(0.8))) + math.Log(float64(float32(0.4)))) / 3
	if r.LogLoss == nil || math.Abs(*r.LogLoss-wantLL) > 1e-7 {
		t.Errorf("log loss %v, want %v", r.LogLoss, wantLL)
	}
	// Hard predictions after probabilities: AUC stays off (scores would not
	// cover every sample), log loss covers only the probability batches.
	m2 := NewClassificationMetrics([]string{"neg", "pos"})
	_ = m2.AddProbs([]float32{0.9, 0.1, 0.2, 0.8}, []int{0, 1})
	_ = m2.Add([]int{1}, []int{0})
	r2 := m2.Result()
	if r2.ROCAUC != nil || r2.LogLoss == nil || r2.Samples != 3 {
		t.Errorf("mixed report %+v", r2)
	}
	s := r2.String()
	for _, want := range []string{"precision", "neg", "pos", "macro avg", "weighted avg", "log loss"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() lacks %q:\n%s", want, s)
		}
	}
	mm := r2.Metrics()
	if _, ok := mm["roc_auc"]; ok {
		t.Error("Metrics has roc_auc")
	}
	if mm["accuracy"] != r2.Accuracy {
		t.Error("Metrics accuracy")
	}
}

func TestROCAUCOvRSkipsUndefined(t *testing.T) {
	// Class 2 never occurs: the average is over classes 0 and 1.
	probs := []float32{0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.6, 0.3, 0.1}
	got, err := ROCAUCOvR(probs, 3, []int{0, 1, 0})
	if err != nil {
		t.Fatal(err)
	}
	if got != 1 {
		t.Errorf("got %v, want 1", got)
	}
	if _, err := ROCAUCOvR([]float32{1, 0}, 2, []int{0}); !errors.Is(err, ErrUndefinedAUC) {
		t.Errorf("one class: %v", err)
	}
}

func BenchmarkClassificationAddProbs(b *testing.B) {
	const bs, k = 256, 10
	probs := make([]float32, bs*k)
	labels := make([]int, bs)
	for i := range probs {
		probs[i] = float32(i%k+1) / 55
	}
	for i := range labels {
		labels[i] = i % k
	}
	m := NewClassificationMetrics(classNames(k))
	m.KeepScores = false
	b.ReportAllocs()
	for b.Loop() {
		_ = m.AddProbs(probs, labels)
	}
	b.ReportMetric(float64(b.N*bs)/b.Elapsed().Seconds(), "samples/s")
}
