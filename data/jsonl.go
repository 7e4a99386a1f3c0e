package data

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// maxLineBytes bounds one JSON Lines record.
const maxLineBytes = 64 << 20

// ReadJSONL reads a JSON Lines file (one flat JSON object per line; gzip when
// the name ends in .gz) into a Frame. Columns appear in order of first
// appearance; a key absent from a line is missing there, as is null. Numbers
// and numeric strings make numeric columns; other strings and booleans
// ("true"/"false") make categorical ones. Nested objects and arrays are an
// error naming file:line and the field. Of opts, Types, NumericThreshold,
// Missing, BadValues and MaxRows apply.
func ReadJSONL(path string, opts CSVOptions) (*Frame, error) {
	r, closeFn, err := openData(path, opts.MaxDecompressed)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	return ReadJSONLFrom(r, path, opts)
}

// ReadJSONLFrom is ReadJSONL on an open reader; name is used in messages.
func ReadJSONLFrom(r io.Reader, name string, opts CSVOptions) (*Frame, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	t := &rawTable{file: name}
	pos := map[string]int{}
	line := 0
	nrows := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if !utf8.Valid(b) {
			// encoding/json would replace the bytes silently.
			return nil, fmt.Errorf("%s:%d: %s", name, line, invalidUTF8(string(b)))
		}
		rec, err := parseJSONObject(b)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		seen := map[string]bool{}
		for _, kv := range rec {
			if seen[kv.key] {
				return nil, fmt.Errorf("%s:%d: field %q appears twice", name, line, kv.key)
			}
			seen[kv.key] = true
			j, ok := pos[kv.key]
			if !ok {
				j = len(t.names)
				pos[kv.key] = j
				t.names = append(t.names, kv.key)
				t.cols = append(t.cols, make([]string, nrows))
			}
			t.cols[j] = append(t.cols[j], kv.val)
		}
		for j := range t.cols {
			if len(t.cols[j]) == nrows {
				t.cols[j] = append(t.cols[j], "")
			}
		}
		t.lines = append(t.lines, line)
		nrows++
		if opts.MaxRows > 0 && nrows >= opts.MaxRows {
			break
		}
	}
	if err := sc.Err(); err != nil {
		if strings.Contains(err.Error(), name) {
			return nil, err
		}
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	return t.build(opts)
}

type jsonField struct{ key, val string }

// parseJSONObject decodes one flat object, keeping key order. Missing values
// (null) become "".
func parseJSONObject(b []byte) ([]jsonField, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("expected a JSON object, got %s", describeToken(tok))
	}
	var out []jsonField
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("invalid JSON: %w", err)
		}
		key, ok := kt.(string)
		if !ok {
			return nil, fmt.Errorf("invalid JSON key %v", kt)
		}
		vt, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("field %q: invalid JSON: %w", key, err)
		}
		var val string
		switch v := vt.(type) {
		case nil:
			val = ""
		case string:
			val = v
		case json.Number:
			val = v.String()
		case bool:
			if v {
				val = "true"
			} else {
				val = "false"
			}
		case json.Delim:
			return nil, fmt.Errorf("field %q: nested %s values are not supported", key, describeToken(v))
		}
		out = append(out, jsonField{key, val})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after the JSON object")
	}
	return out, nil
}

func describeToken(t json.Token) string {
	switch v := t.(type) {
	case json.Delim:
		if v == '[' {
			return "array"
		}
		if v == '{' {
			return "object"
		}
		return strings.TrimSpace(v.String())
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", t)
}
