package metrics

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// TestCalibrationAgainstSklearn replays calibration_curve and
// brier_score_loss from scikit-learn (testdata/metrics/gen_calibration.py).
func TestCalibrationAgainstSklearn(t *testing.T) {
	b, err := os.ReadFile("../testdata/metrics/calibration.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []struct {
			Name     string    `json:"name"`
			Bins     int       `json:"bins"`
			Scores   []float32 `json:"scores"`
			Labels   []int     `json:"labels"`
			ProbTrue []float64 `json:"prob_true"`
			ProbPred []float64 `json:"prob_pred"`
			Brier    float64   `json:"brier"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range g.Cases {
		got, err := CalibrationCurve(c.Scores, c.Labels, c.Bins)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if len(got.ProbTrue) != len(c.ProbTrue) {
			t.Fatalf("%s: %d bins, sklearn %d", c.Name, len(got.ProbTrue), len(c.ProbTrue))
		}
		var ece float64
		n := 0
		for _, k := range got.Counts {
			n += k
		}
		for i := range c.ProbTrue {
			if math.Abs(got.ProbTrue[i]-c.ProbTrue[i]) > tol || math.Abs(got.ProbPred[i]-c.ProbPred[i]) > tol {
				t.Errorf("%s bin %d: (%v, %v), sklearn (%v, %v)", c.Name, i, got.ProbTrue[i], got.ProbPred[i], c.ProbTrue[i], c.ProbPred[i])
			}
			ece += float64(got.Counts[i]) / float64(n) * math.Abs(c.ProbTrue[i]-c.ProbPred[i])
		}
		if n != len(c.Scores) || math.Abs(got.ECE-ece) > tol {
			t.Errorf("%s: ECE %v over %d samples, want %v over %d", c.Name, got.ECE, n, ece, len(c.Scores))
		}
		if math.Abs(got.Brier-c.Brier) > tol {
			t.Errorf("%s: Brier %v, sklearn %v", c.Name, got.Brier, c.Brier)
		}
	}
}

func TestCalibrationErrors(t *testing.T) {
	if _, err := CalibrationCurve([]float32{0.5}, []int{0, 1}, 5); err == nil {
		t.Error("length mismatch: no error")
	}
	if _, err := CalibrationCurve([]float32{1.5}, []int{1}, 5); err == nil {
		t.Error("probability 1.5: no error")
	}
	if _, err := CalibrationCurve([]float32{float32(math.NaN())}, []int{1}, 5); err == nil {
		t.Error("NaN: no error")
	}
	if _, err := CalibrationCurve([]float32{0.5}, []int{2}, 5); err == nil {
		t.Error("label 2: no error")
	}
	if _, err := CalibrationCurve(nil, nil, 5); err == nil {
		t.Error("no samples: no error")
	}
	if _, err := TopLabelCalibration([]float32{0.5, 0.5}, 3, []int{0}, 5); err == nil {
		t.Error("probabilities not k per label: no error")
	}
}

// A perfectly confident, always right classifier is perfectly calibrated;
// one that is always 90% sure and right half the time is 0.4 off.
func TestTopLabelCalibration(t *testing.T) {
	c, err := TopLabelCalibration([]float32{1, 0, 0, 0, 1, 0}, 3, []int{0, 1}, 10)
	if err != nil || c.ECE != 0 || c.Brier != 0 {
		t.Errorf("perfect: %+v, %v", c, err)
	}
	c, err = TopLabelCalibration([]float32{0.9, 0.1, 0.9, 0.1}, 2, []int{0, 1}, 10)
	if err != nil || math.Abs(c.ECE-0.4) > 1e-7 {
		t.Errorf("over-confident: ECE %v, want 0.4 (%v)", c.ECE, err)
	}
}
