package data

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// MissingPolicy says what Clean does with missing values.
type MissingPolicy int

const (
	// KeepMissing leaves missing values in place (the zero value).
	KeepMissing MissingPolicy = iota
	// DropMissing drops every row with a missing value in Columns.
	DropMissing
	// ImputeMissing fills missing values using Strategy.
	ImputeMissing
)

// CleanOptions controls Clean. Steps run in this order: duplicates, missing
// values, clipping. Clean computes statistics on the frame it cleans; for
// data seen at serving time, use the fitted Impute and Clip pipeline steps.
type CleanOptions struct {
	// DropDuplicates removes rows equal to an earlier row in every column.
	DropDuplicates bool
	// Missing is the policy for missing values.
	Missing MissingPolicy
	// Columns limits the missing-value policy to these columns (all when
	// empty).
	Columns []string
	// Strategy and Constant choose the imputed value (Mean, Median, Mode,
	// Constant); Mean and Median fall back to Mode for categorical columns.
	Strategy ImputeStrategy
	Constant string
	// ClipLow and ClipHigh, when ClipHigh > 0, clip numeric ClipColumns
	// (all numeric when empty) to these quantiles of the frame.
	ClipLow, ClipHigh float64
	ClipColumns       []string
}

// DroppedRow records one row removed by Clean.
type DroppedRow struct {
	Row    int    `json:"row"`            // index in the input frame
	Line   int    `json:"line,omitempty"` // source line, when known
	Reason string `json:"reason"`
}

// ImputeCount records the values filled in one column.
type ImputeCount struct {
	Strategy ImputeStrategy `json:"strategy"`
	Value    string         `json:"value"`
	Count    int            `json:"count"`
}

// ClipCount records the values clipped in one column.
type ClipCount struct {
	Low       float64 `json:"low"`
	High      float64 `json:"high"`
	BelowLow  int     `json:"below_low"`
	AboveHigh int     `json:"above_high"`
}

// CleanReport lists every change Clean made.
type CleanReport struct {
	RowsIn     int                    `json:"rows_in"`
	RowsOut    int                    `json:"rows_out"`
	Duplicates int                    `json:"duplicates"`
	Dropped    []DroppedRow           `json:"dropped"`
	Imputed    map[string]ImputeCount `json:"imputed"`
	Clipped    map[string]ClipCount   `json:"clipped"`
	// Coerced lists the bad values the reader turned into missing values.
	Coerced []Issue `json:"coerced"`
	// Filled counts, per column, the missing values the fitted
	// preprocessing filled (training's Impute step, the same that serving
	// applies), over every split.
	Filled map[string]ImputeCount `json:"filled_by_preprocessing,omitempty"`
}

// String summarises the report, one change per line.
func (r *CleanReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rows: %d in, %d out (%d duplicates)\n", r.RowsIn, r.RowsOut, r.Duplicates)
	for _, d := range r.Dropped {
		fmt.Fprintf(&b, "dropped row %d", d.Row)
		if d.Line > 0 {
			fmt.Fprintf(&b, " (line %d)", d.Line)
		}
		fmt.Fprintf(&b, ": %s\n", d.Reason)
	}
	for _, k := range sortedKeys(r.Imputed) {
		v := r.Imputed[k]
		fmt.Fprintf(&b, "imputed %d values in %q with %s %s\n", v.Count, k, v.Strategy, v.Value)
	}
	for _, k := range sortedKeys(r.Clipped) {
		v := r.Clipped[k]
		fmt.Fprintf(&b, "clipped %q to [%g, %g]: %d below, %d above\n", k, v.Low, v.High, v.BelowLow, v.AboveHigh)
	}
	for _, is := range r.Coerced {
		fmt.Fprintf(&b, "coerced to missing: %s\n", is.Error())
	}
	for _, k := range sortedKeys(r.Filled) {
		v := r.Filled[k]
		fmt.Fprintf(&b, "preprocessing filled %d missing values in %q with the training %s %s\n", v.Count, k, v.Strategy, v.Value)
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Clean returns a cleaned copy of f and a report of every change. f is not
// modified.
func Clean(f *Frame, opts CleanOptions) (*Frame, *CleanReport, error) {
	rep := &CleanReport{RowsIn: f.NumRows(), Imputed: map[string]ImputeCount{}, Clipped: map[string]ClipCount{},
		Coerced: slices.Clone(f.Issues), Dropped: []DroppedRow{}}
	cols := opts.Columns
	if len(cols) == 0 {
		cols = f.Names()
	}
	for _, name := range cols {
		if f.Col(name) == nil {
			return nil, nil, fmt.Errorf("data: clean %s: no column %q", f.name(), name)
		}
	}
	// Rows to keep, with their original index.
	keep := make([]int, 0, f.NumRows())
	seen := map[string]int{}
	for i := 0; i < f.NumRows(); i++ {
		if opts.DropDuplicates {
			key := rowKey(f, i)
			if first, dup := seen[key]; dup {
				rep.Duplicates++
				rep.Dropped = append(rep.Dropped, DroppedRow{Row: i, Line: f.line(i),
					Reason: fmt.Sprintf("duplicate of row %d", first)})
				continue
			}
			seen[key] = i
		}
		if opts.Missing == DropMissing {
			var missing []string
			for _, name := range cols {
				if f.Col(name).IsMissing(i) {
					missing = append(missing, name)
				}
			}
			if len(missing) > 0 {
				rep.Dropped = append(rep.Dropped, DroppedRow{Row: i, Line: f.line(i),
					Reason: "missing " + strings.Join(missing, ", ")})
				continue
			}
		}
		keep = append(keep, i)
	}
	out := f.Take(keep)
	out.Issues = slices.Clone(f.Issues)
	if opts.Missing == ImputeMissing {
		strategy := opts.Strategy
		if strategy == "" {
			strategy = Mean
		}
		st := &imputeStep{Cols: cols, Strategy: strategy, Constant: opts.Constant}
		if err := st.fit(out); err != nil {
			return nil, nil, fmt.Errorf("data: clean %s: impute: %w", f.name(), err)
		}
		for k, name := range st.Cols {
			c := out.Col(name)
			n := c.MissingCount()
			if n == 0 {
				continue
			}
			used := strategy
			if c.Type == Categorical && (strategy == Mean || strategy == Median) {
				used = Mode
			}
			rep.Imputed[name] = ImputeCount{Strategy: used, Value: st.Values[k], Count: n}
		}
		imp, err := st.apply(out)
		if err != nil {
			return nil, nil, err
		}
		out.Columns = imp.Columns
	}
	if opts.ClipHigh > 0 {
		st := &clipStep{Cols: opts.ClipColumns, LowQ: opts.ClipLow, HighQ: opts.ClipHigh}
		if err := st.fit(out); err != nil {
			return nil, nil, fmt.Errorf("data: clean %s: clip: %w", f.name(), err)
		}
		for k, name := range st.Cols {
			cc := ClipCount{Low: st.Low[k], High: st.High[k]}
			for _, v := range out.Col(name).Num {
				if v < cc.Low {
					cc.BelowLow++
				} else if v > cc.High {
					cc.AboveHigh++
				}
			}
			if cc.BelowLow+cc.AboveHigh > 0 {
				rep.Clipped[name] = cc
			}
		}
		cl, err := st.apply(out)
		if err != nil {
			return nil, nil, err
		}
		out.Columns = cl.Columns
	}
	rep.RowsOut = out.NumRows()
	return out, rep, nil
}

// rowKey encodes a row so that equal rows have equal keys.
func rowKey(f *Frame, i int) string {
	var b strings.Builder
	for _, c := range f.Columns {
		if c.Type == Numeric {
			v := c.Num[i]
			if math.IsNaN(v) {
				b.WriteString("\x00NaN")
			} else {
				b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			}
		} else {
			b.WriteString(strconv.Quote(c.Cat[i]))
		}
		b.WriteByte(0x1f)
	}
	return b.String()
}
