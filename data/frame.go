package data

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/shenml/shen/internal/safeio"
)

// ColumnType says how a column's values are stored.
type ColumnType int

const (
	// Auto asks a reader to infer the type from the values (the zero value).
	Auto ColumnType = iota
	// Numeric columns hold float64 values, NaN for missing.
	Numeric
	// Categorical columns hold strings, "" for missing.
	Categorical
)

// String returns "auto", "numeric" or "categorical".
func (t ColumnType) String() string {
	switch t {
	case Auto:
		return "auto"
	case Numeric:
		return "numeric"
	case Categorical:
		return "categorical"
	}
	return "ColumnType(" + strconv.Itoa(int(t)) + ")"
}

// MarshalText encodes the type as its String form.
func (t ColumnType) MarshalText() ([]byte, error) {
	if t < Auto || t > Categorical {
		return nil, fmt.Errorf("data: invalid column type %d", int(t))
	}
	return []byte(t.String()), nil
}

// UnmarshalText decodes "auto", "numeric" or "categorical".
func (t *ColumnType) UnmarshalText(b []byte) error {
	switch string(b) {
	case "auto", "":
		*t = Auto
	case "numeric":
		*t = Numeric
	case "categorical":
		*t = Categorical
	default:
		return fmt.Errorf("data: unknown column type %q (want numeric or categorical)", b)
	}
	return nil
}

// Column is one named column of a Frame. Exactly one of Num and Cat is used,
// according to Type.
type Column struct {
	Name string
	Type ColumnType
	// Num holds the values of a Numeric column; NaN marks a missing value.
	Num []float64
	// Cat holds the values of a Categorical column; "" marks a missing value.
	Cat []string
}

// Len returns the number of values in the column.
func (c *Column) Len() int {
	if c.Type == Numeric {
		return len(c.Num)
	}
	return len(c.Cat)
}

// IsMissing reports whether row i is missing.
func (c *Column) IsMissing(i int) bool {
	if c.Type == Numeric {
		return math.IsNaN(c.Num[i])
	}
	return c.Cat[i] == ""
}

// MissingCount returns the number of missing values.
func (c *Column) MissingCount() int {
	n := 0
	for i := 0; i < c.Len(); i++ {
		if c.IsMissing(i) {
			n++
		}
	}
	return n
}

// Value returns row i as a string ("" when missing), for reports and keys.
func (c *Column) Value(i int) string {
	if c.Type == Numeric {
		if math.IsNaN(c.Num[i]) {
			return ""
		}
		return strconv.FormatFloat(c.Num[i], 'g', -1, 64)
	}
	return c.Cat[i]
}

// clone returns a deep copy of the column.
func (c *Column) clone() *Column {
	n := &Column{Name: c.Name, Type: c.Type}
	if c.Num != nil {
		n.Num = append([]float64(nil), c.Num...)
	}
	if c.Cat != nil {
		n.Cat = append([]string(nil), c.Cat...)
	}
	return n
}

// take returns a new column holding rows idx in that order.
func (c *Column) take(idx []int) *Column {
	n := &Column{Name: c.Name, Type: c.Type}
	if c.Type == Numeric {
		n.Num = make([]float64, len(idx))
		for j, i := range idx {
			n.Num[j] = c.Num[i]
		}
	} else {
		n.Cat = make([]string, len(idx))
		for j, i := range idx {
			n.Cat[j] = c.Cat[i]
		}
	}
	return n
}

// Issue records one bad value found while reading, with its position.
// It implements error.
type Issue struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Field  int    `json:"field,omitempty"` // 1-based field (column) number; 0 when not known
	Column string `json:"column"`          // column name
	Value  string `json:"value"`
	Msg    string `json:"msg"`
}

// Error formats the issue as file:line:field: column "name": msg.
func (i Issue) Error() string {
	var b strings.Builder
	b.WriteString(i.File)
	if i.Line > 0 {
		fmt.Fprintf(&b, ":%d", i.Line)
		if i.Field > 0 {
			fmt.Fprintf(&b, ":%d", i.Field)
		}
	}
	if i.Column != "" {
		b.WriteString(": column " + excerpt(i.Column))
	}
	b.WriteString(": ")
	b.WriteString(i.Msg)
	return b.String()
}

// Frame is a table of named, typed columns of equal length.
type Frame struct {
	// Columns in file order.
	Columns []*Column
	// Lines holds the source line of each row (0 when not from a file).
	Lines []int
	// Source names the file the frame was read from, if any.
	Source string
	// Issues lists bad values that a reader coerced to missing instead of
	// failing (see CSVOptions.BadValues).
	Issues []Issue
}

// NumRows returns the number of rows.
func (f *Frame) NumRows() int {
	if len(f.Columns) == 0 {
		return len(f.Lines)
	}
	return f.Columns[0].Len()
}

// Names returns the column names in order.
func (f *Frame) Names() []string {
	out := make([]string, len(f.Columns))
	for i, c := range f.Columns {
		out[i] = c.Name
	}
	return out
}

// Col returns the column with the given name, or nil.
func (f *Frame) Col(name string) *Column {
	for _, c := range f.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// index returns the position of the column, or -1.
func (f *Frame) index(name string) int {
	for i, c := range f.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// Clone returns a deep copy of the frame.
func (f *Frame) Clone() *Frame {
	n := &Frame{Source: f.Source}
	n.Lines = append([]int(nil), f.Lines...)
	n.Issues = append([]Issue(nil), f.Issues...)
	for _, c := range f.Columns {
		n.Columns = append(n.Columns, c.clone())
	}
	return n
}

// shallow returns a copy sharing column data, so that a transform can replace
// columns without touching the input frame.
func (f *Frame) shallow() *Frame {
	n := &Frame{Source: f.Source, Lines: f.Lines, Issues: f.Issues}
	n.Columns = append([]*Column(nil), f.Columns...)
	return n
}

// Take returns a new frame holding rows idx, in that order (used with the
// indices from Split and KFold). Indices must be in range.
func (f *Frame) Take(idx []int) *Frame {
	n := &Frame{Source: f.Source}
	if len(f.Lines) == f.NumRows() {
		n.Lines = make([]int, len(idx))
		for j, i := range idx {
			n.Lines[j] = f.Lines[i]
		}
	}
	for _, c := range f.Columns {
		n.Columns = append(n.Columns, c.take(idx))
	}
	return n
}

// Select returns a frame with only the named columns, in the given order,
// sharing data with f. It fails if a name is absent.
func (f *Frame) Select(names ...string) (*Frame, error) {
	n := &Frame{Source: f.Source, Lines: f.Lines, Issues: f.Issues}
	for _, name := range names {
		c := f.Col(name)
		if c == nil {
			return nil, fmt.Errorf("data: %s: no column %q (have %s)", f.name(), name, f.ColumnList())
		}
		n.Columns = append(n.Columns, c)
	}
	return n, nil
}

// Drop returns a frame without the named columns, sharing data with f.
// Names that are absent are ignored.
func (f *Frame) Drop(names ...string) *Frame {
	n := &Frame{Source: f.Source, Lines: f.Lines, Issues: f.Issues}
	for _, c := range f.Columns {
		drop := false
		for _, name := range names {
			if c.Name == name {
				drop = true
			}
		}
		if !drop {
			n.Columns = append(n.Columns, c)
		}
	}
	return n
}

// AddNumeric appends a numeric column. The length must match NumRows unless
// the frame is empty.
func (f *Frame) AddNumeric(name string, v []float64) error {
	return f.add(&Column{Name: name, Type: Numeric, Num: v})
}

// AddCategorical appends a categorical column.
func (f *Frame) AddCategorical(name string, v []string) error {
	return f.add(&Column{Name: name, Type: Categorical, Cat: v})
}

func (f *Frame) add(c *Column) error {
	if f.Col(c.Name) != nil {
		return fmt.Errorf("data: duplicate column %q", c.Name)
	}
	if len(f.Columns) > 0 && c.Len() != f.NumRows() {
		return fmt.Errorf("data: column %q has %d rows, frame has %d", c.Name, c.Len(), f.NumRows())
	}
	f.Columns = append(f.Columns, c)
	return nil
}

// Float32 returns the named numeric columns (all numeric columns when names
// is empty) as a row-major flat []float32 and its width: the int is the
// number of columns (values per row), not the number of rows, which is
// len(values)/width (or NumRows()); tensor.FromSlice(values, rows, width)
// makes the [rows, width] matrix. Missing values stay NaN; categorical
// columns are an error (encode them with a Pipeline).
func (f *Frame) Float32(names ...string) ([]float32, int, error) {
	cols := f.Columns
	if len(names) > 0 {
		s, err := f.Select(names...)
		if err != nil {
			return nil, 0, err
		}
		cols = s.Columns
	}
	for _, c := range cols {
		if c.Type != Numeric {
			return nil, 0, fmt.Errorf("data: %s: column %q is categorical; encode it before converting to numbers", f.name(), c.Name)
		}
	}
	w, n := len(cols), f.NumRows()
	out := make([]float32, n*w)
	for j, c := range cols {
		for i := 0; i < n; i++ {
			out[i*w+j] = float32(c.Num[i])
		}
	}
	return out, w, nil
}

// name is the frame's source for messages.
func (f *Frame) name() string {
	if f.Source == "" {
		return "frame"
	}
	return f.Source
}

// line returns the source line of row i, or 0.
func (f *Frame) line(i int) int {
	if i < len(f.Lines) {
		return f.Lines[i]
	}
	return 0
}

// WriteFileAtomic writes b to path through a temporary file in the same
// folder, synced, renamed and the folder synced (safeio.WriteFileAtomic),
// so readers, and the file after a crash, never see a partial file.
func WriteFileAtomic(path string, b []byte) error {
	if err := safeio.WriteFileAtomic(path, b, 0o644); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return nil
}

// writeJSONAtomic marshals v with indentation and writes it atomically.
func writeJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("data: encode %s: %w", path, err)
	}
	return WriteFileAtomic(path, append(b, '\n'))
}
