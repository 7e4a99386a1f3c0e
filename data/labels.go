package data

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
)

// maxDenseLabel bounds integer labels read as class indices.
const maxDenseLabel = 1 << 20

// LabelEncoder maps class labels to int64 ids 0..K-1. For a numeric column
// of non-negative integers the id is the value itself and Classes are
// "0".."max" (rename them freely, e.g. to the Iris species); for a
// categorical column Classes are the sorted distinct values.
type LabelEncoder struct {
	Classes []string `json:"classes"`
	Numeric bool     `json:"numeric,omitempty"`
	index   map[string]int64
}

// FitLabels builds a LabelEncoder from the named column of f.
func FitLabels(f *Frame, col string) (*LabelEncoder, error) {
	c := f.Col(col)
	if c == nil {
		return nil, fmt.Errorf("data: %s: no label column %q", f.name(), col)
	}
	e := &LabelEncoder{Numeric: c.Type == Numeric}
	if e.Numeric {
		mx := -1.0
		for i, v := range c.Num {
			if err := checkLabel(f, col, i, v, maxDenseLabel); err != nil {
				return nil, err
			}
			mx = max(mx, v)
		}
		for k := 0; k <= int(mx); k++ {
			e.Classes = append(e.Classes, strconv.Itoa(k))
		}
	} else {
		set := map[string]bool{}
		for i, v := range c.Cat {
			if v == "" {
				return nil, Issue{File: f.name(), Line: f.line(i), Column: col, Msg: "label is missing"}
			}
			set[v] = true
		}
		for v := range set {
			e.Classes = append(e.Classes, v)
		}
		sort.Strings(e.Classes)
	}
	e.reindex()
	return e, nil
}

func checkLabel(f *Frame, col string, i int, v float64, n int) error {
	if math.IsNaN(v) {
		return Issue{File: f.name(), Line: f.line(i), Column: col, Msg: "label is missing"}
	}
	if v < 0 || v != math.Trunc(v) || v >= float64(n) {
		return Issue{File: f.name(), Line: f.line(i), Column: col, Value: strconv.FormatFloat(v, 'g', -1, 64),
			Msg: fmt.Sprintf("label %g is not a class index in [0,%d)", v, n)}
	}
	return nil
}

func (e *LabelEncoder) reindex() {
	e.index = make(map[string]int64, len(e.Classes))
	for i, c := range e.Classes {
		e.index[c] = int64(i)
	}
}

// Len returns the number of classes.
func (e *LabelEncoder) Len() int { return len(e.Classes) }

// Encode returns the class ids of the named column of f; a missing or
// unknown label is an error naming file:line.
func (e *LabelEncoder) Encode(f *Frame, col string) ([]int64, error) {
	c := f.Col(col)
	if c == nil {
		return nil, fmt.Errorf("data: %s: no label column %q", f.name(), col)
	}
	out := make([]int64, c.Len())
	for i := range out {
		if e.Numeric {
			v := math.NaN()
			if c.Type == Numeric {
				v = c.Num[i]
			} else if x, ok := parseNumber(c.Cat[i]); ok {
				v = x
			} else if c.Cat[i] != "" {
				return nil, Issue{File: f.name(), Line: f.line(i), Column: col, Value: c.Cat[i], Msg: fmt.Sprintf("label %q is not a class index", c.Cat[i])}
			}
			if err := checkLabel(f, col, i, v, len(e.Classes)); err != nil {
				return nil, err
			}
			out[i] = int64(v)
			continue
		}
		v := c.Value(i)
		id, ok := e.index[v]
		if !ok {
			if v == "" {
				return nil, Issue{File: f.name(), Line: f.line(i), Column: col, Msg: "label is missing"}
			}
			return nil, Issue{File: f.name(), Line: f.line(i), Column: col, Value: v, Msg: "unknown class " + excerpt(v)}
		}
		out[i] = id
	}
	return out, nil
}

// Decode returns the class name of id, or "" when out of range.
func (e *LabelEncoder) Decode(id int64) string {
	if id < 0 || id >= int64(len(e.Classes)) {
		return ""
	}
	return e.Classes[id]
}

// UnmarshalJSON decodes and validates the class list (non-empty, distinct).
func (e *LabelEncoder) UnmarshalJSON(b []byte) error {
	type plain LabelEncoder
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("data: label encoder: %w", err)
	}
	n := LabelEncoder{Classes: p.Classes, Numeric: p.Numeric}
	n.reindex()
	if len(n.Classes) == 0 || len(n.index) != len(n.Classes) {
		return errors.New("data: label encoder: classes must be non-empty and distinct")
	}
	*e = n
	return nil
}

// NewLabelEncoder makes a categorical encoder from a class list.
func NewLabelEncoder(classes []string) (*LabelEncoder, error) {
	e := &LabelEncoder{Classes: append([]string(nil), classes...)}
	e.reindex()
	if len(e.Classes) == 0 || len(e.index) != len(e.Classes) {
		return nil, errors.New("data: label encoder: classes must be non-empty and distinct")
	}
	return e, nil
}
