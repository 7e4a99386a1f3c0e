package data

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// refParseJSONObject is the encoding/json-based flat-object parser that
// jsonObjectParser replaced, kept as the reference of the differential
// test and fuzz target.
// parseJSONObject decodes one flat object, keeping key order. Missing values
// (null) become "".
func refParseJSONObject(b []byte) ([]jsonField, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("expected a JSON object, got %s", refDescribeToken(tok))
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
			return nil, fmt.Errorf("field %q: nested %s values are not supported", key, refDescribeToken(v))
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

func refDescribeToken(t json.Token) string {
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
