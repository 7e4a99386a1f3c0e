package predict

import (
	"errors"
	"math"

	"github.com/shenml/shen/metrics"
	"github.com/shenml/shen/tensor"
)

// Scorer turns a model's outputs on labelled batches into an Evaluation:
// the loss averaged over samples and the task's metrics (a classifier's
// report from the softmax of its logits, a regressor's errors, a language
// model's perplexity). It is the one such path: Predictor.EvaluateFrame
// and EvaluateImages score an artifact with it, and package train scores
// the network it is training with it, so validation, test and `shen
// predict --evaluate` report the same numbers for the same outputs.
//
// Per batch, the caller adds the mean loss it computed (AddLoss) and,
// for a classifier or a regressor, the outputs against the labels
// (AddClasses, AddRegression); Evaluation gives the result.
type Scorer struct {
	cm         *metrics.ClassificationMetrics
	rm         *metrics.RegressionMetrics
	invert     func(pred, target []float64, idx []int)
	perplexity bool

	lossSum float64
	n       int
	// Reused per batch.
	labels       []int
	pred, target []float64
}

// NewClassifierScorer scores a classifier of classes. threshold, when
// positive and there are two classes, is the decision threshold on class
// 1's probability; 0 takes the argmax.
func NewClassifierScorer(classes []string, threshold float64) *Scorer {
	cm := metrics.NewClassificationMetrics(classes)
	cm.Threshold = threshold
	return &Scorer{cm: cm}
}

// NewRegressorScorer scores a regressor. invert, when set, maps a batch's
// predictions and targets (by sample index) in place to the units the
// metrics are reported in (a forecaster's inverse target transform).
func NewRegressorScorer(invert func(pred, target []float64, idx []int)) *Scorer {
	return &Scorer{rm: &metrics.RegressionMetrics{}, invert: invert}
}

// NewLanguageModelScorer scores a language model: its one metric is the
// perplexity, exp of the mean loss (nats per token).
func NewLanguageModelScorer() *Scorer { return &Scorer{perplexity: true} }

// AddLoss counts a batch of rows samples whose mean loss is loss.
func (s *Scorer) AddLoss(loss float64, rows int) {
	s.lossSum += loss * float64(rows)
	s.n += rows
}

// AddClasses adds a classifier's batch: logits of shape [rows, classes]
// and each row's class index.
func (s *Scorer) AddClasses(logits *tensor.Tensor, labels []int64) error {
	if s.cm == nil {
		return errors.New("the scorer is not a classifier's")
	}
	s.labels = s.labels[:0]
	for _, v := range labels {
		s.labels = append(s.labels, int(v))
	}
	probs := tensor.Softmax(logits, 1)
	err := s.cm.AddProbs(probs.Data(), s.labels)
	probs.Release()
	return err
}

// AddRegression adds a regressor's batch: its outputs and targets on the
// model's scale, row-major, and the samples' indices for the inverse
// transform (unused without one).
func (s *Scorer) AddRegression(out, target []float32, idx []int) error {
	if s.rm == nil {
		return errors.New("the scorer is not a regressor's")
	}
	s.pred, s.target = s.pred[:0], s.target[:0]
	for _, v := range out {
		s.pred = append(s.pred, float64(v))
	}
	for _, v := range target {
		s.target = append(s.target, float64(v))
	}
	if s.invert != nil {
		s.invert(s.pred, s.target, idx)
	}
	return s.rm.Add(s.pred, s.target)
}

// Evaluation is the mean loss and the metrics of every batch added.
func (s *Scorer) Evaluation() (*metrics.Evaluation, error) {
	if s.n == 0 {
		return nil, errors.New("no samples")
	}
	ev := &metrics.Evaluation{Loss: s.lossSum / float64(s.n), Samples: s.n}
	switch {
	case s.cm != nil:
		r := s.cm.Result()
		ev.Report, ev.Metrics = &r, r.Metrics()
	case s.rm != nil:
		r := s.rm.Result()
		ev.Regression, ev.Metrics = &r, r.Metrics()
	case s.perplexity:
		ev.Metrics = map[string]float64{"perplexity": math.Exp(ev.Loss)}
	}
	return ev, nil
}
