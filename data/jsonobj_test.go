package data

import (
	"slices"
	"testing"
	"unicode/utf8"
)

var jsonObjectSeeds = []string{
	`{}`, ` { "a" : 1 , "b" : "x" } `, `{"a":-0.5e-3,"b":true,"c":false,"d":null}`,
	`{"a":"\u00e9\n\"q\"","\u0062":"\ud83d\ude00"}`, `{"a":"\ud800"}`, `{"a":1,}`, `{"a":1} 2`, `{"a":1}x`,
	`[1,2]`, `"s"`, `12`, `true`, `null`, `x`, ``, `{`, `{"a"`, `{"a":`, `{"a":1`, `{"a":{"b":1}}`, `{"a":[1]}`,
	`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`, `{"a":-}`, `{"a":+1}`, `{"a":"tab	here"}`, `{"a":"\x"}`,
	`{a:1}`, `{"a" 1}`, `{"a":tru}`, `{"a":nul}`, `{"a":1 "b":2}`, `{"a":"\u12"}`, `{"":""}`, `{"a":1}}`,
}

// TestJSONObjectParserMatchesReference checks the hand-written parser
// against the encoding/json one it replaced: the same fields, or both an
// error of the same kind.
func TestJSONObjectParserMatchesReference(t *testing.T) {
	for _, s := range jsonObjectSeeds {
		checkJSONObject(t, []byte(s))
	}
}

func checkJSONObject(t *testing.T, b []byte) {
	t.Helper()
	if !utf8.Valid(b) {
		return // ReadJSONL refuses the line before parsing it
	}
	var p jsonObjectParser
	got, err := p.parse(b)
	want, werr := refParseJSONObject(b)
	if (err == nil) != (werr == nil) {
		t.Fatalf("%q: parse error %v, reference error %v", b, err, werr)
	}
	if err != nil {
		return
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%q: parse %q, reference %q", b, got, want)
	}
}

func FuzzJSONObjectParser(f *testing.F) {
	for _, s := range jsonObjectSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkJSONObject(t, b)
	})
}
