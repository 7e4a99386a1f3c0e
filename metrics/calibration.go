package metrics

import (
	"fmt"
	"math"
)

// Calibration says how far predicted probabilities are from observed
// frequencies: of the samples predicted with probability about p, a
// calibrated model is right a fraction p of the time.
type Calibration struct {
	// ProbTrue and ProbPred are, for each non-empty bin in order, the
	// fraction of positive samples and the mean predicted probability
	// (scikit-learn's calibration_curve, strategy "uniform"); Counts the
	// samples in each.
	ProbTrue []float64 `json:"prob_true"`
	ProbPred []float64 `json:"prob_pred"`
	Counts   []int     `json:"counts"`
	// ECE is the expected calibration error: the mean of |ProbTrue -
	// ProbPred| over the bins, weighted by their counts.
	ECE float64 `json:"ece"`
	// Brier is the mean squared difference between the probability and
	// the outcome (scikit-learn's brier_score_loss).
	Brier float64 `json:"brier"`
}

// CalibrationCurve bins the predicted probabilities of the positive class
// (scores) into bins equal-width bins of [0, 1] against binary labels (0
// or 1), as sklearn.calibration.calibration_curve(labels, scores,
// n_bins=bins) does: bin i holds scores above edge i and at most edge
// i+1, where the edges are i/bins (the last stretched by 1e-8 so 1.0 falls
// in the last bin).
func CalibrationCurve(scores []float32, labels []int, bins int) (Calibration, error) {
	if len(scores) != len(labels) {
		return Calibration{}, fmt.Errorf("metrics: %d scores for %d labels", len(scores), len(labels))
	}
	if len(scores) == 0 || bins < 1 {
		return Calibration{}, fmt.Errorf("metrics: calibration needs samples and at least one bin (got %d samples, %d bins)", len(scores), bins)
	}
	// numpy.linspace(0, 1+1e-8, bins+1): the interior edges a score is
	// compared with (searchsorted, side left: the bin is the number of
	// interior edges strictly below the score).
	edges := make([]float64, bins-1)
	for i := range edges {
		edges[i] = float64(i+1) * ((1 + 1e-8) / float64(bins))
	}
	sums, trues, counts := make([]float64, bins), make([]float64, bins), make([]int, bins)
	var brier float64
	for i, s := range scores {
		p := float64(s)
		if math.IsNaN(p) || p < 0 || p > 1 {
			return Calibration{}, fmt.Errorf("metrics: score %d is %v, not a probability", i, p)
		}
		y := labels[i]
		if y != 0 && y != 1 {
			return Calibration{}, fmt.Errorf("metrics: label %d at %d is not 0 or 1", y, i)
		}
		b := 0
		for b < len(edges) && edges[b] < p {
			b++
		}
		sums[b] += p
		trues[b] += float64(y)
		counts[b]++
		brier += (p - float64(y)) * (p - float64(y))
	}
	c := Calibration{Brier: brier / float64(len(scores))}
	for b := range bins {
		if counts[b] == 0 {
			continue
		}
		pt, pp := trues[b]/float64(counts[b]), sums[b]/float64(counts[b])
		c.ProbTrue = append(c.ProbTrue, pt)
		c.ProbPred = append(c.ProbPred, pp)
		c.Counts = append(c.Counts, counts[b])
		c.ECE += float64(counts[b]) / float64(len(scores)) * math.Abs(pt-pp)
	}
	return c, nil
}

// TopLabelCalibration is the calibration of a k-class classifier's
// confidence: each row's largest probability against whether its argmax
// is the label (CalibrationCurve of those), the usual reading of a
// multiclass model's ECE.
func TopLabelCalibration(probs []float32, k int, labels []int, bins int) (Calibration, error) {
	if k < 1 || len(probs) != k*len(labels) {
		return Calibration{}, fmt.Errorf("metrics: %d probabilities for %d labels x %d classes", len(probs), len(labels), k)
	}
	conf := make([]float32, len(labels))
	right := make([]int, len(labels))
	for i, y := range labels {
		row := probs[i*k : (i+1)*k]
		best := 0
		for j, p := range row {
			if p > row[best] {
				best = j
			}
		}
		conf[i] = row[best]
		if best == y {
			right[i] = 1
		}
	}
	return CalibrationCurve(conf, right, bins)
}
