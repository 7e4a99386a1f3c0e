package predict

import (
	"fmt"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/model"
)

// Windows cuts the rows of f into the windows of a sequence model (stride
// 1, each group on its own) through its fitted preprocessing. It returns
// the inputs and the windows; a forecaster also gets a window ending at
// the last row of each group, whose Label is -1 (the future).
//
// With a target transform (model.Window Log or Difference) the target
// column, which f must hold, is transformed first, as in training; the
// network's outputs are then on the transformed scale (Frame and Evaluate
// map them back).
func (p *Predictor) Windows(f *data.Frame) ([]float32, []model.WindowSample, error) {
	w := p.m.Spec.Window
	if w == nil || p.m.Spec.Preprocessing == nil {
		return nil, nil, fmt.Errorf("predict: the model takes %s, not windows of rows", p.kind)
	}
	segs, err := model.Segments(f, w.Group)
	if err != nil {
		return nil, nil, err
	}
	skip := 0
	if w.Transforms() {
		if f.Col(w.Column) == nil {
			return nil, nil, fmt.Errorf("the model forecasts %s from its last value (window log/difference); the input needs the %q column", w.Column, w.Column)
		}
		if f, _, err = w.TransformTarget(f, segs); err != nil {
			return nil, nil, err
		}
		if w.Difference {
			skip = 1
		}
	}
	fx, err := f.Select(p.InputColumns()...)
	if err != nil {
		return nil, nil, err
	}
	rows, width, err := p.m.Spec.Preprocessing.Transform(fx)
	if err != nil {
		return nil, nil, err
	}
	if len(p.in) != 2 || p.in[0] != w.Length || p.in[1] != width {
		return nil, nil, fmt.Errorf("preprocessing gives windows [%d, %d], the model takes %v", w.Length, width, p.in)
	}
	var ws []model.WindowSample
	last := model.Window{Length: w.Length, Target: "last"}
	for _, sg := range segs {
		for _, win := range last.Samples([2]int{min(sg[0]+skip, sg[1]), sg[1]}, 1) {
			if w.Target == "next" {
				win.Label = win.End + 1
				if win.Label >= sg[1] {
					win.Label = -1
				}
			}
			ws = append(ws, win)
		}
	}
	if len(ws) == 0 {
		return nil, nil, fmt.Errorf("%d rows give no window of %d steps", f.NumRows(), w.Length+skip)
	}
	return model.GatherWindows(rows, width, ws, w.Length), ws, nil
}

// windowFrame answers every window of f; a forecaster with a target
// transform gets its outputs mapped back to the target's units with the
// series' value at the window's last row.
func (p *Predictor) windowFrame(f *data.Frame) (*Result, error) {
	x, ws, err := p.Windows(f)
	if err != nil {
		return nil, err
	}
	r, err := p.Tensor(x, len(ws))
	if err != nil {
		return nil, err
	}
	w := p.m.Spec.Window
	r.Rows = make([]int, len(ws))
	for i, win := range ws {
		r.Rows[i] = win.End
		if w.Target == "next" {
			r.Rows[i] = win.End + 1
		}
	}
	if w.Transforms() {
		raw := f.Col(w.Column).Num
		for i, win := range ws {
			r.Values[i] = float32(w.Invert(float64(r.Values[i]), raw[win.End]))
		}
	}
	return r, nil
}
