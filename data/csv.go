package data

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// BadValuePolicy says what a reader does with a value it cannot parse as the
// column's type.
type BadValuePolicy int

const (
	// BadValueError fails the read with an error naming file:line:field
	// (the zero value).
	BadValueError BadValuePolicy = iota
	// BadValueMissing turns the value into a missing value and records an
	// Issue in Frame.Issues. Records with the wrong number of fields are
	// dropped and recorded the same way.
	BadValueMissing
)

// DefaultMissing lists the strings read as a missing value when
// CSVOptions.Missing is nil. The empty string is always missing.
var DefaultMissing = []string{"NA", "N/A", "NaN", "nan", "null", "NULL", "None", "?"}

// CSVOptions controls ReadCSV and ReadJSONL. The zero value reads a
// comma-separated file (tab-separated when the name ends in .tsv or .tsv.gz)
// with a header line and infers every column's type.
type CSVOptions struct {
	// Comma is the field delimiter; 0 means ',' (or '\t' for .tsv files).
	Comma rune
	// Comment, when not 0, marks lines to skip when it is their first rune.
	Comment rune
	// NoHeader says the first record is data; columns are then named by
	// Names or c0, c1, ...
	NoHeader bool
	// SkipLines skips this many raw lines before reading (for metadata
	// lines such as the count line of the scikit-learn CSV files).
	SkipLines int
	// Names overrides the column names (the header is still consumed when
	// NoHeader is false). Its length must equal the number of fields.
	Names []string
	// Types forces the type of named columns; others are inferred: a column
	// is numeric when every non-missing value parses as a finite number,
	// categorical otherwise.
	Types map[string]ColumnType
	// NumericThreshold, when in (0,1), makes an inferred column numeric when
	// at least this fraction of its non-missing values parse as numbers; the
	// rest are bad values handled by BadValues. 0 means 1 (all must parse).
	NumericThreshold float64
	// Missing lists strings read as missing; nil means DefaultMissing.
	// Values are compared after trimming spaces.
	Missing []string
	// BadValues says what to do with unparsable values.
	BadValues BadValuePolicy
	// LazyQuotes allows a quote in an unquoted field (see encoding/csv).
	LazyQuotes bool
	// MaxRows stops after this many data rows when > 0.
	MaxRows int
	// MaxDecompressed caps what a .gz file may decompress to, in bytes;
	// 0 means safeio's default (100 times the compressed size, at least
	// 64 MiB), so a small gzip bomb is refused after the cap.
	MaxDecompressed int64
}

// ReadCSV reads a delimited text file into a Frame, decompressing it when the
// name ends in .gz. Errors and Issues name file:line:field. It holds the
// whole file's text in memory while inferring types; use CSVStream for files
// larger than memory.
func ReadCSV(path string, opts CSVOptions) (*Frame, error) {
	r, closeFn, err := openData(path, opts.MaxDecompressed)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	if opts.Comma == 0 && isTSV(path) {
		opts.Comma = '\t'
	}
	return ReadCSVFrom(r, path, opts)
}

// ReadCSVFrom is ReadCSV on an open reader; name is used in messages.
func ReadCSVFrom(r io.Reader, name string, opts CSVOptions) (*Frame, error) {
	if _, ok := r.(*lineLimiter); !ok {
		r = &lineLimiter{r: r, name: name} // stdin and requests get the line cap too
	}
	br := bufio.NewReader(r)
	for i := 0; i < opts.SkipLines; i++ {
		if _, err := br.ReadString('\n'); err != nil {
			if err == io.EOF {
				break
			}
			return nil, fmt.Errorf("%s:%d: %w", name, i+1, err)
		}
	}
	cr := newCSVReader(br, opts.Comma, opts) // the builder keeps no reference to a record
	if !validDelim(cr.Comma) || (cr.Comment != 0 && (!validDelim(cr.Comment) || cr.Comment == cr.Comma)) {
		return nil, fmt.Errorf("data: %s: invalid delimiter %q or comment %q", name, cr.Comma, cr.Comment)
	}
	wrap := func(err error) error { return csvReadError(name, opts.SkipLines, err) }

	b := &csvBuilder{file: name, opts: &opts}
	var issues []Issue
	first := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, wrap(err)
		}
		line, _ := cr.FieldPos(0)
		line += opts.SkipLines
		if first {
			first = false
			if len(rec) > 0 {
				rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
			}
			names := opts.Names
			if names == nil {
				if opts.NoHeader {
					names = make([]string, len(rec))
					for i := range names {
						names[i] = "c" + strconv.Itoa(i)
					}
				} else {
					names = make([]string, len(rec))
					for i, h := range rec {
						names[i] = strings.TrimSpace(h)
						if names[i] == "" {
							names[i] = "c" + strconv.Itoa(i)
						}
					}
				}
			} else if len(names) != len(rec) {
				return nil, fmt.Errorf("%s:%d: %d names given but the record has %d fields", name, line, len(names), len(rec))
			}
			if err := b.setNames(names); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, line, err)
			}
			if !opts.NoHeader {
				continue
			}
		}
		if len(rec) != len(b.cols) {
			msg := fmt.Sprintf("record has %d fields, expected %d", len(rec), len(b.cols))
			if opts.BadValues == BadValueMissing {
				issues = append(issues, Issue{File: name, Line: line, Msg: msg + "; row dropped"})
				continue
			}
			return nil, fmt.Errorf("%s:%d: %s", name, line, msg)
		}
		if err := checkRecord(name, line, rec, b.names); err != nil {
			return nil, err
		}
		b.addRow(line, rec)
		if opts.MaxRows > 0 && b.lines.n >= opts.MaxRows {
			break
		}
	}
	f, err := b.build()
	if err != nil {
		return nil, err
	}
	f.Issues = append(issues, f.Issues...)
	return f, nil
}

// newCSVReader returns an encoding/csv reader over br with opts' quoting and
// comment settings, ragged records allowed (they are reported per line by
// the callers) and the record slice reused between reads. comma 0 means ','.
func newCSVReader(br io.Reader, comma rune, opts CSVOptions) *csv.Reader {
	cr := csv.NewReader(br)
	cr.Comma = ','
	if comma != 0 {
		cr.Comma = comma
	}
	cr.Comment, cr.LazyQuotes, cr.FieldsPerRecord, cr.ReuseRecord = opts.Comment, opts.LazyQuotes, -1, true
	return cr
}

// csvReadError names the file, and for a parse error the line (counting the
// skipped ones) and column, of an error from csv.Reader.Read.
func csvReadError(name string, skipped int, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d:%d: %w", name, pe.Line+skipped, pe.Column, pe.Err)
	}
	return nameOnce(name, err)
}

// nameOnce returns err from reading the file name, prefixed with the name
// unless err names it already (the gzip reader's cap, the line cap, an
// *os.PathError), so that a message names the file exactly once.
func nameOnce(name string, err error) error {
	if strings.Contains(err.Error(), name) {
		return err
	}
	return fmt.Errorf("%s: %w", name, err)
}

func validDelim(r rune) bool {
	return r != 0 && r != '"' && r != '\r' && r != '\n' && r != 0xFFFD && r > 0 && r <= 0x10FFFF
}

func isTSV(path string) bool {
	p := strings.ToLower(strings.TrimSuffix(strings.ToLower(path), ".gz"))
	return strings.HasSuffix(p, ".tsv") || strings.HasSuffix(p, ".tab")
}

// rawTable collects string cells before type inference.
type rawTable struct {
	file      string
	names     []string
	cols      [][]string
	lines     []int
	fieldNums bool // report 1-based field numbers in issues
}

func (t *rawTable) setNames(names []string) error {
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			return fmt.Errorf("duplicate column name %q", n)
		}
		seen[n] = true
	}
	t.names = append([]string(nil), names...)
	t.cols = make([][]string, len(names))
	return nil
}

func (t *rawTable) addRow(line int, rec []string) {
	for i, v := range rec {
		t.cols[i] = append(t.cols[i], v)
	}
	t.lines = append(t.lines, line)
}

// missingSet builds the set of missing tokens.
func missingSet(m []string) map[string]bool {
	if m == nil {
		m = DefaultMissing
	}
	s := map[string]bool{"": true}
	for _, v := range m {
		s[strings.TrimSpace(v)] = true
	}
	return s
}

// build infers types and converts the raw cells into a Frame.
func (t *rawTable) build(opts CSVOptions) (*Frame, error) {
	for name, typ := range opts.Types {
		if !slices.Contains(t.names, name) {
			return nil, fmt.Errorf("data: %s: Types names column %q, which is not in the file (have %s)", t.file, name, strings.Join(t.names, ", "))
		}
		if typ < Auto || typ > Categorical {
			return nil, fmt.Errorf("data: %s: invalid type %d for column %q", t.file, int(typ), name)
		}
	}
	miss := missingSet(opts.Missing)
	thr := opts.NumericThreshold
	if thr <= 0 || thr > 1 {
		thr = 1
	}
	f := &Frame{Source: t.file, Lines: t.lines}
	for j, name := range t.names {
		raw := t.cols[j]
		typ := opts.Types[name]
		if typ == Auto {
			nonMissing, parsed := 0, 0
			for _, s := range raw {
				if miss[strings.TrimSpace(s)] {
					continue
				}
				nonMissing++
				if _, ok := parseNumber(s); ok || numberProblem(strings.TrimSpace(s)) != "" {
					parsed++ // a bad number is still a number: never a category
				}
			}
			typ = Categorical
			if parsed == nonMissing || float64(parsed) >= thr*float64(nonMissing) {
				typ = Numeric
			}
		}
		col := &Column{Name: name, Type: typ}
		if typ == Categorical {
			col.Cat = make([]string, len(raw))
			for i, s := range raw {
				s = strings.TrimSpace(s)
				if !miss[s] {
					col.Cat[i] = s
				}
				if !utf8.ValidString(s) {
					is := Issue{File: t.file, Line: t.lines[i], Column: name, Value: s, Msg: invalidUTF8(s)}
					if t.fieldNums {
						is.Field = j + 1
					}
					return nil, is
				}
			}
		} else {
			col.Num = make([]float64, len(raw))
			for i, s := range raw {
				if miss[strings.TrimSpace(s)] {
					col.Num[i] = math.NaN()
					continue
				}
				v, ok := parseNumber(s)
				if ok {
					col.Num[i] = v
					continue
				}
				col.Num[i] = math.NaN()
				is := Issue{File: t.file, Line: t.lines[i], Column: name, Value: s,
					Msg: badNumberMsg(s)}
				if t.fieldNums {
					is.Field = j + 1
				}
				if opts.BadValues != BadValueMissing {
					return nil, is
				}
				is.Msg += "; set to missing"
				f.Issues = append(f.Issues, is)
			}
		}
		f.Columns = append(f.Columns, col)
		t.cols[j] = nil
	}
	if len(t.names) == 0 {
		f.Lines = nil
	}
	return f, nil
}

// ReadSklearnCSV reads a scikit-learn dataset CSV (iris, breast_cancer):
// a first line "count,features,class0,class1,..." then rows of features
// with the class index last. Columns are named f0..f{d-1} and "target"; the
// class names come back in classes.
func ReadSklearnCSV(path string) (f *Frame, classes []string, err error) {
	r, closeFn, err := openData(path, 0)
	if err != nil {
		return nil, nil, err
	}
	defer closeFn()
	br := bufio.NewReader(r)
	first, err := br.ReadString('\n')
	if err != nil && first == "" {
		if err != io.EOF {
			return nil, nil, err // names the file
		}
		return nil, nil, fmt.Errorf("%s:1: missing the count line: the file is empty", path)
	}
	parts := strings.Split(strings.TrimSpace(first), ",")
	if len(parts) < 2 {
		return nil, nil, fmt.Errorf("%s:1: want count,features,classes..., got %s", path, excerpt(first))
	}
	n, err1 := strconv.Atoi(parts[0])
	d, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || n < 0 || d <= 0 || d > 1<<16 {
		return nil, nil, fmt.Errorf("%s:1: bad count or feature number in %s", path, excerpt(first))
	}
	names := make([]string, d+1)
	types := map[string]ColumnType{}
	for i := range d {
		names[i] = "f" + strconv.Itoa(i)
		types[names[i]] = Numeric
	}
	names[d] = "target"
	types["target"] = Numeric
	f, err = ReadCSVFrom(br, path, CSVOptions{NoHeader: true, Names: names, Types: types})
	if err != nil {
		return nil, nil, err
	}
	for i := range f.Lines {
		f.Lines[i]++ // the count line was consumed before the CSV reader
	}
	if f.NumRows() != n {
		return nil, nil, fmt.Errorf("%s: header declares %d rows, file has %d", path, n, f.NumRows())
	}
	return f, parts[2:], nil
}

// csvBuilder turns CSV records into typed columns as they are read, so that
// ReadCSVFrom keeps no per-field strings for numeric columns. It gives the
// same Frame, Issues and errors as collecting every field in a rawTable and
// calling build: the types check, inference and bad-value errors all happen
// in build, after the whole input has been read.
type csvBuilder struct {
	file  string
	opts  *CSVOptions
	names []string
	cols  []csvCol
	lines chunks[int]
	miss  map[string]bool
	// missNum says some missing token parses as a finite number, so a value
	// that parses must still be looked up in miss.
	missNum bool
	thr     float64
}

// csvCol is one column being read. A Numeric column (forced, or inferred
// and so far numeric) holds its values in num; an inferred one also keeps
// its trimmed text (missing values as "") in text/ends, in case it turns
// categorical. A Categorical column holds cat.
type csvCol struct {
	typ      ColumnType // the type given in Types, or Auto
	cat      bool       // values go to cat
	num      chunks[float64]
	cats     chunks[string]
	text     textChunks  // trimmed text of an inferred column's values, back to back
	ends     chunks[int] // value i is text[ends[i-1]:ends[i]]
	nonMiss  int         // non-missing values, for inference
	parsed   int         // values that parsed as finite numbers
	bad      []badValue
	firstBad bool // bad holds only the first bad value (BadValueError)
}

// badValue is a value of a numeric column that is neither missing nor a
// finite number.
type badValue struct {
	row int
	raw string // untrimmed, as in the Issue
}

func (b *csvBuilder) setNames(names []string) error {
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if seen[n] {
			return fmt.Errorf("duplicate column name %q", n)
		}
		if !utf8.ValidString(n) || len(n) > MaxValueBytes {
			return fmt.Errorf("column name %s is not valid UTF-8 or longer than %d bytes", excerpt(n), MaxValueBytes)
		}
		seen[n] = true
	}
	b.names = append([]string(nil), names...)
	b.cols = make([]csvCol, len(names))
	b.miss = missingSet(b.opts.Missing)
	for s := range b.miss {
		if _, ok := parseNumber(s); ok {
			b.missNum = true
		}
	}
	b.thr = b.opts.NumericThreshold
	if b.thr <= 0 || b.thr > 1 {
		b.thr = 1
	}
	for j, n := range names {
		c := &b.cols[j]
		c.typ = b.opts.Types[n]
		if c.typ != Numeric && c.typ != Categorical {
			c.typ = Auto // an invalid type fails in build
		}
		c.cat = c.typ == Categorical
		c.firstBad = b.opts.BadValues != BadValueMissing
	}
	return nil
}

// number parses a trimmed value: ok when it is a finite number that is not
// a missing token, missing when it is a missing token.
func (b *csvBuilder) number(t string) (v float64, ok, missing bool) {
	if t == "" {
		return 0, false, true
	}
	v, ok = parseFloatFast(t)
	if ok {
		if b.missNum && b.miss[t] {
			return 0, false, true
		}
		return v, true, false
	}
	if b.miss[t] {
		return 0, false, true
	}
	return 0, false, false
}

func (b *csvBuilder) addRow(line int, rec []string) {
	row := b.lines.n
	b.lines.add(line)
	for j, s := range rec {
		c := &b.cols[j]
		t := strings.TrimSpace(s)
		if c.cat {
			if t != "" && b.miss[t] {
				t = ""
			}
			c.cats.add(t)
			continue
		}
		v, ok, missing := b.number(t)
		switch {
		case ok:
			c.parsed++
			c.nonMiss++
			c.num.add(v)
		case missing:
			t = ""
			c.num.add(math.NaN())
		default:
			c.nonMiss++
			if numberProblem(t) != "" {
				// Inf, NaN or beyond float32: a bad number, never a
				// reason to read the column as categories.
				c.parsed++
			} else if c.typ == Auto && b.thr == 1 {
				// One value that is not a number makes an inferred
				// column categorical.
				c.toCat()
				c.cats.add(t)
				continue
			}
			if !c.firstBad || len(c.bad) == 0 {
				c.bad = append(c.bad, badValue{row, s})
			}
			c.num.add(math.NaN())
		}
		if c.typ == Auto {
			c.ends.add(c.text.add(t))
		}
	}
}

// toCat turns an inferred column categorical, its values so far taken from
// its text.
func (c *csvCol) toCat() {
	c.cat = true
	all := c.text.string()
	start := 0
	c.cats = chunks[string]{}
	for _, ch := range c.ends.list() {
		for _, e := range ch {
			c.cats.add(all[start:e])
			start = e
		}
	}
	c.num, c.text, c.ends, c.bad = chunks[float64]{}, textChunks{}, chunks[int]{}, nil
}

// chunks is a growing list kept in blocks, so that adding never copies
// what is there; all returns it in one slice of the exact length.
type chunks[T any] struct {
	done [][]T
	cur  []T
	n    int
}

func (c *chunks[T]) add(v T) {
	if len(c.cur) == cap(c.cur) {
		c.grow()
	}
	c.cur = append(c.cur, v)
	c.n++
}

func (c *chunks[T]) grow() {
	size := 256
	if c.cur != nil {
		c.done = append(c.done, c.cur)
		size = min(2*cap(c.cur), 64<<10)
	}
	c.cur = make([]T, 0, size)
}

// list returns the blocks in order.
func (c *chunks[T]) list() [][]T {
	return append(c.done, c.cur)
}

// all returns the values in a new slice (empty, not nil, when there are
// none).
func (c *chunks[T]) all() []T {
	out := make([]T, 0, c.n)
	for _, ch := range c.list() {
		out = append(out, ch...)
	}
	return out
}

// textChunks is a growing text kept in blocks.
type textChunks struct {
	done [][]byte
	cur  []byte
	n    int
}

// add appends s and returns the length of the whole text.
func (c *textChunks) add(s string) int {
	if len(c.cur)+len(s) > cap(c.cur) {
		if c.cur != nil {
			c.done = append(c.done, c.cur)
		}
		c.cur = make([]byte, 0, max(len(s), min(2*cap(c.cur), 1<<20), 1024))
	}
	c.cur = append(c.cur, s...)
	c.n += len(s)
	return c.n
}

// string returns the whole text as one string.
func (c *textChunks) string() string {
	var sb strings.Builder
	sb.Grow(c.n)
	for _, ch := range c.done {
		sb.Write(ch)
	}
	sb.Write(c.cur)
	return sb.String()
}

// build checks Types, settles inferred types and returns the Frame, failing
// on the first bad value of the first numeric column under BadValueError.
func (b *csvBuilder) build() (*Frame, error) {
	opts := b.opts
	for name, typ := range opts.Types {
		if !slices.Contains(b.names, name) {
			return nil, fmt.Errorf("data: %s: Types names column %q, which is not in the file (have %s)", b.file, name, strings.Join(b.names, ", "))
		}
		if typ < Auto || typ > Categorical {
			return nil, fmt.Errorf("data: %s: invalid type %d for column %q", b.file, int(typ), name)
		}
	}
	var lines []int
	if b.lines.n > 0 {
		lines = b.lines.all()
	}
	f := &Frame{Source: b.file, Lines: lines}
	for j, name := range b.names {
		c := &b.cols[j]
		if !c.cat && c.typ == Auto && !(c.parsed == c.nonMiss || float64(c.parsed) >= b.thr*float64(c.nonMiss)) {
			c.toCat()
		}

		col := &Column{Name: name, Type: Numeric}
		if c.cat {
			col.Type = Categorical
			col.Cat = c.cats.all()
			// A value that is not UTF-8 would be stored mangled (JSON
			// replaces its bytes) and the artifact would reject its own
			// training file; training and prediction both refuse it here.
			for k, v := range col.Cat {
				if !utf8.ValidString(v) {
					return nil, Issue{File: b.file, Line: lines[k], Field: j + 1, Column: name, Value: v, Msg: invalidUTF8(v)}
				}
			}
		} else {
			col.Num = c.num.all()
			for _, bv := range c.bad {
				is := Issue{File: b.file, Line: lines[bv.row], Field: j + 1, Column: name, Value: bv.raw,
					Msg: badNumberMsg(bv.raw)}
				if opts.BadValues != BadValueMissing {
					return nil, is
				}
				is.Msg += "; set to missing"
				f.Issues = append(f.Issues, is)
			}
		}
		f.Columns = append(f.Columns, col)
		*c = csvCol{}
	}
	if len(b.names) == 0 {
		f.Lines = nil
	}
	return f, nil
}

// pow10 holds the powers of ten that are exact in a float64.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloatFast is parseNumber on a trimmed string, with a fast path for
// plain decimals ([+-]digits[.digits], at most 15 digits in all): the digits
// as an integer, exact in a float64, divided by an exact power of ten is
// the correctly rounded value, as strconv.ParseFloat gives.
func parseFloatFast(s string) (float64, bool) {
	i := 0
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		i = 1
	}
	var mant uint64
	nd, frac := 0, 0
	dot := false
	for ; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			if nd == 15 {
				return parseNumber(s)
			}
			mant = mant*10 + uint64(c-'0')
			nd++
			if dot {
				frac++
			}
			continue
		}
		if c == '.' && !dot {
			dot = true
			continue
		}
		return parseNumber(s)
	}
	if nd == 0 {
		return parseNumber(s)
	}
	v := float64(mant)
	if frac > 0 {
		v /= pow10[frac]
	}
	if neg {
		v = -v
	}
	return v, true
}
