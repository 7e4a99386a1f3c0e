package predict_test

import (
	"math"
	"strings"
	"testing"

	"github.com/shenml/shen/predict"
	"github.com/shenml/shen/tensor"
)

// TestScorerClassifier: two batches of logits give the loss weighted by
// batch size, the argmax (or threshold) confusion and softmax log loss.
func TestScorerClassifier(t *testing.T) {
	for _, tc := range []struct {
		threshold float64
		accuracy  float64
	}{
		{0, 0.75},   // argmax: rows 0, 1, 3 right
		{0.3, 1.00}, // row 2 (p1 = 0.38) becomes class 1 too
	} {
		sc := predict.NewClassifierScorer([]string{"no", "yes"}, tc.threshold)
		// Batch 1: two rows, mean loss 0.5; batch 2: two rows, mean loss 1.
		sc.AddLoss(0.5, 2)
		if err := sc.AddClasses(tensor.FromSlice([]float32{2, 0, 0, 2}, 2, 2), []int64{0, 1}); err != nil {
			t.Fatal(err)
		}
		sc.AddLoss(1, 2)
		if err := sc.AddClasses(tensor.FromSlice([]float32{0.5, 0, -1, 1}, 2, 2), []int64{1, 1}); err != nil {
			t.Fatal(err)
		}
		ev, err := sc.Evaluation()
		if err != nil {
			t.Fatal(err)
		}
		if ev.Samples != 4 || ev.Loss != 0.75 || ev.Report == nil || ev.Regression != nil {
			t.Fatalf("threshold %v: %+v", tc.threshold, ev)
		}
		if ev.Metrics["accuracy"] != tc.accuracy {
			t.Errorf("threshold %v: accuracy %v, want %v", tc.threshold, ev.Metrics["accuracy"], tc.accuracy)
		}
		// log loss: mean of -log softmax(true class).
		want := 0.0
		for _, z := range [][3]float64{{2, 0, 0}, {0, 2, 1}, {0.5, 0, 1}, {-1, 1, 1}} {
			p := math.Exp(z[int(z[2])]) / (math.Exp(z[0]) + math.Exp(z[1]))
			want -= math.Log(p) / 4
		}
		if got := ev.Metrics["log_loss"]; math.Abs(got-want) > 1e-6 {
			t.Errorf("log loss %v, want %v", got, want)
		}
	}
}

// TestScorerRegressor: errors are taken after the inverse transform,
// which sees each batch's sample indices.
func TestScorerRegressor(t *testing.T) {
	var seen []int
	double := func(pred, target []float64, idx []int) {
		seen = append(seen, idx...)
		for i := range pred {
			pred[i] *= 2
			target[i] *= 2
		}
	}
	sc := predict.NewRegressorScorer(double)
	sc.AddLoss(4, 1)
	if err := sc.AddRegression([]float32{1}, []float32{3}, []int{7}); err != nil {
		t.Fatal(err)
	}
	sc.AddLoss(1, 3)
	if err := sc.AddRegression([]float32{0, 1, 2}, []float32{1, 1, 2}, []int{8, 9, 10}); err != nil {
		t.Fatal(err)
	}
	ev, err := sc.Evaluation()
	if err != nil {
		t.Fatal(err)
	}
	// Doubled errors: 4, 2, 0, 0.
	if ev.Samples != 4 || ev.Loss != 1.75 || ev.Regression == nil || ev.Report != nil {
		t.Fatalf("%+v", ev)
	}
	if ev.Metrics["mae"] != 1.5 || ev.Metrics["mse"] != 5 || len(seen) != 4 || seen[0] != 7 || seen[3] != 10 {
		t.Errorf("metrics %v, indices %v", ev.Metrics, seen)
	}
}

func TestScorerLanguageModelAndErrors(t *testing.T) {
	sc := predict.NewLanguageModelScorer()
	sc.AddLoss(math.Log(8), 10)
	ev, err := sc.Evaluation()
	if err != nil || math.Abs(ev.Metrics["perplexity"]-8) > 1e-9 || len(ev.Metrics) != 1 {
		t.Errorf("language model: %+v, %v", ev, err)
	}
	if _, err := predict.NewRegressorScorer(nil).Evaluation(); err == nil || !strings.Contains(err.Error(), "no samples") {
		t.Errorf("no samples: %v", err)
	}
	if err := predict.NewRegressorScorer(nil).AddClasses(tensor.FromSlice([]float32{1, 0}, 1, 2), []int64{0}); err == nil {
		t.Error("a regressor's scorer took classes")
	}
	if err := predict.NewLanguageModelScorer().AddRegression([]float32{1}, []float32{1}, nil); err == nil {
		t.Error("a language model's scorer took regression targets")
	}
	if err := predict.NewClassifierScorer([]string{"a", "b"}, 0).AddClasses(tensor.FromSlice([]float32{1, 0}, 1, 2), []int64{5}); err == nil {
		t.Error("label 5 of 2 classes accepted")
	}
}
