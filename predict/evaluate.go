package predict

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/metrics"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
)

// EvaluateFrame scores the model on the rows of f against the label
// column target: class names (or class indices) for a classifier, numbers
// for a regressor. The loss is the training loss (cross-entropy or mean
// squared error) averaged over the rows; for a forecaster with a target
// transform it is on the transformed scale, and the metrics are in the
// target's units.
func (p *Predictor) EvaluateFrame(f *data.Frame, target string) (*metrics.Evaluation, error) {
	tc := f.Col(target)
	if tc == nil {
		return nil, fmt.Errorf("no label column %q (columns: %s)", target, f.ColumnList())
	}
	var x []float32
	var err error
	if p.kind == Window {
		// Windows read the label column at their label row; a forecast
		// past the last row has no label and is left out.
		xw, ws, err := p.Windows(f)
		if err != nil {
			return nil, err
		}
		x = xw[:0]
		var keep []int
		var kept []model.WindowSample
		for i, win := range ws {
			if win.Label >= 0 {
				x = append(x, xw[i*p.inSize:(i+1)*p.inSize]...)
				keep = append(keep, win.Label)
				kept = append(kept, win)
			}
		}
		if sw := p.m.Spec.Window; sw.Transforms() && p.classes == nil {
			return p.evaluateTransformed(f, target, x, keep, kept)
		}
		f = f.Take(keep)
		tc = f.Col(target)
	} else if x, _, err = p.FrameFeatures(f.Drop(target), ""); err != nil {
		return nil, err
	}
	n := f.NumRows()
	if n == 0 {
		return nil, errors.New("no rows")
	}
	if p.classes == nil {
		if p.outputs != 1 {
			return nil, fmt.Errorf("the model predicts %d values per row; evaluation scores one label column", p.outputs)
		}
		if tc.Type != data.Numeric {
			return nil, fmt.Errorf("label column %q is not numeric", target)
		}
		y := make([]float32, n)
		for i, v := range tc.Num {
			y[i] = float32(v)
		}
		return p.evaluateRegression(x, n, y, nil)
	}
	y := make([]int64, n)
	for i := range n {
		k, ok := labelIndex(p.classes, tc.Value(i))
		if !ok {
			return nil, fmt.Errorf("row %d: label %s is not one of the model's classes %v", i+1, data.Excerpt(tc.Value(i)), p.classes)
		}
		y[i] = int64(k)
	}
	return p.evaluateClasses(x, y)
}

// evaluateTransformed scores a forecaster whose network predicts a
// transformed target (window log/difference) against that, reporting the
// metrics in the target's units.
func (p *Predictor) evaluateTransformed(f *data.Frame, target string, x []float32, keep []int, kept []model.WindowSample) (*metrics.Evaluation, error) {
	sw := p.m.Spec.Window
	if target != sw.Column {
		return nil, fmt.Errorf("the model forecasts %q; evaluate it against that column, not %q", sw.Column, target)
	}
	segs, err := model.Segments(f, sw.Group)
	if err != nil {
		return nil, err
	}
	_, yt, err := sw.TransformTarget(f, segs)
	if err != nil {
		return nil, err
	}
	y := make([]float32, len(keep))
	for i, r := range keep {
		y[i] = yt[r]
	}
	return p.evaluateRegression(x, len(keep), y, sw.Inverse(f.Col(target).Num, kept))
}

// labelIndex maps a label to its class index: by name, else as an index
// when it is an integer (or an integral number) in range.
func labelIndex(classes []string, v string) (int, bool) {
	if k := slices.Index(classes, v); k >= 0 {
		return k, true
	}
	if j, err := strconv.Atoi(v); err == nil && j >= 0 && j < len(classes) {
		return j, true
	}
	if fv, err := strconv.ParseFloat(v, 64); err == nil && fv == math.Trunc(fv) && fv >= 0 && fv < float64(len(classes)) {
		return int(fv), true
	}
	return 0, false
}

// evaluateClasses scores a classifier on prepared inputs x and class
// indices y, in batches of 256, with the artifact's decision threshold.
func (p *Predictor) evaluateClasses(x []float32, y []int64) (*metrics.Evaluation, error) {
	threshold := 0.0 // the argmax
	if t := p.m.Spec.Threshold; t != nil {
		threshold = *t
	}
	sc := NewClassifierScorer(p.classes, threshold)
	return p.score(x, len(y), sc, func(s, e int, logits *tensor.Tensor) error {
		loss := nn.CrossEntropy(logits, tensor.IntFromSlice(y[s:e], e-s))
		sc.AddLoss(float64(loss.Item()), e-s)
		loss.Release()
		return sc.AddClasses(logits, y[s:e])
	})
}

// evaluateRegression scores a regressor on n prepared inputs x against
// targets y on the model's scale, in batches of 256; invert, when set,
// maps predictions and targets (by sample index) to the units the metrics
// are reported in.
func (p *Predictor) evaluateRegression(x []float32, n int, y []float32, invert func(pred, target []float64, idx []int)) (*metrics.Evaluation, error) {
	if n == 0 {
		return nil, errors.New("no rows")
	}
	sc := NewRegressorScorer(invert)
	k := p.outputs
	idx := make([]int, 0, chunk)
	return p.score(x, n, sc, func(s, e int, out *tensor.Tensor) error {
		yt := y[s*k : e*k]
		loss := nn.MSELoss(out, tensor.FromSlice(yt, e-s, k), nn.ReduceMean)
		sc.AddLoss(float64(loss.Item()), e-s)
		loss.Release()
		idx = idx[:0]
		for i := s; i < e; i++ {
			idx = append(idx, i)
		}
		return sc.AddRegression(out.Data(), yt, idx)
	})
}

// score runs the model on n prepared inputs x in batches of 256, hands
// each batch's rows [s, e) and outputs ([e-s, outputs]) to batch, which
// adds them to sc, and returns sc's evaluation.
func (p *Predictor) score(x []float32, n int, sc *Scorer, batch func(s, e int, out *tensor.Tensor) error) (*metrics.Evaluation, error) {
	k := p.outputs
	out := make([]float32, chunk*k)
	for s := 0; s < n; s += chunk {
		e := min(n, s+chunk)
		o := out[:(e-s)*k]
		if err := p.Forward(x[s*p.inSize:e*p.inSize], e-s, o); err != nil {
			return nil, shiftRow(err, s)
		}
		if err := batch(s, e, tensor.FromSlice(o, e-s, k)); err != nil {
			return nil, fmt.Errorf("predict: evaluation: %w", err)
		}
	}
	ev, err := sc.Evaluation()
	if err != nil {
		return nil, fmt.Errorf("predict: evaluation: %w", err)
	}
	return ev, nil
}

// shiftRow renumbers a RowError from a batch starting at row s.
func shiftRow(err error, s int) error {
	if re, ok := errors.AsType[*RowError](err); ok {
		return &RowError{Row: re.Row + s, Field: re.Field, Err: re.Err}
	}
	return err
}
