package data

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// diffTokens are field values chosen to hit every path of type inference:
// plain and odd numbers, non-finite and out-of-range ones, missing tokens,
// spaces, quotes, separators and line breaks.
var diffTokens = []string{
	"0", "1", "-1", "+2", "3.25", "-0", "-0.0", ".5", "5.", "007", "1e3", "1E-2", "-1.5e+2", "0x1p3", "1_000",
	"123456789012345", "1234567890123456", "12345678901234567890", "0.1", "0.30000000000000004", "9007199254740993",
	"1.7976931348623157e308", "1e400", "-1e400", "4.9e-324", "1e-400", "inf", "-Inf", "Infinity", "NaN", "nan",
	"", " ", "  7 ", "\t8", "NA", " NA ", "N/A", "null", "None", "?", "-999", "x", "paris", " lima ", "a b",
	"\"q\"", "\"1\"", "\" 2 \"", "\"a,b\"", "\"l1\nl2\"", "\"say \"\"hi\"\"\"", "\"\"", "5\"", "\"x\"y", "é", "\ufeff1",
	"#c", ".", "-", "+", "1.2.3", "--1", "1-",
}

// randomCSV builds a CSV from r: mostly well-formed rows of tokens, with some
// ragged rows, blank lines, comments and CRLF line ends.
func randomCSV(r *rand.Rand) []byte {
	var b bytes.Buffer
	cols := 1 + r.IntN(5)
	rows := r.IntN(40)
	numericBias := r.IntN(3) // 0: any token; 1-2: mostly numbers
	sep := ","
	if r.IntN(4) == 0 {
		sep = ";"
	}
	nl := "\n"
	if r.IntN(4) == 0 {
		nl = "\r\n"
	}
	if r.IntN(5) == 0 {
		b.WriteString("meta line" + nl)
	}
	for i := 0; i < rows+1; i++ {
		n := cols
		if r.IntN(25) == 0 {
			n = 1 + r.IntN(cols+2)
		}
		if r.IntN(30) == 0 {
			b.WriteString(nl)
		}
		for j := 0; j < n; j++ {
			if j > 0 {
				b.WriteString(sep)
			}
			if i == 0 && r.IntN(3) > 0 {
				b.WriteString(string(rune('a' + j)))
				continue
			}
			var tok string
			if numericBias > 0 && r.IntN(10) < 8 {
				tok = diffTokens[r.IntN(21)]
			} else {
				tok = diffTokens[r.IntN(len(diffTokens))]
			}
			b.WriteString(tok)
		}
		b.WriteString(nl)
	}
	return b.Bytes()
}

// randomOptions picks reader options from r.
func randomOptions(r *rand.Rand, in []byte) CSVOptions {
	var o CSVOptions
	if bytes.Contains(in, []byte(";")) && r.IntN(4) > 0 {
		o.Comma = ';'
	}
	if r.IntN(4) == 0 {
		o.Comment = '#'
	}
	o.NoHeader = r.IntN(4) == 0
	o.SkipLines = r.IntN(3)
	if r.IntN(6) == 0 {
		o.Names = []string{"a", "b", "c"}[:1+r.IntN(3)]
	}
	switch r.IntN(5) {
	case 0:
		o.Types = map[string]ColumnType{"a": Numeric}
	case 1:
		o.Types = map[string]ColumnType{"b": Categorical}
	case 2:
		o.Types = map[string]ColumnType{[]string{"a", "c", "zz"}[r.IntN(3)]: ColumnType(r.IntN(5) - 1)}
	}
	o.NumericThreshold = []float64{0, 0.5, 0.75, 1, 1.5, -1, math.NaN(), 0.999}[r.IntN(8)]
	switch r.IntN(4) {
	case 0:
		o.Missing = []string{"-999", " x ", "0", "1e3"}
	case 1:
		o.Missing = []string{}
	}
	if r.IntN(2) == 0 {
		o.BadValues = BadValueMissing
	}
	o.LazyQuotes = r.IntN(3) == 0
	if r.IntN(5) == 0 {
		o.MaxRows = 1 + r.IntN(10)
	}
	return o
}

// sameFrame reports how a and b differ, or "" when they hold the same
// names, types, values (NaN equal to NaN, -0 apart from 0), lines and
// issues.
func sameFrame(a, b *Frame) string {
	if a.Source != b.Source || !reflect.DeepEqual(a.Lines, b.Lines) || !reflect.DeepEqual(a.Issues, b.Issues) {
		return "source, lines or issues differ"
	}
	if len(a.Columns) != len(b.Columns) {
		return "column counts differ"
	}
	for i, ca := range a.Columns {
		cb := b.Columns[i]
		if ca.Name != cb.Name || ca.Type != cb.Type || len(ca.Num) != len(cb.Num) || (ca.Num == nil) != (cb.Num == nil) ||
			(ca.Cat == nil) != (cb.Cat == nil) || !reflect.DeepEqual(ca.Cat, cb.Cat) {
			return "column " + ca.Name + " differs"
		}
		for k := range ca.Num {
			x, y := ca.Num[k], cb.Num[k]
			if math.Float64bits(x) != math.Float64bits(y) && !(math.IsNaN(x) && math.IsNaN(y)) {
				return "column " + ca.Name + " value differs"
			}
		}
	}
	return ""
}

// checkSameAsReference reads in with ReadCSVFrom and with the reference
// implementation and fails unless both give the same Frame or error.
func checkSameAsReference(t *testing.T, in []byte, o CSVOptions) {
	t.Helper()
	got, gerr := ReadCSVFrom(bytes.NewReader(in), "d.csv", o)
	want, werr := refReadCSVFrom(bytes.NewReader(in), "d.csv", o)
	if (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
		t.Fatalf("input %q options %+v:\nerror %v\nwant  %v", in, o, gerr, werr)
	}
	if gerr != nil {
		if reflect.TypeOf(gerr) != reflect.TypeOf(werr) {
			t.Fatalf("input %q: error type %T, want %T", in, gerr, werr)
		}
		return
	}
	if d := sameFrame(got, want); d != "" {
		t.Fatalf("input %q options %+v: %s\ngot  %+v\nwant %+v", in, o, d, frameDump(got), frameDump(want))
	}
}

func frameDump(f *Frame) string {
	var b strings.Builder
	for _, c := range f.Columns {
		b.WriteString(c.Name + ":" + c.Type.String())
		if c.Type == Numeric {
			for _, v := range c.Num {
				b.WriteString(" " + (&Column{Type: Numeric, Num: []float64{v}}).Value(0))
			}
		} else {
			b.WriteString(" " + strings.Join(c.Cat, "|"))
		}
		b.WriteString("; ")
	}
	return b.String()
}

// TestReadCSVMatchesReference compares the incremental reader with the
// reference on random CSVs and options.
func TestReadCSVMatchesReference(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range n {
		in := randomCSV(r)
		checkSameAsReference(t, in, randomOptions(r, in))
	}
	checkSameAsReference(t, benchCSV(3000), CSVOptions{})
	checkSameAsReference(t, benchCSV(3000), CSVOptions{NumericThreshold: 0.9, BadValues: BadValueMissing, Types: map[string]ColumnType{"city": Numeric}})
}

// FuzzReadCSVMatchesReference compares the two readers on arbitrary input.
func FuzzReadCSVMatchesReference(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		f.Add(randomCSV(r), uint64(r.Uint64()))
	}
	f.Add([]byte("a,b\n1,x\n2,NA\n"), uint64(0))
	f.Fuzz(func(t *testing.T, in []byte, seed uint64) {
		o := randomOptions(rand.New(rand.NewPCG(seed, seed>>7)), in)
		checkSameAsReference(t, in, o)
	})
}

// TestParseFloatFast checks the fast path against strconv on numbers near
// its limits.
func TestParseFloatFast(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 200000 {
		var b strings.Builder
		if r.IntN(3) == 0 {
			b.WriteByte("+-"[r.IntN(2)])
		}
		nd := r.IntN(18)
		dot := r.IntN(nd + 2)
		for k := 0; k < nd; k++ {
			if k == dot {
				b.WriteByte('.')
			}
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		s := b.String()
		v, ok := parseFloatFast(s)
		w, wok := parseNumber(s)
		if ok != wok || math.Float64bits(v) != math.Float64bits(w) {
			t.Fatalf("parseFloatFast(%q) = %v, %v; parseNumber gives %v, %v", s, v, ok, w, wok)
		}
	}
}
