package data

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shenml/shen/internal/safeio"
)

func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// TestGzipEveryReader: every reader of outside files reads name.gz as it
// reads name (before, a gzipped text corpus was read as its compressed
// bytes, and IDX through an uncapped decompressor).
func TestGzipEveryReader(t *testing.T) {
	dir := t.TempDir()
	csvText := []byte("x,y,label\n1,2,a\n3,4,b\n")
	tsvText := []byte("x\ty\tlabel\n1\t2\ta\n3\t4\tb\n")
	jsonl := []byte("{\"x\":1,\"y\":2,\"label\":\"a\"}\n{\"x\":3,\"y\":4,\"label\":\"b\"}\n")
	for _, c := range []struct {
		name string
		raw  []byte
		read func(string) (*Frame, error)
	}{
		{"t.csv", csvText, func(p string) (*Frame, error) { return ReadCSV(p, CSVOptions{}) }},
		{"t.tsv", tsvText, func(p string) (*Frame, error) { return ReadCSV(p, CSVOptions{}) }},
		{"t.jsonl", jsonl, func(p string) (*Frame, error) { return ReadJSONL(p, CSVOptions{}) }},
	} {
		plain, err := c.read(writeFile(t, dir, c.name, c.raw))
		if err != nil {
			t.Fatal(err)
		}
		zipped, err := c.read(writeFile(t, dir, c.name+".gz", gzipBytes(c.raw)))
		if err != nil {
			t.Fatalf("%s.gz: %v", c.name, err)
		}
		if !slices.Equal(plain.Names(), zipped.Names()) || !slices.Equal(nums(t, plain, "x"), nums(t, zipped, "x")) || !slices.Equal(cats(t, plain, "label"), cats(t, zipped, "label")) {
			t.Errorf("%s.gz reads differently from %s", c.name, c.name)
		}
	}
	corpus := []byte("hello, wörld\nsecond line\n")
	for _, name := range []string{"c.txt", "c.txt.gz"} {
		b := corpus
		if strings.HasSuffix(name, ".gz") {
			b = gzipBytes(corpus)
		}
		got, err := ReadText(writeFile(t, dir, name, b), 0)
		if err != nil || got != string(corpus) {
			t.Errorf("ReadText(%s) = %q, %v", name, got, err)
		}
	}
	idx := []byte{0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9}
	for _, name := range []string{"l.idx", "l.idx.gz"} {
		b := idx
		if strings.HasSuffix(name, ".gz") {
			b = gzipBytes(idx)
		}
		m, err := ReadIDX(writeFile(t, dir, name, b))
		if err != nil || !slices.Equal(m.Data, []byte{7, 8, 9}) {
			t.Errorf("ReadIDX(%s) = %v, %v", name, m, err)
		}
	}
}

// TestGzipBomb: a gzip bomb is refused once the decompressed cap has
// come out, naming the file: with the default cap (100 times the
// compressed size, at least 64 MiB) for a text corpus of 80 MiB of zeros
// in 80 KB, and with a stated cap for CSV and JSON Lines rows.
func TestGzipBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("decompresses 64 MiB")
	}
	dir := t.TempDir()
	bomb := func(name string, head, unit []byte, mib int) string {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(head)
		block := bytes.Repeat(unit, (1<<20)/len(unit))
		for range mib {
			zw.Write(block)
		}
		zw.Close()
		return writeFile(t, dir, name, buf.Bytes())
	}
	check := func(p string, err error, cap string) {
		t.Helper()
		var le *safeio.LimitError
		if !errors.As(err, &le) || strings.Count(err.Error(), p) != 1 || !strings.Contains(err.Error(), "decompresses to more than "+cap) {
			t.Errorf("%s: %v", filepath.Base(p), err)
		}
	}
	p := bomb("corpus.txt.gz", nil, []byte{0}, 80)
	_, err := ReadText(p, 0)
	check(p, err, "64 MiB")
	p = bomb("rows.csv.gz", []byte("a,b\n"), []byte("1,2\n"), 8)
	_, err = ReadCSV(p, CSVOptions{MaxDecompressed: 1 << 20})
	check(p, err, "1 MiB")
	p = bomb("rows.jsonl.gz", nil, []byte("{\"a\":1}\n"), 8)
	_, err = ReadJSONL(p, CSVOptions{MaxDecompressed: 1 << 20})
	check(p, err, "1 MiB")
}

// TestNonFiniteNumbers: Inf, NaN (when not a missing token) and values
// beyond float32 in a numeric column are bad values naming the column and
// line, or missing values listed as Issues (and so in the cleaning
// report) — never a reason to read the column as categories. Before, two
// "Inf" cells made the column one-hot categories.
func TestNonFiniteNumbers(t *testing.T) {
	text := "x,y\n1,a\n2,b\nInf,a\n4,b\n-inf,a\n1e39,b\n6,a\n"
	_, err := ReadCSVFrom(strings.NewReader(text), "t.csv", CSVOptions{})
	var is Issue
	if !errors.As(err, &is) || is.Column != "x" || is.Line != 4 || !strings.Contains(err.Error(), "t.csv:4:1") || !strings.Contains(err.Error(), "infinite") {
		t.Fatalf("default policy: %v, want an error at t.csv:4:1 naming column x", err)
	}
	f, err := ReadCSVFrom(strings.NewReader(text), "t.csv", CSVOptions{BadValues: BadValueMissing})
	if err != nil {
		t.Fatal(err)
	}
	x := nums(t, f, "x") // numeric, not categories
	if !math.IsNaN(x[2]) || !math.IsNaN(x[4]) || !math.IsNaN(x[5]) || x[6] != 6 {
		t.Errorf("x = %v", x)
	}
	if len(f.Issues) != 3 || f.Issues[2].Line != 7 || !strings.Contains(f.Issues[2].Msg, "float32") {
		t.Errorf("issues = %v", f.Issues)
	}
	_, rep, err := Clean(f, CleanOptions{})
	if err != nil || len(rep.Coerced) != 3 {
		t.Errorf("cleaning report coerced %d values (%v), want 3", len(rep.Coerced), err)
	}
	// JSON Lines: the same rule.
	jl := "{\"x\":1}\n{\"x\":\"Infinity\"}\n{\"x\":3}\n"
	if _, err := ReadJSONLFrom(strings.NewReader(jl), "t.jsonl", CSVOptions{}); err == nil || !strings.Contains(err.Error(), "t.jsonl:2") || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("JSONL: %v", err)
	}
	// A column of words that happens to hold "Inf" is still categorical.
	g, err := ReadCSVFrom(strings.NewReader("w\nlow\nInf\nhigh\n"), "w.csv", CSVOptions{})
	if err != nil || g.Col("w").Type != Categorical {
		t.Errorf("words: %v %v", g, err)
	}
	// Serving: a JSON number beyond float32 is refused, not turned into Inf.
	p := NewPipeline(Standardize("x"))
	if err := p.Fit(&Frame{Columns: []*Column{{Name: "x", Type: Numeric, Num: []float64{1, 2, 3}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.TransformRow(map[string]any{"x": 1e300}); err == nil || !strings.Contains(err.Error(), "float32") {
		t.Errorf("TransformRow(1e300) = %v", err)
	}
}

// TestInvalidUTF8 refuses labels and other text values that are not
// UTF-8, naming file:line:field; before, the label was stored mangled in
// model.json and the artifact rejected its own training file.
func TestInvalidUTF8(t *testing.T) {
	text := "x,label\n1,cafe\n2,caf\xe9\n"
	_, err := ReadCSVFrom(strings.NewReader(text), "t.csv", CSVOptions{})
	if err == nil || !strings.Contains(err.Error(), "t.csv:3:2") || !strings.Contains(err.Error(), "UTF-8") || !strings.Contains(err.Error(), `"label"`) {
		t.Errorf("CSV: %v", err)
	}
	_, err = ReadJSONLFrom(strings.NewReader("{\"label\":\"ok\"}\n{\"label\":\"caf\xe9\"}\n"), "t.jsonl", CSVOptions{})
	if err == nil || !strings.Contains(err.Error(), "t.jsonl:2") || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("JSONL: %v", err)
	}
	p := writeFile(t, t.TempDir(), "c.txt", []byte("ok\nbad \xff here\n"))
	if _, err := ReadText(p, 0); err == nil || !strings.Contains(err.Error(), p+":2:5") {
		t.Errorf("text: %v", err)
	}
}

// TestErrorsNameFileOnce: every reader error names the file exactly once,
// with the line (and field) where known, and quotes at most a short
// excerpt of the input (an all-NUL line, a 10 MB line). Before, errors
// repeated the path and quoted whole values.
func TestErrorsNameFileOnce(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("z", longLine())
	nul := strings.Repeat("\x00", 1<<20)
	cases := []struct {
		name, text, where string
		read              func(string) error
	}{
		{"ragged.csv", "a,b\n1,2\n3\n", ":3", readCSV},
		{"badnum.csv", "a,b\n1,2\n3,x\n", ":3:2", func(p string) error {
			_, err := ReadCSV(p, CSVOptions{Types: map[string]ColumnType{"b": Numeric}})
			return err
		}},
		{"long.csv", "a,b\n1," + long + "\n2,x\n", ":2:2", func(p string) error {
			_, err := ReadCSV(p, CSVOptions{Types: map[string]ColumnType{"b": Numeric}})
			return err
		}},
		{"nul.csv", "a,b\n" + nul + "\n", ":2", readCSV},
		{"quote.csv", "a,b\n1,\"x\n", ":2", readCSV},
		{"notgz.csv.gz", "a,b\n1,2\n", "gzip", readCSV},
		{"trunc.csv.gz", string(gzipBytes([]byte("a,b\n1,2\n" + strings.Repeat("3,4\n", 1000))))[:30], "gzip", readCSV},
		{"bad.jsonl", "{\"a\":1}\n{\"a\":[1]}\n", ":2", func(p string) error { _, err := ReadJSONL(p, CSVOptions{}); return err }},
		{"nul.jsonl", nul + "\n", ":1", func(p string) error { _, err := ReadJSONL(p, CSVOptions{}); return err }},
		{"long.jsonl", "{\"a\":\"" + long + "\", \"b\": [1]}\n", ":1", func(p string) error { _, err := ReadJSONL(p, CSVOptions{}); return err }},
		{"bad.idx", "\x00\x00\x09\x01", "element type", func(p string) error { _, err := ReadIDX(p); return err }},
		{"short.idx.gz", string(gzipBytes([]byte{0, 0, 8, 1, 0, 0, 0, 9, 1})), "truncated", func(p string) error { _, err := ReadIDX(p); return err }},
		{"sk.csv", "3,2,a,b\n1,2,0\n1,2\n", ":", func(p string) error { _, _, err := ReadSklearnCSV(p); return err }},
	}
	for _, c := range cases {
		p := writeFile(t, dir, c.name, []byte(c.text))
		err := c.read(p)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		msg := err.Error()
		if n := strings.Count(msg, p); n != 1 {
			t.Errorf("%s: the path appears %d times in %q", c.name, n, excerpt(msg))
		}
		if !strings.Contains(msg, c.where) {
			t.Errorf("%s: %q does not say %q", c.name, excerpt(msg), c.where)
		}
		if len(msg) > len(p)+400 {
			t.Errorf("%s: a %d-byte message: %s", c.name, len(msg), excerpt(msg))
		}
	}
}

func readCSV(p string) error { _, err := ReadCSV(p, CSVOptions{}); return err }

func TestExcerpt(t *testing.T) {
	if got := excerpt("short"); got != `"short"` {
		t.Errorf("excerpt(short) = %s", got)
	}
	got := excerpt(strings.Repeat("é", 100))
	if !strings.HasPrefix(got, `"`+strings.Repeat("é", 60)+`"…`) || !strings.Contains(got, "(200 bytes)") {
		t.Errorf("excerpt cuts %s", got)
	}
	if got := excerpt(strings.Repeat("\x00", 100)); len(got) > 300 || !strings.Contains(got, `\x00`) {
		t.Errorf("excerpt of NULs %s", got)
	}
}

// TestReadCSVFromLineCap: a reader that is not a file (stdin, a request
// body) gets the same line cap as files.
func TestReadCSVFromLineCap(t *testing.T) {
	r := io.MultiReader(strings.NewReader("a,b\n1,"), &zeros{n: MaxLineBytes + 10})
	_, err := ReadCSVFrom(r, "stdin", CSVOptions{})
	if err == nil || !strings.Contains(err.Error(), "stdin:2") || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("err = %v", err)
	}
}

// zeros reads as n bytes of 'z'.
type zeros struct{ n int }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), z.n)
	for i := range p[:k] {
		p[i] = 'z'
	}
	z.n -= k
	return k, nil
}
