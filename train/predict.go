package train

// This file applies a saved model to new data: reading tables, building
// the model's input features, predictions and evaluation for the CLI's
// predict and evaluate commands.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
)

// ReadTable reads a CSV, TSV, JSONL (optionally gzipped) or scikit-learn
// CSV file into a Frame, telling them apart by name and, for the
// scikit-learn layout, by its count line ("150,4,setosa,...").
func ReadTable(path string) (*data.Frame, error) {
	n := strings.ToLower(strings.TrimSuffix(strings.ToLower(path), ".gz"))
	if strings.HasSuffix(n, ".jsonl") || strings.HasSuffix(n, ".ndjson") {
		return data.ReadJSONL(path, data.CSVOptions{})
	}
	if isSklearnCSV(path) {
		f, _, err := data.ReadSklearnCSV(path)
		return f, err
	}
	return data.ReadCSV(path, data.CSVOptions{})
}

// isSklearnCSV reports whether the file starts with scikit-learn's count
// line: "<rows>,<features>,<class names...>" followed by rows of
// features+1 fields.
func isSklearnCSV(path string) bool {
	if strings.HasSuffix(strings.ToLower(path), ".gz") {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, 4096)
	k, _ := io.ReadFull(f, buf)
	lines := strings.SplitN(string(buf[:k]), "\n", 3)
	if len(lines) < 2 {
		return false
	}
	head := strings.Split(strings.TrimSpace(lines[0]), ",")
	if len(head) < 2 {
		return false
	}
	_, err1 := strconv.Atoi(head[0])
	d, err2 := strconv.Atoi(head[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return len(strings.Split(strings.TrimSpace(lines[1]), ",")) == d+1
}

// Predictions are a model's outputs for a batch of rows.
type Predictions struct {
	// Classes names the classes (classification).
	Classes []string
	// Class is the index of the predicted class of each row, Probs the
	// class probabilities, row-major [rows, len(Classes)].
	Class []int
	Probs []float32
	// Values are the regression outputs, row-major [rows, outputs].
	Values []float32
	// Outputs is the number of outputs per row.
	Outputs int
	// Inputs names each row's input when the rows are not lines of a
	// table (images: the file, or "<idx file>[i]"); nil otherwise.
	Inputs []string
}

// Features turns the rows of f into model inputs: through the artifact's
// fitted preprocessing when it has one, else the numeric columns of f (all
// but skip) taken as they are, which must match the input size.
//
// For a sequence model with a window spec it returns one sample per
// window instead (see WindowFeatures).
func Features(m *model.Model, f *data.Frame, skip string) ([]float32, int, error) {
	if m.Spec.Window != nil {
		x, n, _, err := WindowFeatures(m, f)
		return x, n, err
	}
	want := prod(m.Spec.Architecture.Input)
	if m.Spec.Preprocessing != nil {
		x, w, err := m.Spec.Preprocessing.Transform(f)
		if err != nil {
			return nil, 0, err
		}
		if w != want {
			return nil, 0, fmt.Errorf("preprocessing gives %d features, the model takes %d", w, want)
		}
		return x, f.NumRows(), nil
	}
	var cols []string
	for _, c := range f.Columns {
		if c.Name != skip {
			if c.Type != data.Numeric {
				return nil, 0, fmt.Errorf("column %q is not numeric and the model has no preprocessing to encode it", c.Name)
			}
			cols = append(cols, c.Name)
		}
	}
	if len(cols) != want {
		return nil, 0, fmt.Errorf("the input has %d numeric columns, the model takes %d values per sample (%v)", len(cols), want, m.Spec.Architecture.Input)
	}
	x, _, err := f.Float32(cols...)
	return x, f.NumRows(), err
}

// Predict runs the artifact on n rows of input features x (as given by
// Features), in batches of 256, and returns class probabilities or
// regression values.
func Predict(m *model.Model, x []float32, n int) (*Predictions, error) {
	in := m.Spec.Architecture.Input
	w := prod(in)
	if len(x) != n*w {
		return nil, fmt.Errorf("train: %d values for %d rows of %d features", len(x), n, w)
	}
	p := &Predictions{Outputs: m.Spec.Architecture.Outputs}
	cls := m.Spec.Task != Regression
	if cls {
		p.Classes = m.Spec.Labels
	}
	nn.Train(m.Net, false)
	for s := 0; s < n; s += 256 {
		e := min(n, s+256)
		xt := tensor.FromSlice(x[s*w:e*w], append([]int{e - s}, in...)...)
		out := m.Predict(xt)
		if !cls {
			p.Values = append(p.Values, out.Data()...)
			continue
		}
		var pr *tensor.Tensor
		pr = tensor.Softmax(out, 1)
		p.Probs = append(p.Probs, pr.Data()...)
		if t := m.Spec.Threshold; t != nil && p.Outputs == 2 {
			for i, v := range pr.Data() {
				if i%2 == 1 {
					p.Class = append(p.Class, b2i(float64(v) >= *t))
				}
			}
			continue
		}
		for _, c := range tensor.Argmax(out, 1, false).Data() {
			p.Class = append(p.Class, int(c))
		}
	}
	return p, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// PredictFrame is Features and Predict on the rows of f (label, when not
// "", names a column to leave out of the inputs), and for a forecaster
// with a target transform (model.Window Log or Difference) it maps each
// output back to the target's units with the series' value at the
// window's last row. It returns the predictions and their number.
func PredictFrame(m *model.Model, f *data.Frame, label string) (*Predictions, int, error) {
	w := m.Spec.Window
	if w == nil || !w.Transforms() {
		x, n, err := Features(m, f, label)
		if err != nil {
			return nil, 0, err
		}
		p, err := Predict(m, x, n)
		return p, n, err
	}
	x, ws, err := windowSamples(m, f)
	if err != nil {
		return nil, 0, err
	}
	p, err := Predict(m, x, len(ws))
	if err != nil {
		return nil, 0, err
	}
	raw := f.Col(w.Column).Num
	for i, win := range ws {
		p.Values[i] = float32(w.Invert(float64(p.Values[i]), raw[win.end]))
	}
	return p, len(ws), nil
}

// LabelColumn returns the column of f that the artifact does not take as
// an input (the label of an evaluation file), or "" when there is none or
// more than one.
func LabelColumn(m *model.Model, f *data.Frame) string {
	if w := m.Spec.Window; w != nil {
		if f.Col(w.Column) != nil {
			return w.Column
		}
		return ""
	}
	if m.Spec.Preprocessing == nil {
		return ""
	}
	in := map[string]bool{}
	for _, fl := range m.Spec.Preprocessing.Inputs() {
		in[fl.Name] = true
	}
	found := ""
	for _, n := range f.Names() {
		if !in[n] {
			if found != "" {
				return ""
			}
			found = n
		}
	}
	return found
}

// EvaluateFrame scores the artifact on the rows of f against the label
// column target: class names (or class indices) for classification,
// numbers for regression.
func EvaluateFrame(m *model.Model, f *data.Frame, target string) (*Evaluation, error) {
	tc := f.Col(target)
	if tc == nil {
		return nil, fmt.Errorf("no label column %q (columns: %s)", target, strings.Join(f.Names(), ", "))
	}
	var x []float32
	var n int
	var err error
	var invert func(pred, target []float64, idx []int)
	if m.Spec.Window != nil {
		// Windows read the label column at their label row; a forecast
		// past the last row has no label and is left out.
		xw, ws, err := windowSamples(m, f)
		if err != nil {
			return nil, err
		}
		w := prod(m.Spec.Architecture.Input)
		x = xw[:0]
		var keep []int
		var kept []window
		for i, win := range ws {
			if win.target >= 0 {
				x = append(x, xw[i*w:(i+1)*w]...)
				keep = append(keep, win.target)
				kept = append(kept, win)
			}
		}
		n = len(keep)
		if sw := m.Spec.Window; sw.Transforms() && m.Spec.Task == Regression {
			// The network predicts the transformed target: score it
			// against that, then report the metrics in the target's units.
			if target != sw.Column {
				return nil, fmt.Errorf("the model forecasts %q; evaluate it against that column, not %q", sw.Column, target)
			}
			segs, err := segments(f, sw.Group)
			if err != nil {
				return nil, err
			}
			_, yt, err := transformTarget(sw, f, segs)
			if err != nil {
				return nil, err
			}
			raw := f.Col(target).Num
			invert = windowInverse(sw, raw, kept)
			y := make([]float32, n)
			for i, r := range keep {
				y[i] = yt[r]
			}
			return evaluateRegression(m, x, n, y, invert)
		}
		f = f.Take(keep)
		tc = f.Col(target)
	} else {
		x, n, err = Features(m, f.Drop(target), "")
		if err != nil {
			return nil, err
		}
	}
	if n == 0 {
		return nil, errors.New("no rows")
	}
	in := append([]int{}, m.Spec.Architecture.Input...)
	if m.Spec.Task == Regression {
		if tc.Type != data.Numeric {
			return nil, fmt.Errorf("label column %q is not numeric", target)
		}
		y := make([]float32, n)
		for i, v := range tc.Num {
			y[i] = float32(v)
		}
		return evaluateRegression(m, x, n, y, nil)
	}
	y := make([]int64, n)
	for i := range n {
		v := tc.Value(i)
		k := slices.Index(m.Spec.Labels, v)
		if k < 0 {
			if j, err := strconv.Atoi(v); err == nil && j >= 0 && j < len(m.Spec.Labels) {
				k = j
			} else if fv, err := strconv.ParseFloat(v, 64); err == nil && fv == float64(int(fv)) && int(fv) >= 0 && int(fv) < len(m.Spec.Labels) {
				k = int(fv)
			} else {
				return nil, fmt.Errorf("row %d: label %q is not one of the model's classes %v", i+1, v, m.Spec.Labels)
			}
		}
		y[i] = int64(k)
	}
	ds, err := data.NewArrayDataset(x, in, y)
	if err != nil {
		return nil, err
	}
	return evaluateClasses(m, ds)
}

// evaluateClasses scores the artifact on a labelled dataset, with its
// decision threshold when it has one.
func evaluateClasses(m *model.Model, ds data.Dataset) (*Evaluation, error) {
	l, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: 256})
	if err != nil {
		return nil, err
	}
	o := FitOptions{Model: m.Net, Optimizer: nopOptimizer{}, Train: l, Val: l, Epochs: 1, Task: Classification, Classes: m.Spec.Labels}
	if m.Spec.Threshold != nil {
		o.Threshold = *m.Spec.Threshold
	}
	if err := checkFit(&o); err != nil {
		return nil, err
	}
	return evaluate(m.Net, l, &o)
}

// evaluateRegression scores the artifact on n inputs x against targets y
// on the model's scale; invert, when set, maps predictions and targets
// to the units the metrics are reported in (FitOptions.Invert).
func evaluateRegression(m *model.Model, x []float32, n int, y []float32, invert func(pred, target []float64, idx []int)) (*Evaluation, error) {
	ds, err := data.NewRegressionDataset(x, slices.Clone(m.Spec.Architecture.Input), y, 1)
	if err != nil {
		return nil, err
	}
	l, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: 256})
	if err != nil {
		return nil, err
	}
	o := FitOptions{Model: m.Net, Optimizer: nopOptimizer{}, Train: l, Val: l, Epochs: 1, Task: Regression, Invert: invert}
	if err := checkFit(&o); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errors.New("no rows")
	}
	return evaluate(m.Net, l, &o)
}
