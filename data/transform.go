package data

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/shenml/shen/internal/safeio"
)

// PipelineVersion is the JSON format version written by Pipeline.MarshalJSON.
const PipelineVersion = 1

// maxTokenLength bounds the Tokens step's output width.
const maxTokenLength = 1 << 16

// Field names one input column of a fitted Pipeline and its type.
type Field struct {
	Name string     `json:"name"`
	Type ColumnType `json:"type"`
}

// Step is one fitted transform of a Pipeline. Steps are made by Standardize,
// MinMax, Robust, Log1p, Clip, Impute, ImputeConstant, OneHot, Ordinal,
// Tokens, DateFeatures and DropColumns.
type Step interface {
	// Kind names the step in JSON ("standardize", "onehot", ...).
	Kind() string
	fit(f *Frame) error
	apply(f *Frame) (*Frame, error)
	check() error
}

// Pipeline is an ordered list of transforms fitted on training data and
// applied identically at serving time. Fit records the input columns (all
// columns of the frame given to Fit; drop the target first) and the output
// feature names. The zero value has no steps and passes numeric columns
// through.
type Pipeline struct {
	Steps []Step
	// AllowNaN lets missing values through Transform as NaN; by default a
	// value still missing after the steps is an error naming row and column.
	AllowNaN bool

	inputs  []Field
	outputs []string
	fitted  bool
}

// NewPipeline returns an unfitted pipeline of the given steps.
func NewPipeline(steps ...Step) *Pipeline { return &Pipeline{Steps: steps} }

// Inputs returns the input columns recorded by Fit.
func (p *Pipeline) Inputs() []Field { return slices.Clone(p.inputs) }

// Outputs returns the output feature names recorded by Fit.
func (p *Pipeline) Outputs() []string { return slices.Clone(p.outputs) }

// Width returns the number of output features.
func (p *Pipeline) Width() int { return len(p.outputs) }

// Fitted reports whether Fit has run (or a fitted pipeline was loaded).
func (p *Pipeline) Fitted() bool { return p.fitted }

// Fit fits every step in order on f, each on the output of the previous,
// and records inputs and outputs. Fit on the training split only.
func (p *Pipeline) Fit(f *Frame) error {
	p.fitted = false
	p.inputs = p.inputs[:0]
	for _, c := range f.Columns {
		p.inputs = append(p.inputs, Field{c.Name, c.Type})
	}
	cur := f
	for i, s := range p.Steps {
		if err := s.fit(cur); err != nil {
			return fmt.Errorf("data: pipeline step %d (%s): fit on %s: %w", i, s.Kind(), f.name(), err)
		}
		next, err := s.apply(cur)
		if err != nil {
			return fmt.Errorf("data: pipeline step %d (%s): %w", i, s.Kind(), err)
		}
		cur = next
	}
	for _, c := range cur.Columns {
		if c.Type != Numeric {
			return fmt.Errorf("data: pipeline: column %q is still categorical after the last step; add OneHot or Ordinal for it (or DropColumns)", c.Name)
		}
	}
	p.outputs = cur.Names()
	p.fitted = true
	return nil
}

// Apply conforms f to the fitted inputs (extra columns are ignored, numbers
// in a categorical input are formatted, numeric strings in a numeric input
// parsed) and runs the steps, returning the output frame of numeric columns.
func (p *Pipeline) Apply(f *Frame) (*Frame, error) {
	if !p.fitted {
		return nil, errors.New("data: pipeline is not fitted; call Fit on the training data first")
	}
	cur, err := p.conform(f)
	if err != nil {
		return nil, err
	}
	for i, s := range p.Steps {
		if cur, err = s.apply(cur); err != nil {
			return nil, fmt.Errorf("data: pipeline step %d (%s) on %s: %w", i, s.Kind(), f.name(), err)
		}
	}
	if got := cur.Names(); !slices.Equal(got, p.outputs) {
		return nil, fmt.Errorf("data: pipeline produced columns %v, fitted outputs are %v", got, p.outputs)
	}
	return cur, nil
}

// Transform applies the fitted pipeline and returns row-major features and
// their width (len(Outputs)). It allocates the result.
func (p *Pipeline) Transform(f *Frame) ([]float32, int, error) {
	out, err := p.Apply(f)
	if err != nil {
		return nil, 0, err
	}
	w, n := len(out.Columns), out.NumRows()
	x := make([]float32, n*w)
	for j, c := range out.Columns {
		for i, v := range c.Num {
			if math.IsNaN(v) && !p.AllowNaN {
				where := f.name()
				if l := f.line(i); l > 0 {
					where += ":" + strconv.Itoa(l)
				}
				return nil, 0, fmt.Errorf("data: %s: row %d: feature %q is missing after the pipeline; add an Impute step or set AllowNaN", where, i, c.Name)
			}
			x[i*w+j] = float32(v)
		}
	}
	return x, w, nil
}

// TransformMatrix is Transform returning one slice per row.
func (p *Pipeline) TransformMatrix(f *Frame) ([][]float32, error) {
	x, w, err := p.Transform(f)
	if err != nil {
		return nil, err
	}
	n := 0
	if w > 0 {
		n = len(x) / w
	}
	rows := make([][]float32, n)
	for i := range rows {
		rows[i] = x[i*w : (i+1)*w : (i+1)*w]
	}
	return rows, nil
}

// TransformRow transforms one record, as decoded from a JSON request: keys
// are input names; values may be numbers (float64, float32, int, int64,
// json.Number), strings, booleans (categorical inputs) or nil. Absent keys
// are missing values; unknown keys are ignored. An unknown category never
// fails (it encodes as zeros / the reserved index).
func (p *Pipeline) TransformRow(row map[string]any) ([]float32, error) {
	x, _, err := p.TransformRows([]map[string]any{row})
	return x, err
}

// TransformRows transforms several records; see TransformRow.
func (p *Pipeline) TransformRows(rows []map[string]any) ([]float32, int, error) {
	if !p.fitted {
		return nil, 0, errors.New("data: pipeline is not fitted")
	}
	f := &Frame{Source: "request"}
	for _, in := range p.inputs {
		c := &Column{Name: in.Name, Type: in.Type}
		for i, r := range rows {
			v, ok := r[in.Name]
			if !ok {
				v = nil
			}
			if in.Type == Numeric {
				x, err := ToNumber(v)
				if err != nil {
					return nil, 0, fmt.Errorf("data: request row %d: field %q: %w", i, in.Name, err)
				}
				c.Num = append(c.Num, x)
			} else {
				s, err := ToCategory(v)
				if err != nil {
					return nil, 0, fmt.Errorf("data: request row %d: field %q: %w", i, in.Name, err)
				}
				c.Cat = append(c.Cat, s)
			}
		}
		f.Columns = append(f.Columns, c)
	}
	return p.Transform(f)
}

// conform selects the fitted inputs from f in order, converting types.
func (p *Pipeline) conform(f *Frame) (*Frame, error) {
	out := &Frame{Source: f.Source, Lines: f.Lines}
	for _, in := range p.inputs {
		c := f.Col(in.Name)
		if c == nil {
			return nil, fmt.Errorf("data: %s: input column %q is absent (have %s)", f.name(), in.Name, f.ColumnList())
		}
		switch {
		case c.Type == in.Type:
		case in.Type == Categorical:
			nc := &Column{Name: c.Name, Type: Categorical, Cat: make([]string, c.Len())}
			for i := range nc.Cat {
				nc.Cat[i] = c.Value(i)
			}
			c = nc
		default:
			nc := &Column{Name: c.Name, Type: Numeric, Num: make([]float64, c.Len())}
			for i, s := range c.Cat {
				if s == "" {
					nc.Num[i] = math.NaN()
					continue
				}
				v, ok := parseNumber(s)
				if !ok {
					return nil, Issue{File: f.name(), Line: f.line(i), Column: c.Name, Value: s,
						Msg: badNumberMsg(s) + " (the column was numeric in training)"}
				}
				nc.Num[i] = v
			}
			c = nc
		}
		out.Columns = append(out.Columns, c)
	}
	return out, nil
}

type pipelineJSON struct {
	Version  int               `json:"version"`
	Fitted   bool              `json:"fitted"`
	AllowNaN bool              `json:"allow_nan,omitempty"`
	Inputs   []Field           `json:"inputs"`
	Outputs  []string          `json:"outputs"`
	Steps    []json.RawMessage `json:"steps"`
}

// MarshalJSON encodes the pipeline, its fitted parameters included, as
// {"version":1,"fitted":...,"inputs":[...],"outputs":[...],"steps":[{"kind":...}]}.
func (p *Pipeline) MarshalJSON() ([]byte, error) {
	j := pipelineJSON{Version: PipelineVersion, Fitted: p.fitted, AllowNaN: p.AllowNaN,
		Inputs: p.inputs, Outputs: p.outputs, Steps: []json.RawMessage{}}
	if j.Inputs == nil {
		j.Inputs = []Field{}
	}
	if j.Outputs == nil {
		j.Outputs = []string{}
	}
	for _, s := range p.Steps {
		b, err := json.Marshal(s)
		if err != nil {
			return nil, fmt.Errorf("data: encode step %s: %w", s.Kind(), err)
		}
		kind, _ := json.Marshal(s.Kind())
		obj := append([]byte(`{"kind":`), kind...)
		if inner := bytes.TrimSpace(b); len(inner) > 2 {
			obj = append(obj, ',')
			obj = append(obj, inner[1:]...)
		} else {
			obj = append(obj, '}')
		}
		j.Steps = append(j.Steps, obj)
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes and validates a pipeline. A fitted pipeline is
// checked by running its steps on an empty frame of its inputs: the result
// must have the recorded outputs, so a loaded pipeline cannot fail later for
// structural reasons.
func (p *Pipeline) UnmarshalJSON(b []byte) error {
	var j pipelineJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("data: pipeline: %w", err)
	}
	if j.Version != PipelineVersion {
		return fmt.Errorf("data: pipeline: format version %d is not supported (want %d)", j.Version, PipelineVersion)
	}
	np := Pipeline{AllowNaN: j.AllowNaN, fitted: j.Fitted, inputs: j.Inputs, outputs: j.Outputs}
	for i, raw := range j.Steps {
		var k struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(raw, &k); err != nil {
			return fmt.Errorf("data: pipeline step %d: %w", i, err)
		}
		s := newStep(k.Kind)
		if s == nil {
			return fmt.Errorf("data: pipeline step %d: unknown kind %q", i, k.Kind)
		}
		if err := json.Unmarshal(raw, s); err != nil {
			return fmt.Errorf("data: pipeline step %d (%s): %w", i, k.Kind, err)
		}
		if j.Fitted {
			if err := s.check(); err != nil {
				return fmt.Errorf("data: pipeline step %d (%s): %w", i, k.Kind, err)
			}
		}
		np.Steps = append(np.Steps, s)
	}
	if j.Fitted {
		f := &Frame{Source: "pipeline check"}
		seen := map[string]bool{}
		for _, in := range j.Inputs {
			if in.Type != Numeric && in.Type != Categorical {
				return fmt.Errorf("data: pipeline: input %q has no type", in.Name)
			}
			if seen[in.Name] {
				return fmt.Errorf("data: pipeline: input %q listed twice", in.Name)
			}
			seen[in.Name] = true
			c := &Column{Name: in.Name, Type: in.Type}
			if in.Type == Numeric {
				c.Num = []float64{}
			} else {
				c.Cat = []string{}
			}
			f.Columns = append(f.Columns, c)
		}
		if _, err := np.Apply(f); err != nil {
			return fmt.Errorf("data: pipeline is inconsistent: %w", err)
		}
	}
	*p = np
	return nil
}

// Save writes the pipeline as JSON, atomically.
func (p *Pipeline) Save(path string) error { return writeJSONAtomic(path, p) }

// LoadPipeline reads a pipeline written by Save.
func LoadPipeline(path string) (*Pipeline, error) {
	b, err := safeio.ReadFile(path, safeio.MaxJSON)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	p := &Pipeline{}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

func newStep(kind string) Step {
	switch kind {
	case "standardize", "minmax", "robust":
		return &scaleStep{kind: kind}
	case "log1p":
		return &log1pStep{}
	case "clip":
		return &clipStep{}
	case "impute":
		return &imputeStep{}
	case "onehot":
		return &onehotStep{}
	case "ordinal":
		return &ordinalStep{}
	case "drop":
		return &dropStep{}
	case "tokens":
		return &tokensStep{}
	case "dates":
		return &dateStep{}
	}
	return nil
}

// resolve returns cols, or the names of all columns of type t when empty.
func resolve(f *Frame, cols []string, t ColumnType) []string {
	if len(cols) > 0 {
		return slices.Clone(cols)
	}
	var out []string
	for _, c := range f.Columns {
		if c.Type == t {
			out = append(out, c.Name)
		}
	}
	return out
}

// column returns the named column, checking its type.
func column(f *Frame, name string, t ColumnType) (*Column, int, error) {
	i := f.index(name)
	if i < 0 {
		return nil, -1, fmt.Errorf("no column %q (have %s)", name, f.ColumnList())
	}
	c := f.Columns[i]
	if t != Auto && c.Type != t {
		return nil, -1, fmt.Errorf("column %q is %s, the step needs %s", name, c.Type, t)
	}
	return c, i, nil
}

func checkFinite(name string, vals ...[]float64) error {
	for _, v := range vals {
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("%s holds a non-finite value", name)
			}
		}
	}
	return nil
}

func checkLens(n int, what string, lens ...int) error {
	for _, l := range lens {
		if l != n {
			return fmt.Errorf("%s: %d columns but %d fitted values", what, n, l)
		}
	}
	return nil
}

// scaleStep maps x to (x-center)/scale per column.
type scaleStep struct {
	kind   string
	Cols   []string  `json:"columns"`
	Center []float64 `json:"center"`
	Scale  []float64 `json:"scale"`
}

// Standardize scales numeric columns (all numeric columns when none are
// named) to zero mean and unit variance: (x-mean)/std with the population
// std of the training data (1 when the std is 0). Missing values stay missing.
func Standardize(cols ...string) Step { return &scaleStep{kind: "standardize", Cols: cols} }

// MinMax scales numeric columns to [0,1] over the training range:
// (x-min)/(max-min), with a range of 0 treated as 1.
func MinMax(cols ...string) Step { return &scaleStep{kind: "minmax", Cols: cols} }

// Robust scales numeric columns by median and interquartile range:
// (x-median)/(q75-q25), with an IQR of 0 treated as 1.
func Robust(cols ...string) Step { return &scaleStep{kind: "robust", Cols: cols} }

func (s *scaleStep) Kind() string { return s.kind }

func (s *scaleStep) fit(f *Frame) error {
	s.Cols = resolve(f, s.Cols, Numeric)
	s.Center, s.Scale = nil, nil
	for _, name := range s.Cols {
		c, _, err := column(f, name, Numeric)
		if err != nil {
			return err
		}
		var center, scale float64
		switch s.kind {
		case "standardize":
			m, sd, n := meanStd(c.Num)
			if n == 0 {
				return fmt.Errorf("column %q has no values to fit", name)
			}
			center, scale = m, sd
		case "minmax", "robust":
			v := sortedPresent(c.Num)
			if len(v) == 0 {
				return fmt.Errorf("column %q has no values to fit", name)
			}
			if s.kind == "minmax" {
				center, scale = v[0], v[len(v)-1]-v[0]
			} else {
				center, scale = quantileSorted(v, 0.5), quantileSorted(v, 0.75)-quantileSorted(v, 0.25)
			}
		}
		if scale == 0 || math.IsNaN(scale) || math.IsInf(scale, 0) {
			scale = 1
		}
		s.Center = append(s.Center, center)
		s.Scale = append(s.Scale, scale)
	}
	return nil
}

func (s *scaleStep) check() error {
	if err := checkLens(len(s.Cols), s.kind, len(s.Center), len(s.Scale)); err != nil {
		return err
	}
	if err := checkFinite(s.kind, s.Center, s.Scale); err != nil {
		return err
	}
	for _, v := range s.Scale {
		if v == 0 {
			return errors.New("scale of 0")
		}
	}
	return nil
}

func (s *scaleStep) apply(f *Frame) (*Frame, error) {
	out := f.shallow()
	for k, name := range s.Cols {
		c, i, err := column(f, name, Numeric)
		if err != nil {
			return nil, err
		}
		nc := &Column{Name: name, Type: Numeric, Num: make([]float64, len(c.Num))}
		for r, v := range c.Num {
			nc.Num[r] = (v - s.Center[k]) / s.Scale[k]
		}
		out.Columns[i] = nc
	}
	return out, nil
}

// log1pStep maps x to log(1+x).
type log1pStep struct {
	Cols []string `json:"columns"`
}

// Log1p replaces numeric columns (all when none named) by log(1+x). Values
// at or below -1 become missing.
func Log1p(cols ...string) Step { return &log1pStep{Cols: cols} }

func (s *log1pStep) Kind() string { return "log1p" }
func (s *log1pStep) check() error { return nil }
func (s *log1pStep) fit(f *Frame) error {
	s.Cols = resolve(f, s.Cols, Numeric)
	return nil
}
func (s *log1pStep) apply(f *Frame) (*Frame, error) {
	out := f.shallow()
	for _, name := range s.Cols {
		c, i, err := column(f, name, Numeric)
		if err != nil {
			return nil, err
		}
		nc := &Column{Name: name, Type: Numeric, Num: make([]float64, len(c.Num))}
		for r, v := range c.Num {
			if v <= -1 {
				nc.Num[r] = math.NaN()
			} else {
				nc.Num[r] = math.Log1p(v)
			}
		}
		out.Columns[i] = nc
	}
	return out, nil
}

// clipStep clips numeric columns to fitted quantiles.
type clipStep struct {
	Cols  []string  `json:"columns"`
	LowQ  float64   `json:"low_q"`
	HighQ float64   `json:"high_q"`
	Low   []float64 `json:"low"`
	High  []float64 `json:"high"`
}

// Clip clips numeric columns (all when none named) to the [lowQ, highQ]
// quantiles of the training data, e.g. Clip(0.01, 0.99).
func Clip(lowQ, highQ float64, cols ...string) Step {
	return &clipStep{Cols: cols, LowQ: lowQ, HighQ: highQ}
}

func (s *clipStep) Kind() string { return "clip" }
func (s *clipStep) fit(f *Frame) error {
	if !(s.LowQ >= 0 && s.LowQ <= s.HighQ && s.HighQ <= 1) {
		return fmt.Errorf("quantiles [%g,%g] must satisfy 0 <= low <= high <= 1", s.LowQ, s.HighQ)
	}
	s.Cols = resolve(f, s.Cols, Numeric)
	s.Low, s.High = nil, nil
	for _, name := range s.Cols {
		c, _, err := column(f, name, Numeric)
		if err != nil {
			return err
		}
		v := sortedPresent(c.Num)
		if len(v) == 0 {
			return fmt.Errorf("column %q has no values to fit", name)
		}
		s.Low = append(s.Low, quantileSorted(v, s.LowQ))
		s.High = append(s.High, quantileSorted(v, s.HighQ))
	}
	return nil
}
func (s *clipStep) check() error {
	if err := checkLens(len(s.Cols), "clip", len(s.Low), len(s.High)); err != nil {
		return err
	}
	if err := checkFinite("clip", s.Low, s.High); err != nil {
		return err
	}
	for i := range s.Low {
		if s.Low[i] > s.High[i] {
			return fmt.Errorf("clip bounds [%g,%g] are reversed", s.Low[i], s.High[i])
		}
	}
	return nil
}
func (s *clipStep) apply(f *Frame) (*Frame, error) {
	out := f.shallow()
	for k, name := range s.Cols {
		c, i, err := column(f, name, Numeric)
		if err != nil {
			return nil, err
		}
		nc := &Column{Name: name, Type: Numeric, Num: make([]float64, len(c.Num))}
		for r, v := range c.Num {
			if math.IsNaN(v) {
				nc.Num[r] = v
			} else {
				nc.Num[r] = min(max(v, s.Low[k]), s.High[k])
			}
		}
		out.Columns[i] = nc
	}
	return out, nil
}

// ImputeStrategy says how missing values are filled.
type ImputeStrategy string

const (
	// Mean fills numeric columns with the training mean (categorical
	// columns with the mode).
	Mean ImputeStrategy = "mean"
	// Median fills numeric columns with the training median (categorical
	// columns with the mode).
	Median ImputeStrategy = "median"
	// Mode fills with the most frequent training value (smallest on ties).
	Mode ImputeStrategy = "mode"
	// Constant fills with a given value.
	Constant ImputeStrategy = "constant"
)

// imputeStep fills missing values with fitted values.
type imputeStep struct {
	Cols     []string       `json:"columns"`
	Strategy ImputeStrategy `json:"strategy"`
	Constant string         `json:"constant,omitempty"`
	Types    []ColumnType   `json:"types"`
	Values   []string       `json:"values"`
	num      []float64
}

// Impute fills missing values of the named columns (all columns when none
// named) with the mean, median or mode of the training data.
func Impute(strategy ImputeStrategy, cols ...string) Step {
	return &imputeStep{Cols: cols, Strategy: strategy}
}

// ImputeConstant fills missing values with value (parsed as a number for
// numeric columns).
func ImputeConstant(value string, cols ...string) Step {
	return &imputeStep{Cols: cols, Strategy: Constant, Constant: value}
}

func (s *imputeStep) Kind() string { return "impute" }
func (s *imputeStep) fit(f *Frame) error {
	if len(s.Cols) == 0 {
		s.Cols = f.Names()
	}
	s.Types, s.Values, s.num = nil, nil, nil
	for _, name := range s.Cols {
		c, _, err := column(f, name, Auto)
		if err != nil {
			return err
		}
		var val string
		switch {
		case s.Strategy == Constant:
			val = s.Constant
			if c.Type == Numeric {
				if _, ok := parseNumber(val); !ok {
					return fmt.Errorf("constant %q is not a number, column %q is numeric", val, name)
				}
			} else if val == "" {
				return fmt.Errorf("constant for categorical column %q is empty", name)
			}
		case c.Type == Categorical:
			if s.Strategy != Mean && s.Strategy != Median && s.Strategy != Mode {
				return fmt.Errorf("unknown strategy %q", s.Strategy)
			}
			m, n := modeString(c.Cat)
			if n == 0 {
				return fmt.Errorf("column %q has no values to fit", name)
			}
			val = m
		default:
			var x float64
			switch s.Strategy {
			case Mean:
				x, _, _ = meanStd(c.Num)
			case Median:
				x = quantileSorted(sortedPresent(c.Num), 0.5)
			case Mode:
				x, _ = modeFloat(c.Num)
			default:
				return fmt.Errorf("unknown strategy %q", s.Strategy)
			}
			if math.IsNaN(x) {
				return fmt.Errorf("column %q has no values to fit", name)
			}
			val = strconv.FormatFloat(x, 'g', -1, 64)
		}
		s.Types = append(s.Types, c.Type)
		s.Values = append(s.Values, val)
	}
	return s.check()
}
func (s *imputeStep) check() error {
	if err := checkLens(len(s.Cols), "impute", len(s.Types), len(s.Values)); err != nil {
		return err
	}
	s.num = make([]float64, len(s.Cols))
	for i, t := range s.Types {
		switch t {
		case Numeric:
			v, ok := parseNumber(s.Values[i])
			if !ok {
				return fmt.Errorf("impute value %q for numeric column %q is not a number", s.Values[i], s.Cols[i])
			}
			s.num[i] = v
		case Categorical:
			if s.Values[i] == "" {
				return fmt.Errorf("impute value for %q is empty", s.Cols[i])
			}
		default:
			return fmt.Errorf("impute column %q has no type", s.Cols[i])
		}
	}
	return nil
}
func (s *imputeStep) apply(f *Frame) (*Frame, error) {
	if len(s.num) != len(s.Cols) {
		if err := s.check(); err != nil {
			return nil, err
		}
	}
	out := f.shallow()
	for k, name := range s.Cols {
		c, i, err := column(f, name, s.Types[k])
		if err != nil {
			return nil, err
		}
		nc := c.clone()
		if c.Type == Numeric {
			for r, v := range nc.Num {
				if math.IsNaN(v) {
					nc.Num[r] = s.num[k]
				}
			}
		} else {
			for r, v := range nc.Cat {
				if v == "" {
					nc.Cat[r] = s.Values[k]
				}
			}
		}
		out.Columns[i] = nc
	}
	return out, nil
}

// fitCategories returns the sorted distinct non-missing values of each
// named categorical column.
func fitCategories(f *Frame, cols []string) ([][]string, error) {
	var cats [][]string
	for _, name := range cols {
		c, _, err := column(f, name, Categorical)
		if err != nil {
			return nil, err
		}
		set := map[string]bool{}
		for _, v := range c.Cat {
			if v != "" {
				set[v] = true
			}
		}
		vs := make([]string, 0, len(set))
		for v := range set {
			vs = append(vs, v)
		}
		sort.Strings(vs)
		cats = append(cats, vs)
	}
	return cats, nil
}

func checkCategories(cols []string, cats [][]string) error {
	if len(cats) != len(cols) {
		return fmt.Errorf("%d columns but %d category lists", len(cols), len(cats))
	}
	for i, cs := range cats {
		seen := map[string]bool{}
		for _, c := range cs {
			if c == "" || seen[c] {
				return fmt.Errorf("column %q: empty or duplicate category %q", cols[i], c)
			}
			seen[c] = true
		}
	}
	return nil
}

// categoryStep is what the categorical encoders share: the columns they
// encode and the categories fitted for each.
type categoryStep struct {
	Cols       []string   `json:"columns"`
	Categories [][]string `json:"categories"`
}

func (s *categoryStep) fit(f *Frame) (err error) {
	s.Cols = resolve(f, s.Cols, Categorical)
	s.Categories, err = fitCategories(f, s.Cols)
	return err
}

func (s *categoryStep) check() error { return checkCategories(s.Cols, s.Categories) }

// onehotStep replaces categorical columns by indicator columns.
type onehotStep struct{ categoryStep }

// OneHot replaces each categorical column (all when none named) by one 0/1
// column per training category, named "col=value", in sorted order. Missing
// and unknown categories encode as all zeros.
func OneHot(cols ...string) Step { return &onehotStep{categoryStep{Cols: cols}} }

func (s *onehotStep) Kind() string { return "onehot" }
func (s *onehotStep) apply(f *Frame) (*Frame, error) {
	repl := map[int][]*Column{}
	for k, name := range s.Cols {
		c, i, err := column(f, name, Categorical)
		if err != nil {
			return nil, err
		}
		idx := make(map[string]int, len(s.Categories[k]))
		var cols []*Column
		for j, v := range s.Categories[k] {
			idx[v] = j
			cols = append(cols, &Column{Name: name + "=" + v, Type: Numeric, Num: make([]float64, len(c.Cat))})
		}
		for r, v := range c.Cat {
			if j, ok := idx[v]; ok {
				cols[j].Num[r] = 1
			}
		}
		repl[i] = cols
	}
	return replaceColumns(f, repl)
}

// ordinalStep maps categories to 1..K, missing and unknown to 0.
type ordinalStep struct{ categoryStep }

// Ordinal replaces each categorical column (all when none named) by a
// numeric code: 1..K for the training categories in sorted order, and the
// reserved 0 for missing and unknown ones (suits embedding tables of K+1 rows).
func Ordinal(cols ...string) Step { return &ordinalStep{categoryStep{Cols: cols}} }

func (s *ordinalStep) Kind() string { return "ordinal" }
func (s *ordinalStep) apply(f *Frame) (*Frame, error) {
	out := f.shallow()
	for k, name := range s.Cols {
		c, i, err := column(f, name, Categorical)
		if err != nil {
			return nil, err
		}
		idx := make(map[string]int, len(s.Categories[k]))
		for j, v := range s.Categories[k] {
			idx[v] = j + 1
		}
		nc := &Column{Name: name, Type: Numeric, Num: make([]float64, len(c.Cat))}
		for r, v := range c.Cat {
			nc.Num[r] = float64(idx[v])
		}
		out.Columns[i] = nc
	}
	return out, nil
}

// dropStep removes columns.
type dropStep struct {
	Cols []string `json:"columns"`
}

// DropColumns removes the named columns (absent ones are ignored).
func DropColumns(cols ...string) Step { return &dropStep{Cols: cols} }

func (s *dropStep) Kind() string                   { return "drop" }
func (s *dropStep) fit(*Frame) error               { return nil }
func (s *dropStep) check() error                   { return nil }
func (s *dropStep) apply(f *Frame) (*Frame, error) { return f.Drop(s.Cols...), nil }

// tokensStep turns a text column into Length token-id columns.
type tokensStep struct {
	Col     string       `json:"column"`
	Length  int          `json:"length"`
	Options VocabOptions `json:"options"`
	Vocab   *Vocab       `json:"vocab"`
}

// Tokens replaces the categorical text column col by length numeric columns
// "col[0]".."col[length-1]" holding token ids (exact in float32 below 2^24):
// the first length tokens, padded with PadID. The vocabulary is built from
// the training column with opts, unless v is given.
func Tokens(col string, length int, opts VocabOptions, v *Vocab) Step {
	return &tokensStep{Col: col, Length: length, Options: opts, Vocab: v}
}

func (s *tokensStep) Kind() string { return "tokens" }
func (s *tokensStep) fit(f *Frame) error {
	if s.Length <= 0 || s.Length > maxTokenLength {
		return fmt.Errorf("length %d out of range (1..%d)", s.Length, maxTokenLength)
	}
	c, _, err := column(f, s.Col, Categorical)
	if err != nil {
		return err
	}
	if s.Vocab == nil {
		v, err := BuildVocabTexts(c.Cat, s.Options)
		if err != nil {
			return err
		}
		s.Vocab = v
	}
	return nil
}
func (s *tokensStep) check() error {
	if s.Length <= 0 || s.Length > maxTokenLength {
		return fmt.Errorf("length %d out of range (1..%d)", s.Length, maxTokenLength)
	}
	if s.Vocab == nil || s.Vocab.index == nil {
		return errors.New("no vocabulary")
	}
	return nil
}
func (s *tokensStep) apply(f *Frame) (*Frame, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	c, i, err := column(f, s.Col, Categorical)
	if err != nil {
		return nil, err
	}
	cols := make([]*Column, s.Length)
	for k := range cols {
		cols[k] = &Column{Name: s.Col + "[" + strconv.Itoa(k) + "]", Type: Numeric, Num: make([]float64, len(c.Cat))}
	}
	var ids []int64
	for r, text := range c.Cat {
		ids = s.Vocab.AppendEncode(ids[:0], text)
		for k := 0; k < s.Length && k < len(ids); k++ {
			cols[k].Num[r] = float64(ids[k])
		}
	}
	out := &Frame{Source: f.Source, Lines: f.Lines, Issues: f.Issues}
	out.Columns = append(out.Columns, f.Columns[:i]...)
	out.Columns = append(out.Columns, cols...)
	out.Columns = append(out.Columns, f.Columns[i+1:]...)
	seen := map[string]bool{}
	for _, c := range out.Columns {
		if seen[c.Name] {
			return nil, fmt.Errorf("output column %q already exists", c.Name)
		}
		seen[c.Name] = true
	}
	return out, nil
}
