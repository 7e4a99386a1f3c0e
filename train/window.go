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
	mw := &model.Window{Length: wc.Length, Target: wc.Target, Column: d.Target, Group: wc.Group}
	segs, err := segments(f, wc.Group)
	if err != nil {
		return nil, cfg.errAt("data.window.group", "%v", err)
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
		trainRows = append(trainRows, seq(nTrain)...)
		for i := len(trainRows) - nTrain; i < len(trainRows); i++ {
			trainRows[i] += sg[0]
		}
		for _, w := range windowsOf(sg, *mw, wc.Stride) {
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
	p.trainN, p.valN, p.testN = len(split[0]), len(split[1]), len(split[2])
	if cfg.Task == Regression && wc.Target == "next" && p.testN > 0 {
		// The naive forecast (the last value again) is the baseline to beat.
		if tc := f.Col(d.Target); tc != nil && slices.Contains(feats, d.Target) {
			var se float64
			for _, w := range split[2] {
				e := tc.Num[w.end] - float64(yf[w.target])
				se += e * e
			}
			p.naiveRMSE = math.Sqrt(se / float64(len(split[2])))
		}
	}
	return p, nil
}

// WindowFeatures cuts the rows of f into the windows of a sequence
// model's artifact (stride 1, in each group separately), through its
// fitted preprocessing. It returns the inputs, the number of windows, and
// for each window the row of its label (the last row, or the next one for
// forecasting models); a forecasting model also gets a window ending at
// the last row of each group, whose label row is -1 (the future).
func WindowFeatures(m *model.Model, f *data.Frame) (x []float32, n int, labelRows []int, err error) {
	w := m.Spec.Window
	if w == nil || m.Spec.Preprocessing == nil {
		return nil, 0, nil, fmt.Errorf("the model has no window spec")
	}
	segs, err := segments(f, w.Group)
	if err != nil {
		return nil, 0, nil, err
	}
	names := make([]string, 0)
	for _, in := range m.Spec.Preprocessing.Inputs() {
		names = append(names, in.Name)
	}
	fx, err := f.Select(names...)
	if err != nil {
		return nil, 0, nil, err
	}
	rows, width, err := m.Spec.Preprocessing.Transform(fx)
	if err != nil {
		return nil, 0, nil, err
	}
	if in := m.Spec.Architecture.Input; len(in) != 2 || in[0] != w.Length || in[1] != width {
		return nil, 0, nil, fmt.Errorf("preprocessing gives windows [%d, %d], the model takes %v", w.Length, width, in)
	}
	var ws []window
	for _, sg := range segs {
		last := model.Window{Length: w.Length, Target: "last"}
		for _, win := range windowsOf(sg, last, 1) {
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
		return nil, 0, nil, fmt.Errorf("%d rows give no window of %d steps", f.NumRows(), w.Length)
	}
	labelRows = make([]int, len(ws))
	for i, win := range ws {
		labelRows[i] = win.target
	}
	return gather(rows, width, ws, w.Length), len(ws), labelRows, nil
}
