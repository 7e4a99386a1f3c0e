// Package metrics scores predictions: accuracy, per-class precision,
// recall and F1, confusion matrices, ROC AUC (binary and one-vs-rest),
// log loss, the F1-best decision threshold, and MAE, MSE, RMSE and R² for
// regression, as scikit-learn computes them (checked against it to 1e-9).
//
// The metrics work on plain Go slices ([]int labels, []float32
// probabilities, []float64 regression values), not on tensors, so that
// training, evaluation of saved models, tuning and monitoring share them
// and tests check them without a model in the loop. Streaming
// accumulators (ClassificationMetrics, RegressionMetrics) take batches and
// keep O(classes²) state.
package metrics

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// logLossEps is the clipping bound of LogLoss: numpy's float64 machine
// epsilon, the value scikit-learn's log_loss uses for float64 input.
const logLossEps = 2.220446049250313e-16

// Accuracy returns the fraction of positions where pred equals labels, or 0
// for empty input. It panics if the lengths differ.
func Accuracy(pred, labels []int) float64 {
	if len(pred) != len(labels) {
		panic(fmt.Sprintf("metrics.Accuracy: %d predictions for %d labels", len(pred), len(labels)))
	}
	if len(pred) == 0 {
		return 0
	}
	n := 0
	for i, p := range pred {
		if p == labels[i] {
			n++
		}
	}
	return float64(n) / float64(len(pred))
}

// ConfusionMatrix counts predictions per (true class, predicted class), in
// scikit-learn's orientation: Counts[t][p] is the number of samples of true
// class t predicted as class p.
type ConfusionMatrix struct {
	// Classes names the classes, index by index.
	Classes []string `json:"classes"`
	// Counts is len(Classes) rows (true class) of len(Classes) columns
	// (predicted class).
	Counts [][]int64 `json:"counts"`
}

// NewConfusionMatrix returns an all-zero matrix for the named classes.
func NewConfusionMatrix(classes []string) ConfusionMatrix {
	k := len(classes)
	flat := make([]int64, k*k)
	rows := make([][]int64, k)
	for i := range rows {
		rows[i] = flat[i*k : (i+1)*k : (i+1)*k]
	}
	return ConfusionMatrix{Classes: slices.Clone(classes), Counts: rows}
}

// Total returns the number of samples counted.
func (m ConfusionMatrix) Total() int64 {
	var n int64
	for _, row := range m.Counts {
		for _, v := range row {
			n += v
		}
	}
	return n
}

// RowNormalized returns each row divided by its sum (the per-class recall
// view, like sklearn's normalize="true"); rows with no samples stay zero.
func (m ConfusionMatrix) RowNormalized() [][]float64 {
	out := make([][]float64, len(m.Counts))
	for i, row := range m.Counts {
		out[i] = make([]float64, len(row))
		var s int64
		for _, v := range row {
			s += v
		}
		if s == 0 {
			continue
		}
		for j, v := range row {
			out[i][j] = float64(v) / float64(s)
		}
	}
	return out
}

// ClassMetrics are the one-vs-rest scores of one class.
type ClassMetrics struct {
	// Class is the class name.
	Class string `json:"class"`
	// Precision is TP/(TP+FP), 0 when the class was never predicted (as
	// sklearn's zero_division="warn").
	Precision float64 `json:"precision"`
	// Recall is TP/(TP+FN), 0 when the class has no samples.
	Recall float64 `json:"recall"`
	// F1 is the harmonic mean of Precision and Recall, 0 when both are 0.
	F1 float64 `json:"f1"`
	// Support is the number of samples whose true class is this one.
	Support int64 `json:"support"`
	// AUC is the one-vs-rest ROC AUC of this class's probability column,
	// nil when no probabilities were given or the class has no positive or
	// no negative samples (where ROC AUC is undefined).
	AUC *float64 `json:"auc,omitempty"`
}

// ClassificationReport is the result of a ClassificationMetrics accumulator.
// It encodes to JSON with no NaN: undefined values are nil pointers, omitted.
type ClassificationReport struct {
	// Samples is the number of samples seen.
	Samples int64 `json:"samples"`
	// Accuracy is the fraction of correct predictions.
	Accuracy float64 `json:"accuracy"`
	// MacroPrecision, MacroRecall and MacroF1 are unweighted means over all
	// classes, including classes that never occurred (like sklearn with
	// labels=range(k)).
	MacroPrecision float64 `json:"macro_precision"`
	// MacroRecall: see MacroPrecision.
	MacroRecall float64 `json:"macro_recall"`
	// MacroF1: see MacroPrecision.
	MacroF1 float64 `json:"macro_f1"`
	// WeightedPrecision, WeightedRecall and WeightedF1 are means weighted
	// by each class's support.
	WeightedPrecision float64 `json:"weighted_precision"`
	// WeightedRecall: see WeightedPrecision.
	WeightedRecall float64 `json:"weighted_recall"`
	// WeightedF1: see WeightedPrecision.
	WeightedF1 float64 `json:"weighted_f1"`
	// LogLoss is the mean cross-entropy of the probabilities, nil when only
	// hard predictions were added.
	LogLoss *float64 `json:"log_loss,omitempty"`
	// ROCAUC is the binary ROC AUC (k == 2, of class 1's probability) or
	// the one-vs-rest macro average (k > 2) over the classes where it is
	// defined; nil when undefined or when scores were not kept.
	ROCAUC *float64 `json:"roc_auc,omitempty"`
	// PerClass holds one entry per class, in class order.
	PerClass []ClassMetrics `json:"per_class"`
	// Confusion is the confusion matrix.
	Confusion ConfusionMatrix `json:"confusion"`
}

// Metrics returns the scalar results as a flat map (accuracy, macro_f1,
// log_loss, roc_auc, ...), the shape a Record's Metrics field takes.
func (r ClassificationReport) Metrics() map[string]float64 {
	m := map[string]float64{
		"accuracy":           r.Accuracy,
		"macro_precision":    r.MacroPrecision,
		"macro_recall":       r.MacroRecall,
		"macro_f1":           r.MacroF1,
		"weighted_precision": r.WeightedPrecision,
		"weighted_recall":    r.WeightedRecall,
		"weighted_f1":        r.WeightedF1,
	}
	if r.LogLoss != nil {
		m["log_loss"] = *r.LogLoss
	}
	if r.ROCAUC != nil {
		m["roc_auc"] = *r.ROCAUC
	}
	if len(r.PerClass) == 2 {
		// Binary tasks: the second class is the positive one (as
		// scikit-learn's average="binary").
		pos := r.PerClass[1]
		m["precision"], m["recall"], m["f1"] = pos.Precision, pos.Recall, pos.F1
	}
	return m
}

// ThresholdChoice is a decision threshold chosen by BestF1Threshold with
// the scores it gives on the data it was chosen on.
type ThresholdChoice struct {
	Threshold                float64
	Precision, Recall, F1    float64
	Positives, Negatives, TP int
	FP                       int
}

// BestF1Threshold returns the threshold t on scores (the probability of
// the positive class; label 1 positive, 0 negative) whose rule "positive
// when score >= t" maximises F1 on these samples; ties go to the fewest
// errors, then to the higher threshold. t lies halfway between two
// neighbouring distinct scores (halfway to 0 below the lowest), so it is
// not tied to one sample's exact score. Without positive samples F1 is 0
// everywhere and the rule keeps the fewest errors: t is the lowest
// threshold with no false alarm, just above the highest score.
func BestF1Threshold(scores []float32, labels []int) (ThresholdChoice, error) {
	if len(scores) != len(labels) || len(scores) == 0 {
		return ThresholdChoice{}, fmt.Errorf("metrics: %d scores for %d labels", len(scores), len(labels))
	}
	idx := make([]int, len(scores))
	pos := 0
	for i, s := range scores {
		if s != s {
			return ThresholdChoice{}, fmt.Errorf("metrics: score %d is NaN", i)
		}
		if labels[i] != 0 && labels[i] != 1 {
			return ThresholdChoice{}, fmt.Errorf("metrics: label %d at %d is not 0 or 1", labels[i], i)
		}
		idx[i] = i
		pos += labels[i]
	}
	// Highest scores first: cutting after the j-th distinct score marks
	// everything above the cut positive.
	slices.SortStableFunc(idx, func(a, b int) int {
		if scores[a] > scores[b] {
			return -1
		} else if scores[a] < scores[b] {
			return 1
		}
		return 0
	})
	n := len(idx)
	// Above every score: the next float32 up from the highest.
	top := float64(math.Nextafter32(scores[idx[0]], float32(math.Inf(1))))
	best := ThresholdChoice{Threshold: top, Positives: pos, Negatives: n - pos}
	bestErr := pos // nothing predicted positive
	tp, fp := 0, 0
	for j := 0; j < n; j++ {
		if labels[idx[j]] == 1 {
			tp++
		} else {
			fp++
		}
		if j+1 < n && scores[idx[j+1]] == scores[idx[j]] {
			continue // a cut must not split equal scores
		}
		f1 := safeDiv(2*float64(tp), float64(tp+fp+pos))
		errs := fp + pos - tp
		if f1 > best.F1 || (f1 == best.F1 && errs < bestErr) {
			t := float64(scores[idx[j]]) / 2
			if j+1 < n {
				t = (float64(scores[idx[j]]) + float64(scores[idx[j+1]])) / 2
			}
			best.Threshold, best.F1, best.TP, best.FP, bestErr = t, f1, tp, fp, errs
			best.Precision = safeDiv(float64(tp), float64(tp+fp))
			best.Recall = safeDiv(float64(tp), float64(pos))
		}
	}
	return best, nil
}

// String formats the report as a text table like sklearn's
// classification_report.
func (r ClassificationReport) String() string {
	w := 12
	for _, c := range r.PerClass {
		w = max(w, len(c.Class))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%*s %9s %9s %9s %9s\n\n", w, "", "precision", "recall", "f1-score", "support")
	for _, c := range r.PerClass {
		fmt.Fprintf(&b, "%*s %9.4f %9.4f %9.4f %9d\n", w, c.Class, c.Precision, c.Recall, c.F1, c.Support)
	}
	fmt.Fprintf(&b, "\n%*s %9s %9s %9.4f %9d\n", w, "accuracy", "", "", r.Accuracy, r.Samples)
	fmt.Fprintf(&b, "%*s %9.4f %9.4f %9.4f %9d\n", w, "macro avg", r.MacroPrecision, r.MacroRecall, r.MacroF1, r.Samples)
	fmt.Fprintf(&b, "%*s %9.4f %9.4f %9.4f %9d\n", w, "weighted avg", r.WeightedPrecision, r.WeightedRecall, r.WeightedF1, r.Samples)
	if r.LogLoss != nil {
		fmt.Fprintf(&b, "%*s %9.4f\n", w, "log loss", *r.LogLoss)
	}
	if r.ROCAUC != nil {
		fmt.Fprintf(&b, "%*s %9.4f\n", w, "roc auc", *r.ROCAUC)
	}
	return b.String()
}

// ClassificationMetrics accumulates classification results batch by batch.
//
// Counts (confusion matrix, log-loss sum) take O(k²) memory whatever the
// number of samples. ROC AUC needs every score: when probabilities are added
// and KeepScores is true (the default from NewClassificationMetrics), the
// accumulator keeps all of them, 4·k+8 bytes per sample (for 10 classes and
// 1M samples, about 48 MB). Set KeepScores to false before the first Add to
// drop them and get no AUC.
//
// The zero value is not usable; make one with NewClassificationMetrics. It
// is not safe for concurrent use.
type ClassificationMetrics struct {
	// KeepScores keeps probabilities for ROC AUC (see the type's comment).
	KeepScores bool
	// Threshold, when positive and there are two classes, makes AddProbs
	// predict class 1 when its probability is at least Threshold instead
	// of taking the argmax.
	Threshold float64

	classes   []string
	cm        ConfusionMatrix
	n         int64
	logLoss   float64 // sum over samples with probabilities
	nProbs    int64   // samples that came with probabilities
	scores    []float32
	scoreLbls []int32
}

// NewClassificationMetrics returns an empty accumulator for the named
// classes (labels are indices into classes). It panics with fewer than two
// classes.
func NewClassificationMetrics(classes []string) *ClassificationMetrics {
	if len(classes) < 2 {
		panic(fmt.Sprintf("metrics.NewClassificationMetrics: need at least 2 classes, got %d", len(classes)))
	}
	return &ClassificationMetrics{KeepScores: true, classes: slices.Clone(classes), cm: NewConfusionMatrix(classes)}
}

// NumClasses returns the number of classes.
func (m *ClassificationMetrics) NumClasses() int { return len(m.classes) }

// Reset forgets every sample, keeping the classes and the score buffer's
// capacity.
func (m *ClassificationMetrics) Reset() {
	for _, row := range m.cm.Counts {
		clear(row)
	}
	m.n, m.logLoss, m.nProbs = 0, 0, 0
	m.scores, m.scoreLbls = m.scores[:0], m.scoreLbls[:0]
}

func (m *ClassificationMetrics) checkLabels(labels []int) error {
	k := len(m.classes)
	for i, y := range labels {
		if y < 0 || y >= k {
			return fmt.Errorf("metrics: label %d at batch index %d is outside [0, %d)", y, i, k)
		}
	}
	return nil
}

// Add counts hard predictions (class indices) against labels. Batches added
// this way carry no probabilities, so they add to neither log loss nor AUC.
// It returns an error, and counts nothing, if the lengths differ or an
// index is outside [0, k).
func (m *ClassificationMetrics) Add(pred, labels []int) error {
	if len(pred) != len(labels) {
		return fmt.Errorf("metrics: %d predictions for %d labels", len(pred), len(labels))
	}
	if err := m.checkLabels(labels); err != nil {
		return err
	}
	k := len(m.classes)
	for i, p := range pred {
		if p < 0 || p >= k {
			return fmt.Errorf("metrics: prediction %d at batch index %d is outside [0, %d)", p, i, k)
		}
	}
	for i, p := range pred {
		m.cm.Counts[labels[i]][p]++
	}
	m.n += int64(len(pred))
	return nil
}

// AddProbs counts a batch of class probabilities, row-major with
// len(labels) rows of k columns (the layout of a [batch, k] softmax output).
// The predicted class is the row's argmax (the first on ties, like
// numpy.argmax). Rows need not sum to 1: log loss renormalises them, as
// sklearn does. It returns an error, and counts nothing, on a length
// mismatch, a label outside [0, k) or a NaN probability.
func (m *ClassificationMetrics) AddProbs(probs []float32, labels []int) error {
	k := len(m.classes)
	if len(probs) != len(labels)*k {
		return fmt.Errorf("metrics: %d probabilities for %d labels × %d classes", len(probs), len(labels), k)
	}
	if err := m.checkLabels(labels); err != nil {
		return err
	}
	for i, p := range probs {
		if p != p {
			return fmt.Errorf("metrics: probability at batch row %d, class %d is NaN", i/k, i%k)
		}
	}
	for i, y := range labels {
		row := probs[i*k : (i+1)*k]
		best := 0
		if k == 2 && m.Threshold > 0 {
			if float64(row[1]) >= m.Threshold {
				best = 1
			}
		} else {
			for j, p := range row {
				if p > row[best] {
					best = j
				}
			}
		}
		m.cm.Counts[y][best]++
		m.logLoss += rowLogLoss(row, y)
	}
	m.n += int64(len(labels))
	m.nProbs += int64(len(labels))
	if m.KeepScores {
		m.scores = append(m.scores, probs...)
		for _, y := range labels {
			m.scoreLbls = append(m.scoreLbls, int32(y))
		}
	}
	return nil
}

// AddRows is AddProbs for probabilities given one slice per sample.
func (m *ClassificationMetrics) AddRows(probs [][]float32, labels []int) error {
	k := len(m.classes)
	if len(probs) != len(labels) {
		return fmt.Errorf("metrics: %d probability rows for %d labels", len(probs), len(labels))
	}
	flat := make([]float32, 0, len(probs)*k)
	for i, row := range probs {
		if len(row) != k {
			return fmt.Errorf("metrics: probability row %d has %d values, want %d", i, len(row), k)
		}
		flat = append(flat, row...)
	}
	return m.AddProbs(flat, labels)
}

// AddBinary counts a batch of binary scores, score[i] being the probability
// of class 1 (a sigmoid output); the prediction is class 1 when the score is
// at least 0.5. The accumulator must have exactly two classes.
func (m *ClassificationMetrics) AddBinary(scores []float32, labels []int) error {
	if len(m.classes) != 2 {
		return fmt.Errorf("metrics: AddBinary needs 2 classes, the accumulator has %d", len(m.classes))
	}
	if len(scores) != len(labels) {
		return fmt.Errorf("metrics: %d scores for %d labels", len(scores), len(labels))
	}
	probs := make([]float32, 2*len(scores))
	for i, s := range scores {
		probs[2*i], probs[2*i+1] = 1-s, s
	}
	if err := m.AddProbs(probs, labels); err != nil {
		return err
	}
	// AddProbs took the argmax, which sends 0.5 to class 0; AddBinary's
	// rule is score >= 0.5, so move exact halves to class 1.
	for i, s := range scores {
		if s == 0.5 {
			m.cm.Counts[labels[i]][0]--
			m.cm.Counts[labels[i]][1]++
		}
	}
	return nil
}

// rowLogLoss is -log of the true class's probability after clipping every
// probability to [eps, 1-eps] and renormalising the row (sklearn's rule).
func rowLogLoss(row []float32, y int) float64 {
	var sum, py float64
	for j, p := range row {
		q := min(max(float64(p), logLossEps), 1-logLossEps)
		sum += q
		if j == y {
			py = q
		}
	}
	return -math.Log(py / sum)
}

// Result computes the report from everything added so far. It costs
// O(k²) plus, when scores were kept, O(n·k·log n) for the AUC sorts.
func (m *ClassificationMetrics) Result() ClassificationReport {
	k := len(m.classes)
	r := ClassificationReport{Samples: m.n, PerClass: make([]ClassMetrics, k)}
	r.Confusion = NewConfusionMatrix(m.classes)
	for i, row := range m.cm.Counts {
		copy(r.Confusion.Counts[i], row)
	}
	var correct int64
	colSum := make([]int64, k)
	for t, row := range m.cm.Counts {
		correct += row[t]
		for p, v := range row {
			colSum[p] += v
		}
	}
	if m.n > 0 {
		r.Accuracy = float64(correct) / float64(m.n)
	}
	for c := range k {
		tp := m.cm.Counts[c][c]
		var support int64
		for _, v := range m.cm.Counts[c] {
			support += v
		}
		cmx := ClassMetrics{Class: m.classes[c], Support: support}
		cmx.Precision = safeDiv(float64(tp), float64(colSum[c]))
		cmx.Recall = safeDiv(float64(tp), float64(support))
		cmx.F1 = safeDiv(2*cmx.Precision*cmx.Recall, cmx.Precision+cmx.Recall)
		r.PerClass[c] = cmx
		r.MacroPrecision += cmx.Precision / float64(k)
		r.MacroRecall += cmx.Recall / float64(k)
		r.MacroF1 += cmx.F1 / float64(k)
		if m.n > 0 {
			w := float64(support) / float64(m.n)
			r.WeightedPrecision += w * cmx.Precision
			r.WeightedRecall += w * cmx.Recall
			r.WeightedF1 += w * cmx.F1
		}
	}
	if m.nProbs > 0 {
		ll := m.logLoss / float64(m.nProbs)
		r.LogLoss = &ll
	}
	if m.KeepScores && len(m.scoreLbls) > 0 && int64(len(m.scoreLbls)) == m.n {
		n := len(m.scoreLbls)
		col := make([]float32, n)
		pos := make([]bool, n)
		var sum float64
		defined := 0
		for c := range k {
			for i := range n {
				col[i] = m.scores[i*k+c]
				pos[i] = int(m.scoreLbls[i]) == c
			}
			a, err := binaryAUC(col, pos)
			if err != nil {
				continue
			}
			r.PerClass[c].AUC = &a
			sum += a
			defined++
		}
		if k == 2 {
			r.ROCAUC = r.PerClass[1].AUC
		} else if defined > 0 {
			avg := sum / float64(defined)
			r.ROCAUC = &avg
		}
	}
	return r
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// ErrUndefinedAUC is returned by ROCAUC and ROCAUCOvR when the labels hold
// only one class, where the ROC curve is not defined.
var ErrUndefinedAUC = errors.New("metrics: ROC AUC is undefined with only one class present in the labels")

// ROCAUC returns the area under the ROC curve of scores for binary labels
// (1 positive, 0 negative). It is the Mann-Whitney rank statistic: the
// probability that a random positive scores above a random negative, a tie
// counting one half, which equals sklearn's roc_auc_score including its
// treatment of ties. It costs one sort, O(n log n), and O(n) memory.
func ROCAUC(scores []float32, labels []int) (float64, error) {
	if len(scores) != len(labels) {
		return 0, fmt.Errorf("metrics: %d scores for %d labels", len(scores), len(labels))
	}
	pos := make([]bool, len(labels))
	for i, y := range labels {
		if y != 0 && y != 1 {
			return 0, fmt.Errorf("metrics: binary label %d at index %d is not 0 or 1", y, i)
		}
		pos[i] = y == 1
	}
	return binaryAUC(scores, pos)
}

func binaryAUC(scores []float32, pos []bool) (float64, error) {
	idx := make([]int32, len(scores))
	var nPos, nNeg float64
	for i := range idx {
		idx[i] = int32(i)
		if scores[i] != scores[i] {
			return 0, fmt.Errorf("metrics: score at index %d is NaN", i)
		}
		if pos[i] {
			nPos++
		} else {
			nNeg++
		}
	}
	if nPos == 0 || nNeg == 0 {
		return 0, ErrUndefinedAUC
	}
	slices.SortFunc(idx, func(a, b int32) int {
		sa, sb := scores[a], scores[b]
		switch {
		case sa < sb:
			return -1
		case sa > sb:
			return 1
		}
		return 0
	})
	// Walk tie groups from the lowest score up: each positive beats the
	// negatives below its group and ties with half of those in it.
	var area, negBelow float64
	for i := 0; i < len(idx); {
		j := i
		var p, n float64
		for ; j < len(idx) && scores[idx[j]] == scores[idx[i]]; j++ {
			if pos[idx[j]] {
				p++
			} else {
				n++
			}
		}
		area += p * (negBelow + n/2)
		negBelow += n
		i = j
	}
	return area / (nPos * nNeg), nil
}

// ROCAUCOvR returns the one-vs-rest macro-averaged ROC AUC of row-major
// probabilities (len(labels) rows of k columns), like sklearn's
// roc_auc_score(multi_class="ovr", average="macro"). Classes with no
// positive or no negative samples are left out of the average (sklearn
// raises an error instead); if no class is left, it returns ErrUndefinedAUC.
func ROCAUCOvR(probs []float32, k int, labels []int) (float64, error) {
	if k < 2 || len(probs) != len(labels)*k {
		return 0, fmt.Errorf("metrics: %d probabilities for %d labels × %d classes", len(probs), len(labels), k)
	}
	n := len(labels)
	col := make([]float32, n)
	pos := make([]bool, n)
	var sum float64
	defined := 0
	for c := range k {
		for i, y := range labels {
			if y < 0 || y >= k {
				return 0, fmt.Errorf("metrics: label %d at index %d is outside [0, %d)", y, i, k)
			}
			col[i] = probs[i*k+c]
			pos[i] = y == c
		}
		a, err := binaryAUC(col, pos)
		if errors.Is(err, ErrUndefinedAUC) {
			continue
		}
		if err != nil {
			return 0, err
		}
		sum += a
		defined++
	}
	if defined == 0 {
		return 0, ErrUndefinedAUC
	}
	return sum / float64(defined), nil
}

// LogLoss returns the mean cross-entropy -log p[label] of row-major
// probabilities (len(labels) rows of k columns), like sklearn's log_loss on
// float64 input: each probability is clipped to [ε, 1-ε] with ε = 2.22e-16
// and each row is renormalised to sum to 1. Empty input gives 0.
func LogLoss(probs []float32, k int, labels []int) (float64, error) {
	if k < 1 || len(probs) != len(labels)*k {
		return 0, fmt.Errorf("metrics: %d probabilities for %d labels × %d classes", len(probs), len(labels), k)
	}
	if len(labels) == 0 {
		return 0, nil
	}
	var s float64
	for i, y := range labels {
		if y < 0 || y >= k {
			return 0, fmt.Errorf("metrics: label %d at index %d is outside [0, %d)", y, i, k)
		}
		s += rowLogLoss(probs[i*k:(i+1)*k], y)
	}
	return s / float64(len(labels)), nil
}

// RegressionReport holds regression scores; it encodes to JSON with no NaN.
type RegressionReport struct {
	// Samples is the number of samples seen.
	Samples int64 `json:"samples"`
	// MAE is the mean absolute error.
	MAE float64 `json:"mae"`
	// MSE is the mean squared error.
	MSE float64 `json:"mse"`
	// RMSE is the square root of MSE.
	RMSE float64 `json:"rmse"`
	// R2 is the coefficient of determination 1 - SS_res/SS_tot, with
	// sklearn's r2_score rule for constant targets: 1 if the predictions
	// are exact, else 0.
	R2 float64 `json:"r2"`
}

// Metrics returns the scalar results as a flat map (mae, mse, rmse, r2).
func (r RegressionReport) Metrics() map[string]float64 {
	return map[string]float64{"mae": r.MAE, "mse": r.MSE, "rmse": r.RMSE, "r2": r.R2}
}

// RegressionMetrics accumulates regression results batch by batch in O(1)
// memory: sums of errors and a Welford running mean and variance of the
// targets for R². The zero value is ready to use; it is not safe for
// concurrent use.
type RegressionMetrics struct {
	n        int64
	absErr   float64
	sqErr    float64
	mean, m2 float64
}

// Add counts a batch of predictions against targets; it returns an error,
// and counts nothing, if the lengths differ.
func (m *RegressionMetrics) Add(pred, target []float64) error {
	if len(pred) != len(target) {
		return fmt.Errorf("metrics: %d predictions for %d targets", len(pred), len(target))
	}
	for i, p := range pred {
		y := target[i]
		d := p - y
		m.absErr += math.Abs(d)
		m.sqErr += d * d
		m.n++
		delta := y - m.mean
		m.mean += delta / float64(m.n)
		m.m2 += delta * (y - m.mean)
	}
	return nil
}

// Reset forgets every sample.
func (m *RegressionMetrics) Reset() { *m = RegressionMetrics{} }

// Result computes the report; an empty accumulator gives all zeros.
func (m *RegressionMetrics) Result() RegressionReport {
	r := RegressionReport{Samples: m.n}
	if m.n == 0 {
		return r
	}
	n := float64(m.n)
	r.MAE = m.absErr / n
	r.MSE = m.sqErr / n
	r.RMSE = math.Sqrt(r.MSE)
	switch {
	case m.m2 != 0:
		r.R2 = 1 - m.sqErr/m.m2
	case m.sqErr == 0:
		r.R2 = 1
	}
	return r
}

// ScoreRegression computes MAE, MSE, RMSE and R² of pred against target in one
// pass. It panics if the lengths differ.
func ScoreRegression(pred, target []float64) RegressionReport {
	var m RegressionMetrics
	if err := m.Add(pred, target); err != nil {
		panic(err)
	}
	return m.Result()
}
