package data

import (
	"errors"
	"strings"
	"testing"
)

func TestReadCSV(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		opts      CSVOptions
		wantNames []string
		wantTypes []ColumnType
		check     func(t *testing.T, f *Frame)
	}{
		{
			name:      "mixed types and missing",
			path:      td("mixed.csv"),
			wantNames: []string{"age", "city", "income", "score"},
			wantTypes: []ColumnType{Numeric, Categorical, Numeric, Numeric},
			check: func(t *testing.T, f *Frame) {
				if got := nums(t, f, "age"); !eqF(got, []float64{34, nan, 29, 41, 34}) {
					t.Errorf("age = %v", got)
				}
				if got := cats(t, f, "city"); strings.Join(got, "|") != "paris|london||paris|paris" {
					t.Errorf("city = %q", got)
				}
				if got := f.Lines; len(got) != 5 || got[0] != 2 || got[4] != 6 {
					t.Errorf("lines = %v", got)
				}
			},
		},
		{
			name:      "explicit type override",
			path:      td("mixed.csv"),
			opts:      CSVOptions{Types: map[string]ColumnType{"age": Categorical}},
			wantNames: []string{"age", "city", "income", "score"},
			wantTypes: []ColumnType{Categorical, Categorical, Numeric, Numeric},
			check: func(t *testing.T, f *Frame) {
				if got := cats(t, f, "age"); got[1] != "" || got[0] != "34" {
					t.Errorf("age = %q", got)
				}
			},
		},
		{
			name:      "tsv gzip",
			path:      td("mixed.tsv.gz"),
			wantNames: []string{"a", "b"},
			wantTypes: []ColumnType{Numeric, Categorical},
			check: func(t *testing.T, f *Frame) {
				if got := cats(t, f, "b"); strings.Join(got, "|") != "x|y|" {
					t.Errorf("b = %q", got)
				}
			},
		},
		{
			name:      "quoted fields RFC 4180",
			path:      td("quoted.csv"),
			wantNames: []string{"id", "text", "value"},
			wantTypes: []ColumnType{Numeric, Categorical, Numeric},
			check: func(t *testing.T, f *Frame) {
				got := cats(t, f, "text")
				if got[0] != "hello, world" || got[1] != "multi\nline" || got[2] != `say "hi"` {
					t.Errorf("text = %q", got)
				}
				if f.Lines[2] != 5 {
					t.Errorf("line of row 3 = %d, want 5", f.Lines[2])
				}
			},
		},
		{
			name:      "iris without header",
			path:      td("sklearn_iris.csv"),
			opts:      CSVOptions{NoHeader: true, SkipLines: 1, Names: []string{"sl", "sw", "pl", "pw", "y"}},
			wantNames: []string{"sl", "sw", "pl", "pw", "y"},
			wantTypes: []ColumnType{Numeric, Numeric, Numeric, Numeric, Numeric},
			check: func(t *testing.T, f *Frame) {
				if f.NumRows() != 150 {
					t.Errorf("rows = %d", f.NumRows())
				}
				if sl := nums(t, f, "sl"); sl[0] != 5.1 {
					t.Errorf("sl[0] = %v", sl[0])
				}
				if f.Lines[0] != 2 {
					t.Errorf("first line = %d, want 2", f.Lines[0])
				}
			},
		},
		{
			name:      "no header default names and max rows",
			path:      td("bad.csv"),
			opts:      CSVOptions{NoHeader: true, MaxRows: 2},
			wantNames: []string{"c0", "c1"},
			wantTypes: []ColumnType{Categorical, Categorical},
		},
		{
			name:      "bad value coerced to missing",
			path:      td("bad.csv"),
			opts:      CSVOptions{Types: map[string]ColumnType{"y": Numeric}, BadValues: BadValueMissing},
			wantNames: []string{"x", "y"},
			wantTypes: []ColumnType{Numeric, Numeric},
			check: func(t *testing.T, f *Frame) {
				if got := nums(t, f, "y"); !eqF(got, []float64{2, nan, 6}) {
					t.Errorf("y = %v", got)
				}
				if len(f.Issues) != 1 || f.Issues[0].Line != 3 || f.Issues[0].Field != 2 {
					t.Fatalf("issues = %+v", f.Issues)
				}
				if msg := f.Issues[0].Error(); !strings.Contains(msg, "bad.csv:3:2") || !strings.Contains(msg, `"oops"`) {
					t.Errorf("issue message %q", msg)
				}
			},
		},
		{
			name:      "numeric threshold",
			path:      td("bad.csv"),
			opts:      CSVOptions{NumericThreshold: 0.6, BadValues: BadValueMissing},
			wantNames: []string{"x", "y"},
			wantTypes: []ColumnType{Numeric, Numeric},
		},
		{
			name:      "ragged row dropped when lenient",
			path:      td("ragged.csv"),
			opts:      CSVOptions{BadValues: BadValueMissing},
			wantNames: []string{"x", "y"},
			wantTypes: []ColumnType{Numeric, Numeric},
			check: func(t *testing.T, f *Frame) {
				if f.NumRows() != 2 || len(f.Issues) != 1 || f.Issues[0].Line != 3 {
					t.Errorf("rows %d issues %+v", f.NumRows(), f.Issues)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ReadCSV(tc.path, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Names(); strings.Join(got, ",") != strings.Join(tc.wantNames, ",") {
				t.Fatalf("names = %v, want %v", got, tc.wantNames)
			}
			for i, c := range f.Columns {
				if c.Type != tc.wantTypes[i] {
					t.Errorf("column %s type %v, want %v", c.Name, c.Type, tc.wantTypes[i])
				}
			}
			if tc.check != nil {
				tc.check(t, f)
			}
		})
	}
}

func TestReadCSVErrors(t *testing.T) {
	tests := []struct {
		name, path string
		opts       CSVOptions
		want       string
	}{
		{"bad value names file line field", td("bad.csv"), CSVOptions{Types: map[string]ColumnType{"y": Numeric}}, `bad.csv:3:2: column "y": cannot parse "oops"`},
		{"ragged row", td("ragged.csv"), CSVOptions{}, "ragged.csv:3: record has 1 fields, expected 2"},
		{"unknown type column", td("bad.csv"), CSVOptions{Types: map[string]ColumnType{"z": Numeric}}, `column "z", which is not in the file`},
		{"names count", td("bad.csv"), CSVOptions{Names: []string{"a"}}, "1 names given but the record has 2 fields"},
		{"missing file", td("nope.csv"), CSVOptions{}, "nope.csv"},
		{"not gzip", td("bad.csv") + ".gz", CSVOptions{}, "bad.csv.gz"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadCSV(tc.path, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want containing %q", err, tc.want)
			}
		})
	}
	var is Issue
	_, err := ReadCSV(td("bad.csv"), CSVOptions{Types: map[string]ColumnType{"y": Numeric}})
	if !errors.As(err, &is) || is.Line != 3 || is.Column != "y" {
		t.Errorf("error %v is not an Issue at line 3", err)
	}
}

func TestReadCSVFromQuoteError(t *testing.T) {
	_, err := ReadCSVFrom(strings.NewReader("a,b\n1,\"x\n"), "mem.csv", CSVOptions{})
	if err == nil || !strings.Contains(err.Error(), "mem.csv:2:") {
		t.Fatalf("err = %v", err)
	}
	_, err = ReadCSVFrom(strings.NewReader("skip\na,b\n1,2\n3,\"x\"y\n"), "mem.csv", CSVOptions{SkipLines: 1})
	if err == nil || !strings.Contains(err.Error(), "mem.csv:4:") {
		t.Fatalf("err = %v (line numbers must count skipped lines)", err)
	}
}

func TestReadJSONL(t *testing.T) {
	f, err := ReadJSONL(td("people.jsonl"), CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Names(), ","); got != "name,age,member,height" {
		t.Fatalf("names = %s", got)
	}
	if got := nums(t, f, "age"); !eqF(got, []float64{31, nan, 27}) {
		t.Errorf("age = %v", got)
	}
	if got := cats(t, f, "member"); strings.Join(got, "|") != "true||false" {
		t.Errorf("member = %q", got)
	}
	if got := nums(t, f, "height"); !eqF(got, []float64{nan, 1.8, 1.6}) {
		t.Errorf("height = %v", got)
	}
	if f.Lines[2] != 4 {
		t.Errorf("lines = %v", f.Lines)
	}
}

func TestReadJSONLErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"nested", "{\"a\":1}\n{\"a\":{\"b\":2}}\n", `m.jsonl:2: field "a": nested object`},
		{"array", `{"a":[1]}`, `m.jsonl:1: field "a": nested array`},
		{"not object", `[1,2]`, "m.jsonl:1: expected a JSON object, got array"},
		{"bad json", `{"a":1,}`, "m.jsonl:1: invalid JSON"},
		{"trailing", `{"a":1} 2`, "m.jsonl:1: trailing data"},
		{"dup", `{"a":1,"a":2}`, `m.jsonl:1: field "a" appears twice`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadJSONLFrom(strings.NewReader(tc.in), "m.jsonl", CSVOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	_, err := ReadJSONLFrom(strings.NewReader("{\"a\":1}\n{\"a\":\"x\"}\n"), "m.jsonl", CSVOptions{Types: map[string]ColumnType{"a": Numeric}})
	if err == nil || !strings.Contains(err.Error(), `m.jsonl:2: column "a": cannot parse "x"`) {
		t.Fatalf("err = %v", err)
	}
}
