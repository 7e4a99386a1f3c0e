package data

import (
	"encoding/json"
	"fmt"
)

// jsonField is one key and its value as text ("" for null).
type jsonField struct{ key, val string }

// jsonObjectParser parses one flat JSON object per call, the shape of a
// JSON Lines record, keeping key order: values are strings, numbers (their
// text, as json.Number keeps it), booleans ("true"/"false") or null ("");
// a nested object or array is an error naming the field. It accepts and
// refuses what encoding/json does (the differential test checks), without
// a decoder and tokens per line: keys are interned, the field slice is
// reused, and only values are allocated.
type jsonObjectParser struct {
	b      []byte
	i      int
	fields []jsonField
	keys   map[string]string
}

type jsonSyntaxError struct {
	msg string
	off int
}

func (e *jsonSyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON: %s at byte %d", e.msg, e.off+1)
}

// parse returns the fields of the object in b. The slice is reused by the
// next call.
func (p *jsonObjectParser) parse(b []byte) ([]jsonField, error) {
	p.b, p.i, p.fields = b, 0, p.fields[:0]
	if p.keys == nil {
		p.keys = map[string]string{}
	}
	p.space()
	if p.i >= len(b) {
		return nil, p.fail("unexpected end of input")
	}
	if b[p.i] != '{' {
		if k := p.kind(); k != "" {
			return nil, fmt.Errorf("expected a JSON object, got %s", k)
		}
		return nil, p.fail(fmt.Sprintf("invalid character %q looking for beginning of value", b[p.i]))
	}
	p.i++
	p.space()
	if p.peek() == '}' {
		p.i++
		return p.fields, p.end()
	}
	for {
		p.space()
		if p.peek() != '"' {
			return nil, p.fail("expected a string key")
		}
		key, err := p.str(true)
		if err != nil {
			return nil, err
		}
		p.space()
		if p.peek() != ':' {
			return nil, p.fail("expected ':' after the key")
		}
		p.i++
		p.space()
		val, err := p.value(key)
		if err != nil {
			return nil, err
		}
		p.fields = append(p.fields, jsonField{key, val})
		p.space()
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return p.fields, p.end()
		default:
			return nil, p.fail("expected ',' or '}' after a value")
		}
	}
}

// end checks nothing but white space follows the object.
func (p *jsonObjectParser) end() error {
	p.space()
	if p.i < len(p.b) {
		return fmt.Errorf("trailing data after the JSON object")
	}
	return nil
}

func (p *jsonObjectParser) fail(msg string) error { return &jsonSyntaxError{msg, p.i} }

func (p *jsonObjectParser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *jsonObjectParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// kind names the value starting at p.i, or "" for none.
func (p *jsonObjectParser) kind() string {
	switch c := p.peek(); {
	case c == '[':
		return "array"
	case c == '"':
		return "string"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	}
	return ""
}

// value parses the value of field key.
func (p *jsonObjectParser) value(key string) (string, error) {
	switch c := p.peek(); {
	case c == '"':
		return p.str(false)
	case c == '{':
		return "", fmt.Errorf("field %q: nested object values are not supported", key)
	case c == '[':
		return "", fmt.Errorf("field %q: nested array values are not supported", key)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(p.b)-p.i >= len(lit) && string(p.b[p.i:p.i+len(lit)]) == lit {
			p.i += len(lit)
			if lit == "null" {
				return "", nil
			}
			return lit, nil
		}
	}
	if p.i >= len(p.b) {
		return "", p.fail("unexpected end of input")
	}
	return "", p.fail(fmt.Sprintf("invalid character %q looking for beginning of value", p.b[p.i]))
}

// number scans a JSON number and returns its text.
func (p *jsonObjectParser) number() (string, error) {
	b, start := p.b, p.i
	digits := func() int {
		n := 0
		for p.i < len(b) && b[p.i] >= '0' && b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.peek() == '-' {
		p.i++
	}
	switch {
	case p.peek() == '0':
		p.i++
	case p.peek() >= '1' && p.peek() <= '9':
		digits()
	default:
		return "", p.fail("invalid number")
	}
	if p.peek() == '.' {
		p.i++
		if digits() == 0 {
			return "", p.fail("invalid number: no digits after '.'")
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.i++
		if c := p.peek(); c == '+' || c == '-' {
			p.i++
		}
		if digits() == 0 {
			return "", p.fail("invalid number: no digits in the exponent")
		}
	}
	return string(b[start:p.i]), nil
}

// str scans a JSON string at p.i and returns its value, interned when it
// is a key. Strings without escapes are sliced directly; escaped ones are
// decoded by encoding/json, so the result is exactly its.
func (p *jsonObjectParser) str(key bool) (string, error) {
	b, start := p.b, p.i
	p.i++
	escaped := false
	for {
		if p.i >= len(b) {
			return "", p.fail("unterminated string")
		}
		c := b[p.i]
		switch {
		case c == '"':
			p.i++
			raw := b[start:p.i]
			if escaped {
				var s string
				if err := json.Unmarshal(raw, &s); err != nil {
					return "", &jsonSyntaxError{"bad escape in string", start}
				}
				return p.intern(key, s), nil
			}
			inner := raw[1 : len(raw)-1]
			if key {
				if s, ok := p.keys[string(inner)]; ok {
					return s, nil
				}
			}
			return p.intern(key, string(inner)), nil
		case c == '\\':
			escaped = true
			p.i += 2
		case c < 0x20:
			return "", p.fail("control character in string")
		default:
			p.i++
		}
	}
}

func (p *jsonObjectParser) intern(key bool, s string) string {
	if !key {
		return s
	}
	if k, ok := p.keys[s]; ok {
		return k
	}
	if len(p.keys) < 1<<16 {
		p.keys[s] = s
	}
	return s
}
