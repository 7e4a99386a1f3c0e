package model

import (
	"fmt"

	"github.com/shenml/shen/data"
)

// This file cuts time-ordered rows into the samples of a sequence model
// (see Window). Training and inference share it, so a window seen in
// production is cut exactly as the windows the model was trained on.

// WindowSample is one sequence sample: rows End-Length+1..End are its
// input and row Label its label (-1: the row after the data, a forecast
// of the future).
type WindowSample struct{ End, Label int }

// Segments returns the runs [start, end) of consecutive rows of f with the
// same value of the group column (the whole frame when group is "").
func Segments(f *data.Frame, group string) ([][2]int, error) {
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

// SegmentStart returns the first row of the segment holding row r.
func SegmentStart(segs [][2]int, r int) int {
	for _, sg := range segs {
		if r >= sg[0] && r < sg[1] {
			return sg[0]
		}
	}
	return 0
}

// Samples lists the windows of one segment [s, e) with the given stride;
// with Target "next" a window whose next row lies past the segment is not
// a sample.
func (w Window) Samples(seg [2]int, stride int) []WindowSample {
	var out []WindowSample
	for end := seg[0] + w.Length - 1; end < seg[1]; end += stride {
		t := end
		if w.Target == "next" {
			t = end + 1
			if t >= seg[1] {
				break
			}
		}
		out = append(out, WindowSample{end, t})
	}
	return out
}

// GatherWindows copies the transformed rows x (width values a row) of each
// window into one [len(ws), length, width] block.
func GatherWindows(x []float32, width int, ws []WindowSample, length int) []float32 {
	out := make([]float32, 0, len(ws)*length*width)
	for _, w := range ws {
		out = append(out, x[(w.End-length+1)*width:(w.End+1)*width]...)
	}
	return out
}

// TransformTarget applies the window's target transform (Log, Difference)
// to each series of f's target column. It returns f with that column
// replaced by the transformed values (NaN where there are none: the first
// row of each series when differencing) and those values as float32
// labels.
func (w *Window) TransformTarget(f *data.Frame, segs [][2]int) (*data.Frame, []float32, error) {
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

// Inverse returns the map from a transformed target back to its units for
// the windows ws (in dataset order), in the form train.FitOptions.Invert
// takes: a prediction becomes Invert of it with the target's raw value at
// the window's last row, and the target its raw value.
func (w *Window) Inverse(raw []float64, ws []WindowSample) func(pred, target []float64, idx []int) {
	return func(pred, target []float64, idx []int) {
		for j, i := range idx {
			pred[j] = w.Invert(pred[j], raw[ws[i].End])
			target[j] = raw[ws[i].Label]
		}
	}
}
