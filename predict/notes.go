package predict

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/shenml/shen/data"
)

// Note kinds.
const (
	// NoteUnseenCategory: a categorical value the model never saw in
	// training; it encodes as "unknown".
	NoteUnseenCategory = "unseen_category"
	// NoteImputed: a missing value filled with the training fill value.
	NoteImputed = "imputed"
	// NoteMissing: a missing categorical value with no fill value; it
	// encodes as "unknown".
	NoteMissing = "missing"
	// NoteOutOfRange: a number outside the range seen in training, where
	// the model extrapolates.
	NoteOutOfRange = "out_of_range"
	// NoteWrongType: a value of the wrong type (text for a number) that
	// was replaced by the training fill value.
	NoteWrongType = "wrong_type"
)

// Note is something about one row that a client can act on. It is
// returned with the answer, never dropped.
type Note struct {
	Field   string `json:"field"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// RowError is the error for a row that cannot be used.
type RowError struct {
	// Row is the 0-based row (record, sample) at fault.
	Row int
	// Field names the input field at fault ("" when the whole row is).
	Field string
	Err   error
}

func (e *RowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("row %d: %v", e.Row+1, e.Err)
	}
	return fmt.Sprintf("row %d: field %q: %v", e.Row+1, e.Field, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

// addNote appends a note for row i, allocating the per-row slices on the
// first note.
func addNote(notes *[][]Note, n, i int, note Note) {
	if *notes == nil {
		*notes = make([][]Note, n)
	}
	(*notes)[i] = append((*notes)[i], note)
}

// recordsFrame turns records into a frame of the pipeline's inputs,
// reading each value as data.ToNumber or data.ToCategory does. Text that
// is not a usable number (not a number, infinite, beyond float32's
// range), given for a numeric input, becomes missing, with a wrong_type
// note, when the model imputes that input; otherwise it is a RowError, as
// are such a number given as a JSON number and a value of the wrong JSON
// kind (an object, an array, a boolean for a number).
func recordsFrame(rows []map[string]any, uses []inputCheck) (*data.Frame, [][]Note, error) {
	f := &data.Frame{Source: "request"}
	var notes [][]Note
	for _, u := range uses {
		c := &data.Column{Name: u.Name, Type: u.Type}
		for i, r := range rows {
			v := r[u.Name]
			if u.Type != data.Numeric {
				s, err := data.ToCategory(v)
				if err != nil {
					return nil, nil, &RowError{Row: i, Field: u.Name, Err: err}
				}
				c.Cat = append(c.Cat, s)
				continue
			}
			x, err := data.ToNumber(v)
			if err != nil {
				if _, text := v.(string); !text || !u.Imputed {
					return nil, nil, &RowError{Row: i, Field: u.Name, Err: err}
				}
				addNote(&notes, len(rows), i, Note{u.Name, NoteWrongType, fmt.Sprintf("%v; the training fill value %s was used", err, u.Fill)})
				x = math.NaN()
			}
			c.Num = append(c.Num, x)
		}
		f.Columns = append(f.Columns, c)
	}
	return f, notes, nil
}

// inputCheck is what the row checks need of one input column, worked out
// once in New rather than on every request: how the pipeline treats it,
// its training profile and its known categories.
type inputCheck struct {
	data.InputUse
	profile *data.FeatureProfile
	known   map[string]bool
}

// inputChecks prepares the row checks of a table model's inputs.
func inputChecks(pipe *data.Pipeline, prof *data.Profile) []inputCheck {
	var out []inputCheck
	for _, u := range pipe.InputUses() {
		c := inputCheck{InputUse: u, known: map[string]bool{}}
		if prof != nil {
			c.profile = prof.Feature(u.Name)
		}
		for _, k := range u.Categories {
			c.known[k] = true
		}
		out = append(out, c)
	}
	return out
}

// frameNotes checks the rows of f (holding the pipeline's inputs, by
// name) against how the pipeline treats them and the training profile:
// an imputed or missing value, an unseen category or a number outside the
// training range is a note; a missing number the model does not impute is
// a RowError.
func (p *Predictor) frameNotes(f *data.Frame, notes [][]Note) ([][]Note, error) {
	n := f.NumRows()
	for _, in := range p.inputs {
		u, fp, known := in.InputUse, in.profile, in.known
		c := f.Col(u.Name)
		if c == nil {
			continue // Transform names the absent column
		}
		for i := range n {
			if c.IsMissing(i) {
				if hasNote(notes, i, u.Name) {
					continue // already noted as the wrong type
				}
				switch {
				case u.Imputed:
					addNote(&notes, n, i, Note{u.Name, NoteImputed, "missing; filled with the training value " + u.Fill})
				case u.Type == data.Numeric:
					return nil, &RowError{Row: i, Field: u.Name, Err: fmt.Errorf("the value is missing and the model has no fill value for it (train with data.cleaning.missing: impute)")}
				default:
					addNote(&notes, n, i, Note{u.Name, NoteMissing, "missing; encoded as an unknown category"})
				}
				continue
			}
			if u.Type == data.Numeric {
				v, ok := numberAt(c, i)
				if ok && fp != nil && fp.Count > 0 && (v < fp.Min || v > fp.Max) {
					addNote(&notes, n, i, Note{u.Name, NoteOutOfRange, fmt.Sprintf("%s is outside the training range [%s, %s]", fmtNum(v), fmtNum(fp.Min), fmtNum(fp.Max))})
				}
				continue
			}
			if u.Categories != nil {
				if v := c.Value(i); !known[v] {
					addNote(&notes, n, i, Note{u.Name, NoteUnseenCategory, fmt.Sprintf("%s was not seen in training; encoded as an unknown category", data.Excerpt(v))})
				}
			}
		}
	}
	return notes, nil
}

func hasNote(notes [][]Note, i int, field string) bool {
	if notes == nil {
		return false
	}
	for _, nt := range notes[i] {
		if nt.Field == field {
			return true
		}
	}
	return false
}

// numberAt reads row i of a column as a number (a text column as a
// numeric input: the pipeline parses it the same way).
func numberAt(c *data.Column, i int) (float64, bool) {
	if c.Type == data.Numeric {
		return c.Num[i], true
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(c.Cat[i]), 64)
	return v, err == nil
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
