package train

import (
	"fmt"
	"math"
	"slices"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/model"
)

// window is one sequence sample: rows end-length+1..end as input and row
// target as its label.
type window struct{ end, target int }

// segments returns the runs [start, end) of consecutive rows with the same
// value of the group column (the whole frame when group is "").
func segments(f *data.Frame, group string) ([][2]int, error) {
	n := f.NumRows()
	if group == "" {
		return [][2]int{{0, n}}, nil
	}
	g := f.Col(group)
	if g == nil {
		return nil, fmt.Errorf("group column %q is not in the data (columns: %v)", group, f.Names())
	}
	var out [][2]int
	s := 0
	for i := 1; i <= n; i++ {
		if i == n || g.Value(i) != g.Value(s) {
			out = append(out, [2]int{s, i})
			s = i
		}
	}
	return out, nil
}

// windowsOf lists the windows of one segment [s, e) with the given stride.
func windowsOf(seg [2]int, w model.Window, stride int) []window {
	var out []window
	for end := seg[0] + w.Length - 1; end < seg[1]; end += stride {
		t := end
		if w.Target == "next" {
			t = end + 1
			if t >= seg[1] {
				break
			}
		}
		out = append(out, window{end, t})
	}
	return out
}

// gather copies the transformed rows of each window into one [len(ws),
// length, width] block.
func gather(x []float32, width int, ws []window, length int) []float32 {
	out := make([]float32, 0, len(ws)*length*width)
	for _, w := range ws {
		out = append(out, x[(w.end-length+1)*width:(w.end+1)*width]...)
	}
	return out
}

// prepareWindows cuts the cleaned, time-ordered rows of f into windows.
// Each series (group) is split by time: its first rows train, the next
// validate, the last test, and a window belongs to the split of its
// target row, so no training window sees a later row. The preprocessing
// is fitted on the training rows only. For regression the network ends in
// a Rescale fitted to the training targets, so it learns standardised
// values but predicts (and is scored) in the target's units.
func prepareWindows(cfg *Config, p *prepared, f *data.Frame, feats []string, labels []int64, yf []float32) (*prepared, error) {
	d := cfg.Data
	wc := d.Window
	mw := &model.Window{Length: wc.Length, Target: wc.Target, Column: d.Target, Group: wc.Group, Log: wc.Log, Difference: wc.Difference}
	segs, err := segments(f, wc.Group)
	if err != nil {
		return nil, cfg.errAt("data.window.group", "%v", err)
	}
	// raw is the target in its units (regression); with a transform, f's
	// target column and yf become the transformed series.
	var raw []float64
	if cfg.Task == Regression {
		raw = f.Col(d.Target).Num
	}
	if mw.Transforms() {
		if f, yf, err = transformTarget(mw, f, segs); err != nil {
			return nil, cfg.errAt(firstSet(cfg, "data.window.log", "data.window.difference"), "%v", err)
		}
	}
	// skip is the number of rows at the start of each series that have no
	// transformed value (the first, when differencing).
	skip := 0
	if mw.Difference {
		skip = 1
	}
	val, test := *d.Split.Val, *d.Split.Test
	var trainRows []int
	var split [3][]window
	// With split group, whole series go to one split: the last series to
	// test until it holds its fraction of the rows, the ones before to val.
	groupSplit := make([]int, len(segs))
	if wc.Split == "group" {
		total := float64(f.NumRows())
		var acc float64
		for i := len(segs) - 1; i >= 0; i-- {
			switch {
			case acc < test*total:
				groupSplit[i] = 2
			case acc < (test+val)*total:
				groupSplit[i] = 1
			}
			acc += float64(segs[i][1] - segs[i][0])
		}
	}
	for si, sg := range segs {
		m := sg[1] - sg[0]
		nTrain := int(math.Round(float64(m) * (1 - val - test)))
		nVal := int(math.Round(float64(m) * val))
		if wc.Split == "group" {
			nTrain, nVal = 0, 0
			switch groupSplit[si] {
			case 0:
				nTrain = m
			case 1:
				nVal = m
			}
		}
		for r := sg[0] + skip; r < sg[0]+nTrain; r++ {
			trainRows = append(trainRows, r)
		}
		for _, w := range windowsOf([2]int{min(sg[0]+skip, sg[1]), sg[1]}, *mw, wc.Stride) {
			k := 2
			switch r := w.target - sg[0]; {
			case r < nTrain:
				k = 0
			case r < nTrain+nVal:
				k = 1
			}
			split[k] = append(split[k], w)
		}
	}
	if len(split[0]) == 0 {
		return nil, cfg.errAt("data.window.length", "%d leaves no training windows in %d rows (split by time: %.0f%% train)", wc.Length, f.NumRows(), 100*(1-val-test))
	}
	fx, err := f.Select(feats...)
	if err != nil {
		return nil, err
	}
	trainX := fx.Take(trainRows)
	p.pipe = buildPipeline(cfg, trainX)
	if err := p.pipe.Fit(trainX); err != nil {
		return nil, fmt.Errorf("train: fitting preprocessing on the training rows: %w", err)
	}
	p.profile = data.NewProfile(trainX, 10)
	x, width, err := p.pipe.Transform(fx)
	if err != nil {
		return nil, err
	}
	p.input = []int{wc.Length, width}
	p.window = mw
	if cfg.Task == Regression {
		var sum, sq float64
		for _, w := range split[0] {
			sum += float64(yf[w.target])
		}
		mean := sum / float64(len(split[0]))
		for _, w := range split[0] {
			sq += (float64(yf[w.target]) - mean) * (float64(yf[w.target]) - mean)
		}
		std := math.Sqrt(sq / float64(len(split[0])))
		if std == 0 {
			std = 1
		}
		p.rescale = []float32{float32(std), float32(mean)}
	}
	mk := func(ws []window) (data.Dataset, error) {
		xs := gather(x, width, ws, wc.Length)
		if cfg.Task == Classification {
			ys := make([]int64, len(ws))
			for i, w := range ws {
				ys[i] = labels[w.target]
			}
			return data.NewArrayDataset(xs, p.input, ys)
		}
		ys := make([]float32, len(ws))
		for i, w := range ws {
			ys[i] = yf[w.target]
		}
		return data.NewRegressionDataset(xs, p.input, ys, 1)
	}
	if p.trainDS, err = mk(split[0]); err != nil {
		return nil, err
	}
	if p.valDS, err = mk(split[1]); err != nil {
		return nil, err
	}
	if p.testDS, err = mk(split[2]); err != nil {
		return nil, err
	}
	if cfg.Task == Classification {
		p.trainY = make([]int64, len(split[0]))
		for i, w := range split[0] {
			p.trainY[i] = labels[w.target]
		}
	}
	p.trainN, p.valN, p.testN = len(split[0]), len(split[1]), len(split[2])
	if mw.Transforms() {
		p.valInvert = windowInverse(mw, raw, split[1])
		p.testInvert = windowInverse(mw, raw, split[2])
	}
	if cfg.Task == Regression && wc.Target == "next" && p.testN > 0 {
		// The naive forecast (the last value again) is the baseline to
		// beat; with a season, so is the value one season before.
		if slices.Contains(feats, d.Target) {
			var se float64
			for _, w := range split[2] {
				e := raw[w.end] - raw[w.target]
				se += e * e
			}
			p.naiveRMSE = math.Sqrt(se / float64(len(split[2])))
		}
		if s := wc.Season; s > 0 {
			var se float64
			n := 0
			for _, w := range split[2] {
				if r := w.target - s; r >= segStart(segs, w.target) {
					e := raw[r] - raw[w.target]
					se += e * e
					n++
				}
			}
			if n > 0 {
				p.seasonalRMSE, p.seasonalN = math.Sqrt(se/float64(n)), n
			}
		}
	}
	return p, nil
}

// segStart returns the first row of the segment holding row r.
func segStart(segs [][2]int, r int) int {
	for _, sg := range segs {
		if r >= sg[0] && r < sg[1] {
			return sg[0]
		}
	}
	return 0
}

// transformTarget applies the window's target transform to each series
// of f's target column. It returns f with that column replaced by the
// transformed values (NaN where there are none: the first row of each
// series when differencing) and those values as float32 labels.
func transformTarget(w *model.Window, f *data.Frame, segs [][2]int) (*data.Frame, []float32, error) {
	tc := f.Col(w.Column)
	if tc == nil {
		return nil, nil, fmt.Errorf("the target column %q is not in the data", w.Column)
	}
	if tc.Type != data.Numeric {
		return nil, nil, fmt.Errorf("the target column %q is not numeric", w.Column)
	}
	yt := make([]float64, f.NumRows())
	for _, sg := range segs {
		for i := sg[0]; i < sg[1]; i++ {
			if tc.IsMissing(i) {
				return nil, nil, fmt.Errorf("%s is missing at row %d; a transformed target needs every value (set data.cleaning.missing)", w.Column, i+1)
			}
		}
		s, err := w.Series(tc.Num[sg[0]:sg[1]])
		if err != nil {
			return nil, nil, err
		}
		copy(yt[sg[0]:], s)
	}
	g := f.Drop(w.Column)
	if err := g.AddNumeric(w.Column, yt); err != nil {
		return nil, nil, err
	}
	y32 := make([]float32, len(yt))
	for i, v := range yt {
		y32[i] = float32(v)
	}
	return g, y32, nil
}

// windowInverse returns the FitOptions.Invert of a transformed target
// for the windows ws (in dataset order): a prediction becomes
// Window.Invert of it with the target's raw value at the window's last
// row, and the target its raw value.
func windowInverse(w *model.Window, raw []float64, ws []window) func(pred, target []float64, idx []int) {
	return func(pred, target []float64, idx []int) {
		for j, i := range idx {
			pred[j] = w.Invert(pred[j], raw[ws[i].end])
			target[j] = raw[ws[i].target]
		}
	}
}

// WindowFeatures cuts the rows of f into the windows of a sequence
// model's artifact (stride 1, in each group separately), through its
// fitted preprocessing. It returns the inputs, the number of windows, and
// for each window the row of its label (the last row, or the next one for
// forecasting models); a forecasting model also gets a window ending at
// the last row of each group, whose label row is -1 (the future).
//
// With a target transform (model.Window Log or Difference) the target
// column, which f must hold, is transformed first, as in training; the
// network's outputs are then on the transformed scale (PredictFrame and
// EvaluateFrame map them back).
func WindowFeatures(m *model.Model, f *data.Frame) (x []float32, n int, labelRows []int, err error) {
	x, ws, err := windowSamples(m, f)
	if err != nil {
		return nil, 0, nil, err
	}
	labelRows = make([]int, len(ws))
	for i, win := range ws {
		labelRows[i] = win.target
	}
	return x, len(ws), labelRows, nil
}

// windowSamples is WindowFeatures returning the windows themselves.
func windowSamples(m *model.Model, f *data.Frame) ([]float32, []window, error) {
	w := m.Spec.Window
	if w == nil || m.Spec.Preprocessing == nil {
		return nil, nil, fmt.Errorf("the model has no window spec")
	}
	segs, err := segments(f, w.Group)
	if err != nil {
		return nil, nil, err
	}
	skip := 0
	if w.Transforms() {
		if f.Col(w.Column) == nil {
			return nil, nil, fmt.Errorf("the model forecasts %s from its last value (window log/difference); the input needs the %q column", w.Column, w.Column)
		}
		if f, _, err = transformTarget(w, f, segs); err != nil {
			return nil, nil, err
		}
		if w.Difference {
			skip = 1
		}
	}
	names := make([]string, 0)
	for _, in := range m.Spec.Preprocessing.Inputs() {
		names = append(names, in.Name)
	}
	fx, err := f.Select(names...)
	if err != nil {
		return nil, nil, err
	}
	rows, width, err := m.Spec.Preprocessing.Transform(fx)
	if err != nil {
		return nil, nil, err
	}
	if in := m.Spec.Architecture.Input; len(in) != 2 || in[0] != w.Length || in[1] != width {
		return nil, nil, fmt.Errorf("preprocessing gives windows [%d, %d], the model takes %v", w.Length, width, in)
	}
	var ws []window
	for _, sg := range segs {
		last := model.Window{Length: w.Length, Target: "last"}
		for _, win := range windowsOf([2]int{min(sg[0]+skip, sg[1]), sg[1]}, last, 1) {
			if w.Target == "next" {
				win.target = win.end + 1
				if win.target >= sg[1] {
					win.target = -1
				}
			}
			ws = append(ws, win)
		}
	}
	if len(ws) == 0 {
		return nil, nil, fmt.Errorf("%d rows give no window of %d steps", f.NumRows(), w.Length+skip)
	}
	return gather(rows, width, ws, w.Length), ws, nil
}
