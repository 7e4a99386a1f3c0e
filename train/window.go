package train

import (
	"fmt"
	"math"
	"slices"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/model"
)

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
	segs, err := model.Segments(f, wc.Group)
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
		if f, yf, err = mw.TransformTarget(f, segs); err != nil {
			return nil, cfg.errAt(firstSet(cfg, "data.window.log", "data.window.difference"), "%v", err)
		}
	}
	// skip is the number of rows at the start of each series that have no
	// transformed value (the first, when differencing).
	skip := 0
	if mw.Difference {
		skip = 1
	}
	split, trainRows := splitWindows(cfg, mw, segs, skip, f.NumRows())
	if len(split[0]) == 0 {
		return nil, cfg.errAt("data.window.length", "%d leaves no training windows in %d rows (split by time: %.0f%% train)", wc.Length, f.NumRows(), 100*(1-*d.Split.Val-*d.Split.Test))
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
			sum += float64(yf[w.Label])
		}
		mean := sum / float64(len(split[0]))
		for _, w := range split[0] {
			sq += (float64(yf[w.Label]) - mean) * (float64(yf[w.Label]) - mean)
		}
		std := math.Sqrt(sq / float64(len(split[0])))
		if std == 0 {
			std = 1
		}
		p.rescale = []float32{float32(std), float32(mean)}
	}
	mk := func(ws []model.WindowSample) (data.Dataset, error) {
		xs := model.GatherWindows(x, width, ws, wc.Length)
		if cfg.Task == Classification {
			ys := make([]int64, len(ws))
			for i, w := range ws {
				ys[i] = labels[w.Label]
			}
			return data.NewArrayDataset(xs, p.input, ys)
		}
		ys := make([]float32, len(ws))
		for i, w := range ws {
			ys[i] = yf[w.Label]
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
			p.trainY[i] = labels[w.Label]
		}
	}
	p.trainN, p.valN, p.testN = len(split[0]), len(split[1]), len(split[2])
	if mw.Transforms() {
		p.valInvert = mw.Inverse(raw, split[1])
		p.testInvert = mw.Inverse(raw, split[2])
	}
	if cfg.Task == Regression && wc.Target == "next" && p.testN > 0 {
		naiveBaselines(cfg, p, feats, raw, segs, split[2])
	}
	return p, nil
}

// splitWindows cuts each series (segment) into windows and assigns each to
// the split of its target row: by time within each series, or with split
// group, whole series to one split (the last series to test until it
// holds its fraction of the rows, the ones before to val). It returns the
// windows of train, val and test and the rows the preprocessing is fitted
// on.
func splitWindows(cfg *Config, mw *model.Window, segs [][2]int, skip, rows int) (split [3][]model.WindowSample, trainRows []int) {
	d := cfg.Data
	wc := d.Window
	val, test := *d.Split.Val, *d.Split.Test
	// With split group, whole series go to one split: the last series to
	// test until it holds its fraction of the rows, the ones before to val.
	groupSplit := make([]int, len(segs))
	if wc.Split == "group" {
		total := float64(rows)
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
		for _, w := range mw.Samples([2]int{min(sg[0]+skip, sg[1]), sg[1]}, wc.Stride) {
			k := 2
			switch r := w.Label - sg[0]; {
			case r < nTrain:
				k = 0
			case r < nTrain+nVal:
				k = 1
			}
			split[k] = append(split[k], w)
		}
	}
	return split, trainRows
}

// naiveBaselines computes the test RMSE of the naive forecast (the last
// value again, when the target is an input) and, with a season, of the
// value one season before: the baselines a forecaster must beat.
func naiveBaselines(cfg *Config, p *prepared, feats []string, raw []float64, segs [][2]int, test []model.WindowSample) {
	d := cfg.Data
	wc := d.Window
	if slices.Contains(feats, d.Target) {
		var se float64
		for _, w := range test {
			e := raw[w.End] - raw[w.Label]
			se += e * e
		}
		p.naiveRMSE = math.Sqrt(se / float64(len(test)))
	}
	if s := wc.Season; s > 0 {
		var se float64
		n := 0
		for _, w := range test {
			if r := w.Label - s; r >= model.SegmentStart(segs, w.Label) {
				e := raw[r] - raw[w.Label]
				se += e * e
				n++
			}
		}
		if n > 0 {
			p.seasonalRMSE, p.seasonalN = math.Sqrt(se/float64(n)), n
		}
	}
}
