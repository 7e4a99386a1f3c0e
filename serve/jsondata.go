package serve

import (
	"fmt"
	"math"
	"strconv"
	"unsafe"
)

// decodeJSONNumbers reads a tensor's JSON "data" (flat, or nested arrays in
// row-major order, as the protocol allows both) into dst, checking every
// element against the datatype: whole numbers in range for integer types,
// finite values in range for floats, true/false (or 0/1) for BOOL. The
// element count must be len(dst). It allocates nothing.
func decodeJSONNumbers[T float32 | float64](name string, raw []byte, dt datatype, dst []T) error {
	lo, hi, integral := dt.bounds()
	n, depth := 0, 0
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == ',':
			i++
		case c == '[':
			depth++
			i++
		case c == ']':
			depth--
			i++
		case c == 't' || c == 'f':
			if dt != dtBool {
				return fmt.Errorf("input %q element %d is a boolean; datatype %s takes numbers", name, n, dt)
			}
			v := T(0)
			if c == 't' {
				v = 1
			}
			if n >= len(dst) {
				return fmt.Errorf("input %q holds more than the %d elements its shape says", name, len(dst))
			}
			dst[n] = v
			n++
			for i < len(raw) && raw[i] >= 'a' && raw[i] <= 'z' {
				i++
			}
		case c == '-' || (c >= '0' && c <= '9'):
			j := i
			for j < len(raw) && (raw[j] == '-' || raw[j] == '+' || raw[j] == '.' || raw[j] == 'e' || raw[j] == 'E' || (raw[j] >= '0' && raw[j] <= '9')) {
				j++
			}
			// The bytes are not kept past the call (strconv copies them into
			// any error it returns), so they need no string copy.
			f, err := strconv.ParseFloat(unsafe.String(&raw[i], j-i), 64)
			if err != nil {
				return fmt.Errorf("input %q element %d: %q is out of range for %s", name, n, raw[i:j], dt)
			}
			if f < lo || f > hi || (integral && f != math.Trunc(f)) {
				return fmt.Errorf("input %q element %d: %s is not a valid %s value", name, n, raw[i:j], dt)
			}
			if n >= len(dst) {
				return fmt.Errorf("input %q holds more than the %d elements its shape says", name, len(dst))
			}
			dst[n] = T(f)
			n++
			i = j
		case c == '"':
			return fmt.Errorf("input %q element %d is a string; datatype %s takes numbers (BYTES takes strings)", name, n, dt)
		case c == 'n':
			return fmt.Errorf("input %q element %d is null; every element needs a value", name, n)
		default:
			return fmt.Errorf("input %q: data must be an array of numbers, found %q", name, c)
		}
	}
	if depth != 0 {
		return fmt.Errorf("input %q: data's brackets do not match", name)
	}
	if n != len(dst) {
		return fmt.Errorf("input %q holds %d elements; its shape says %d", name, n, len(dst))
	}
	return nil
}

// appendJSONFloat writes v as JSON; non-finite values, which JSON cannot
// hold, are written as null.
func appendJSONFloat(b []byte, v float32) []byte {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, float64(v), 'g', -1, 32)
}

// appendJSONString writes s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
