package predict

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/shenml/shen/data"
)

// PrepareRecords turns table records (field name to value, as decoded
// from JSON: numbers, strings, booleans or nil; an absent field is
// missing, an unknown one ignored) into the model's input features
// (len(rows)*InputSize values) through the artifact's fitted
// preprocessing, with the notes of each row. A row that cannot be used is
// a *RowError. It is the preprocessing half of Records, for a batcher that
// merges rows from many requests before one Forward.
func (p *Predictor) PrepareRecords(rows []map[string]any) ([]float32, [][]Note, error) {
	if p.kind != Table {
		return nil, nil, fmt.Errorf("predict: the model takes %s, not table records", p.kind)
	}
	if len(rows) == 0 {
		return nil, nil, errors.New("predict: no records")
	}
	pipe := p.m.Spec.Preprocessing
	f, notes, err := recordsFrame(rows, p.inputs)
	if err != nil {
		return nil, nil, err
	}
	if notes, err = p.frameNotes(f, notes); err != nil {
		return nil, nil, err
	}
	x, w, err := pipe.Transform(f)
	if err != nil {
		return nil, nil, err
	}
	if w != p.inSize {
		return nil, nil, fmt.Errorf("predict: preprocessing gives %d features, the model takes %d", w, p.inSize)
	}
	return x, notes, nil
}

// Records answers table records (see PrepareRecords).
func (p *Predictor) Records(rows []map[string]any) (*Result, error) {
	x, notes, err := p.PrepareRecords(rows)
	if err != nil {
		return nil, err
	}
	r, err := p.Tensor(x, len(rows))
	if err != nil {
		return nil, err
	}
	r.Notes = notes
	return r, nil
}

// Frame answers the rows of a table. A table model reads its input
// columns by name (others are ignored); a model without preprocessing
// takes every numeric column but skip ("" for none) as its features; a
// window model cuts the rows into windows (see Windows) and answers each.
func (p *Predictor) Frame(f *data.Frame, skip string) (*Result, error) {
	switch p.kind {
	case Window:
		return p.windowFrame(f)
	case Table, Tensor:
		x, notes, err := p.FrameFeatures(f, skip)
		if err != nil {
			return nil, err
		}
		r, err := p.Tensor(x, f.NumRows())
		if err != nil {
			return nil, err
		}
		r.Notes = notes
		return r, nil
	}
	return nil, fmt.Errorf("predict: the model takes %s, not table rows", p.kind)
}

// FrameFeatures turns the rows of a table into model inputs: through the
// artifact's fitted preprocessing when it has one (with each row's
// notes), else the numeric columns of f but skip, taken as they are,
// which must match the input size.
func (p *Predictor) FrameFeatures(f *data.Frame, skip string) ([]float32, [][]Note, error) {
	if pipe := p.m.Spec.Preprocessing; pipe != nil && p.kind == Table {
		if missing, _ := p.Columns(f); len(missing) > 0 {
			return nil, nil, fmt.Errorf("the input lacks %d of the model's columns: %s (it has %s)", len(missing), strings.Join(missing, ", "), f.ColumnList())
		}
		notes, err := p.frameNotes(f, nil)
		if err != nil {
			return nil, nil, err
		}
		x, w, err := pipe.Transform(f)
		if err != nil {
			return nil, nil, err
		}
		if w != p.inSize {
			return nil, nil, fmt.Errorf("preprocessing gives %d features, the model takes %d", w, p.inSize)
		}
		return x, notes, nil
	}
	if p.kind != Tensor {
		return nil, nil, fmt.Errorf("predict: the model takes %s, not table rows", p.kind)
	}
	var cols []string
	for _, c := range f.Columns {
		if c.Name != skip {
			if c.Type != data.Numeric {
				return nil, nil, fmt.Errorf("column %q is not numeric and the model has no preprocessing to encode it", c.Name)
			}
			cols = append(cols, c.Name)
		}
	}
	if len(cols) != p.inSize {
		return nil, nil, fmt.Errorf("the input has %d numeric columns, the model takes %d values per sample (%v)", len(cols), p.inSize, p.in)
	}
	x, _, err := f.Float32(cols...)
	return x, nil, err
}

// InputColumns returns the names of the columns a table or window model
// reads (nil for other models).
func (p *Predictor) InputColumns() []string {
	pipe := p.m.Spec.Preprocessing
	if pipe == nil {
		return nil
	}
	var names []string
	for _, in := range pipe.Inputs() {
		names = append(names, in.Name)
	}
	return names
}

// Columns compares f's columns with the ones a table or window model
// reads: those it lacks, and those it has that the model does not read
// (a label, an id; they are ignored).
func (p *Predictor) Columns(f *data.Frame) (missing, extra []string) {
	want := p.InputColumns()
	for _, n := range want {
		if f.Col(n) == nil {
			missing = append(missing, n)
		}
	}
	for _, n := range f.Names() {
		if !slices.Contains(want, n) {
			extra = append(extra, n)
		}
	}
	return missing, extra
}

// LabelColumn returns the label column of f: the artifact's training
// target when f has it, else the one column the artifact does not take
// as an input ("" when there is none or more than one). For a window
// model it is the forecast or label column.
func (p *Predictor) LabelColumn(f *data.Frame) string {
	if w := p.m.Spec.Window; w != nil {
		if f.Col(w.Column) != nil {
			return w.Column
		}
		return ""
	}
	if t := p.m.Spec.Target; t != "" && f.Col(t) != nil {
		return t
	}
	if p.m.Spec.Preprocessing == nil {
		return ""
	}
	in := map[string]bool{}
	for _, name := range p.InputColumns() {
		in[name] = true
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

// ReadTable reads a CSV, TSV, JSONL (optionally gzipped) or scikit-learn
// CSV file into a Frame, telling them apart by name and, for the
// scikit-learn layout, by its count line ("150,4,setosa,...").
func ReadTable(path string) (*data.Frame, error) {
	n := strings.TrimSuffix(strings.ToLower(path), ".gz")
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
