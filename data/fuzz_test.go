package data

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"math"
	"os"
	"strings"
	"testing"
)

func gzipWriter(w io.Writer) *gzip.Writer { return gzip.NewWriter(w) }

func FuzzReadCSV(f *testing.F) {
	for _, name := range []string{"mixed.csv", "quoted.csv", "bad.csv", "ragged.csv"} {
		b, _ := os.ReadFile(td(name))
		f.Add(b, false, uint8(0))
	}
	f.Add([]byte("a;b\n\"1\";x\n"), true, uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, lenient bool, skip uint8) {
		opts := CSVOptions{SkipLines: int(skip % 3), NumericThreshold: 0.5}
		if lenient {
			opts.BadValues = BadValueMissing
			opts.Comma = ';'
		}
		fr, err := ReadCSVFrom(bytes.NewReader(b), "fuzz.csv", opts)
		if err != nil {
			return
		}
		n := fr.NumRows()
		for _, c := range fr.Columns {
			if c.Len() != n {
				t.Fatalf("column %q has %d rows, frame %d", c.Name, c.Len(), n)
			}
		}
		NewProfile(fr, 5)
		Clean(fr, CleanOptions{DropDuplicates: true, Missing: ImputeMissing, Strategy: Median})
	})
}

func FuzzReadJSONL(f *testing.F) {
	b, _ := os.ReadFile(td("people.jsonl"))
	f.Add(b)
	f.Add([]byte(`{"a":[1],"b":{"c":2}}`))
	f.Add([]byte("{\"a\":1e400}\n{\"a\":\"x\"}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := ReadJSONLFrom(bytes.NewReader(b), "fuzz.jsonl", CSVOptions{})
		if err != nil {
			return
		}
		for _, c := range fr.Columns {
			if c.Len() != fr.NumRows() {
				t.Fatalf("ragged frame")
			}
		}
	})
}

func FuzzReadIDX(f *testing.F) {
	for _, name := range []string{"tiny-images-idx3-ubyte", "tiny-images-idx3-ubyte.gz", "tiny-labels-idx1-ubyte"} {
		b, _ := os.ReadFile(td(name))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ReadIDXFrom(bytes.NewReader(b), "fuzz.idx")
		if err != nil {
			return
		}
		n := 1
		for _, d := range m.Dims {
			n *= d
		}
		if n != len(m.Data) {
			t.Fatalf("dims %v but %d bytes", m.Dims, len(m.Data))
		}
	})
}

func FuzzVocabJSON(f *testing.F) {
	v, _ := BuildVocab("hello world", VocabOptions{Level: Words})
	b, _ := json.Marshal(v)
	f.Add(b, "hello there")
	f.Add([]byte(`{"level":"char","tokens":["<pad>","<unk>","é"]}`), "aé")
	f.Fuzz(func(t *testing.T, b []byte, text string) {
		var v Vocab
		if err := json.Unmarshal(b, &v); err != nil {
			return
		}
		ids := v.Encode(text)
		for _, id := range ids {
			if id < 0 || id >= int64(v.Len()) {
				t.Fatalf("id %d out of range", id)
			}
		}
		v.Decode(append(ids, -5, 1<<40))
	})
}

func FuzzPipelineJSON(f *testing.F) {
	train := trainFrame()
	p := NewPipeline(Impute(Median, "x", "z"), Clip(0.1, 0.9, "z"), Robust("x"), Log1p("z"), MinMax("z"), Standardize("x"),
		OneHot("color"), Tokens("text", 2, VocabOptions{Level: Words}, nil))
	if err := p.Fit(train); err != nil {
		f.Fatal(err)
	}
	b, _ := json.Marshal(p)
	f.Add(b, "red", 1.5)
	q := NewPipeline(Impute(Mode), Ordinal())
	q.Fit(train.Drop("text"))
	b, _ = json.Marshal(q)
	f.Add(b, "blue", -3.0)
	f.Add([]byte(`{"version":1,"fitted":true,"inputs":[{"name":"t","type":"categorical"}],"outputs":["t[0]"],"steps":[{"kind":"tokens","column":"t","length":1,"vocab":{"level":"char","tokens":["<pad>","<unk>"]}}]}`), "t", 0.0)
	d := NewPipeline(DateFeatures("d"))
	if err := d.Fit(&Frame{Columns: []*Column{{Name: "d", Type: Categorical, Cat: []string{"2024-01-02T03:04:05Z", "2023-06-30T12:00:00+02:00"}}}}); err != nil {
		f.Fatal(err)
	}
	b, _ = json.Marshal(d)
	f.Add(b, "2024-02-29T23:59:59Z", 0.0)
	f.Add(b, "2024-13-01T00:00:00Z", 0.0)
	f.Fuzz(func(t *testing.T, b []byte, s string, x float64) {
		var p Pipeline
		if err := json.Unmarshal(b, &p); err != nil {
			return
		}
		row := map[string]any{}
		for _, in := range p.Inputs() {
			if in.Type == Numeric {
				row[in.Name] = x
			} else {
				row[in.Name] = s
			}
		}
		out, err := p.TransformRow(row)
		if err == nil && len(out) != p.Width() {
			t.Fatalf("row of %d features, width %d", len(out), p.Width())
		}
		if _, err := json.Marshal(&p); err != nil && !strings.Contains(err.Error(), "unsupported value") {
			t.Fatalf("re-marshal: %v", err)
		}
	})
}

// FuzzDateFeatures fits the date step on arbitrary values: it either
// refuses them or produces features that are finite for every value it
// fitted on (missing ones aside), and applies again identically.
func FuzzDateFeatures(f *testing.F) {
	f.Add("2024-03-31", "1999-12-31")
	f.Add("3/31/2024", "12/1/2024")
	f.Add("2024-03-31T14:05:00+14:00", "0001-01-01T00:00:00Z")
	f.Add("31.3.2024", "")
	f.Add("Feb 29 2024", "Feb 30 2024")
	f.Fuzz(func(t *testing.T, a, b string) {
		fr := &Frame{Columns: []*Column{{Name: "d", Type: Categorical, Cat: []string{a, b}}}}
		p := NewPipeline(DateFeatures("d"))
		p.AllowNaN = true
		if p.Fit(fr) != nil {
			return
		}
		m, err := p.TransformMatrix(fr)
		if err != nil {
			t.Fatalf("fitted values do not apply: %v", err)
		}
		for r, row := range m {
			for _, v := range row {
				if fr.Columns[0].Cat[r] != "" && (math.IsNaN(float64(v)) || math.IsInf(float64(v), 0)) {
					t.Fatalf("value %q gives %v", fr.Columns[0].Cat[r], row)
				}
			}
		}
	})
}
