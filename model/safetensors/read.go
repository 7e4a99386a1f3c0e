package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ReadFile reads and validates the safetensors file at path. It reads the
// whole file into memory once; the tensors' Data alias that buffer.
// Errors name the file. Only regular files are read (a FIFO or a link to
// /dev/zero is an error); use ReadFileLimit to cap the size too.
func ReadFile(path string) (*File, error) {
	return ReadFileLimit(path, math.MaxInt64-1)
}

// ErrNotRegular is wrapped by the error for a path that is not a regular
// file. (The package imports nothing of Shen, so it keeps its own copy of
// internal/safeio's check.)
var ErrNotRegular = errors.New("not a regular file")

// ReadFileLimit is ReadFile refusing, before reading anything, a file of
// more than limit bytes: callers that know what the file should hold (a
// model's parameters, 8 bytes per value at most, plus MaxHeaderSize) bound
// the memory a damaged or hostile file can take.
func ReadFileLimit(path string, limit int64) (*File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &os.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (mode %v)", ErrNotRegular, st.Mode().Type())}
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d this file may hold", path, st.Size(), limit)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s grew past the %d bytes it may hold while being read", path, limit)
	}
	f, err := Read(b)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.File = path
		}
		return nil, err
	}
	return f, nil
}

// Read parses and validates a whole safetensors file held in b. The
// tensors' Data alias b (no copy), so b must not change while they are in
// use. A malformed file gives an *Error naming the tensor at fault, never
// a panic.
func Read(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, errorf("", "file is %d bytes, too short for the 8-byte header size (truncated?)", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > MaxHeaderSize {
		return nil, errorf("", "header size %d is over the limit of %d bytes", n, MaxHeaderSize)
	}
	if n > uint64(len(b)-8) {
		return nil, errorf("", "header size %d runs past the end of the %d-byte file (truncated?)", n, len(b))
	}
	header, buf := b[8:8+n], b[8+n:]
	if !utf8.Valid(header) {
		return nil, errorf("", "header is not valid UTF-8")
	}
	if err := checkSurrogates(header); err != nil {
		return nil, err
	}
	meta, entries, err := parseHeader(header)
	if err != nil {
		return nil, err
	}

	// Validate the layout in offset order, as the reference does.
	slices.SortFunc(entries, func(a, b entry) int {
		if a.begin != b.begin {
			return cmpU64(a.begin, b.begin)
		}
		if a.end != b.end {
			return cmpU64(a.end, b.end)
		}
		return strings.Compare(a.name, b.name)
	})
	f := &File{Metadata: meta, Tensors: make(map[string]Tensor, len(entries))}
	var pos uint64
	prev := ""
	for _, e := range entries {
		if e.end < e.begin {
			return nil, errorf(e.name, "data_offsets [%d %d] end before they begin", e.begin, e.end)
		}
		want, err := sizeOf(e.dtype, e.dtype.Bits(), e.count, e.shape)
		if err != nil {
			return nil, errorf(e.name, "%v", err)
		}
		if e.end-e.begin != uint64(want) {
			return nil, errorf(e.name, "data_offsets [%d %d] hold %d bytes but shape %v of %s needs %d",
				e.begin, e.end, e.end-e.begin, e.shape, e.dtype, want)
		}
		if e.end > uint64(len(buf)) {
			return nil, errorf(e.name, "data_offsets [%d %d] run past the end of the %d-byte data buffer (truncated?)",
				e.begin, e.end, len(buf))
		}
		if e.begin != pos {
			if prev == "" {
				return nil, errorf(e.name, "data_offsets [%d %d]: the first tensor must begin at 0", e.begin, e.end)
			}
			what := "a gap after"
			if e.begin < pos {
				what = "an overlap with"
			}
			return nil, errorf(e.name, "data_offsets [%d %d] begin at %d but tensor %q ends at %d: %s it (tensors must be contiguous)",
				e.begin, e.end, e.begin, prev, pos, what)
		}
		pos, prev = e.end, e.name
		f.Tensors[e.name] = Tensor{DType: e.dtype, Shape: e.shape, Data: buf[e.begin:e.end:e.end]}
	}
	if pos != uint64(len(buf)) {
		return nil, errorf("", "tensors cover %d bytes but the data buffer after the header holds %d", pos, len(buf))
	}
	return f, nil
}

func cmpU64(a, b uint64) int {
	if a < b {
		return -1
	}
	return 1
}

// entry is one tensor as declared in the header.
type entry struct {
	name       string
	dtype      DType
	shape      []int
	count      uint64 // number of elements
	begin, end uint64
}

// parseHeader decodes the JSON header strictly: an object of tensor
// entries plus an optional "__metadata__" object of strings, no key twice
// at any level, nothing after the object but whitespace.
func parseHeader(h []byte) (map[string]string, []entry, error) {
	d := json.NewDecoder(bytes.NewReader(h))
	d.UseNumber()
	tok, err := d.Token()
	if err != nil {
		return nil, nil, jsonError("", err)
	}
	if tok != json.Delim('{') {
		return nil, nil, errorf("", "header is not a JSON object")
	}
	var meta map[string]string
	var entries []entry
	seen := make(map[string]bool)
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, nil, jsonError("", err)
		}
		name := tok.(string) // the decoder guarantees object keys are strings
		if seen[name] {
			if name == metadataKey {
				return nil, nil, errorf("", "header has %q twice", metadataKey)
			}
			return nil, nil, errorf(name, "declared twice in the header")
		}
		seen[name] = true
		if name == metadataKey {
			if meta, err = parseMetadata(d); err != nil {
				return nil, nil, err
			}
			continue
		}
		e, err := parseEntry(d, name)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if _, err := d.Token(); err != nil { // the closing brace
		return nil, nil, jsonError("", err)
	}
	if _, err := d.Token(); err != io.EOF {
		if err != nil {
			return nil, nil, jsonError("", err)
		}
		return nil, nil, errorf("", "header has data after its JSON object")
	}
	return meta, entries, nil
}

// jsonError turns a decoder error into an *Error.
func jsonError(tensor string, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errorf(tensor, "header JSON ends early")
	}
	return errorf(tensor, "header is not valid JSON: %v", err)
}

// parseMetadata decodes the "__metadata__" value: null, or an object of
// string to string.
func parseMetadata(d *json.Decoder) (map[string]string, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, jsonError("", err)
	}
	if tok == nil {
		return nil, nil
	}
	if tok != json.Delim('{') {
		return nil, errorf("", "%s is not an object of strings", metadataKey)
	}
	meta := make(map[string]string)
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, jsonError("", err)
		}
		k := tok.(string)
		if tok, err = d.Token(); err != nil {
			return nil, jsonError("", err)
		}
		v, ok := tok.(string)
		if !ok {
			return nil, errorf("", "%s %q is not a string", metadataKey, k)
		}
		if _, dup := meta[k]; dup {
			return nil, errorf("", "%s has %q twice", metadataKey, k)
		}
		meta[k] = v
	}
	if _, err := d.Token(); err != nil {
		return nil, jsonError("", err)
	}
	return meta, nil
}

// parseEntry decodes one tensor's {"dtype", "shape", "data_offsets"}
// object. Unknown fields are skipped, as the reference does.
func parseEntry(d *json.Decoder, name string) (entry, error) {
	e := entry{name: name}
	tok, err := d.Token()
	if err != nil {
		return e, jsonError(name, err)
	}
	if tok != json.Delim('{') {
		return e, errorf(name, "entry is not a JSON object")
	}
	var haveDType, haveShape, haveOffsets bool
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return e, jsonError(name, err)
		}
		field := tok.(string)
		switch field {
		case "dtype":
			if haveDType {
				return e, errorf(name, "has dtype twice")
			}
			haveDType = true
			tok, err := d.Token()
			if err != nil {
				return e, jsonError(name, err)
			}
			s, ok := tok.(string)
			if !ok {
				return e, errorf(name, "dtype is not a string")
			}
			e.dtype = DType(s)
			if !e.dtype.Valid() {
				return e, errorf(name, "unknown dtype %q", s)
			}
		case "shape":
			if haveShape {
				return e, errorf(name, "has shape twice")
			}
			haveShape = true
			dims, err := parseUints(d, name, "shape")
			if err != nil {
				return e, err
			}
			e.shape = make([]int, len(dims))
			e.count = 1
			for i, v := range dims {
				if v > math.MaxInt {
					return e, errorf(name, "shape dimension %d is too large", v)
				}
				e.shape[i] = int(v)
				if e.count != 0 && v > math.MaxUint64/e.count {
					return e, errorf(name, "shape %v has too many elements", dims)
				}
				e.count *= v
			}
		case "data_offsets":
			if haveOffsets {
				return e, errorf(name, "has data_offsets twice")
			}
			haveOffsets = true
			offs, err := parseUints(d, name, "data_offsets")
			if err != nil {
				return e, err
			}
			if len(offs) != 2 {
				return e, errorf(name, "data_offsets has %d numbers, not 2 (begin, end)", len(offs))
			}
			e.begin, e.end = offs[0], offs[1]
		default:
			var skip json.RawMessage
			if err := d.Decode(&skip); err != nil {
				return e, jsonError(name, err)
			}
		}
	}
	if _, err := d.Token(); err != nil {
		return e, jsonError(name, err)
	}
	switch {
	case !haveDType:
		return e, errorf(name, "has no dtype")
	case !haveShape:
		return e, errorf(name, "has no shape")
	case !haveOffsets:
		return e, errorf(name, "has no data_offsets")
	}
	return e, nil
}

// parseUints decodes a JSON array of non-negative integers.
func parseUints(d *json.Decoder, name, field string) ([]uint64, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, jsonError(name, err)
	}
	if tok != json.Delim('[') {
		return nil, errorf(name, "%s is not an array", field)
	}
	out := []uint64{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, jsonError(name, err)
		}
		num, ok := tok.(json.Number)
		if !ok {
			return nil, errorf(name, "%s holds %v, not a number", field, tok)
		}
		v, err := strconv.ParseUint(string(num), 10, 64)
		if err != nil || !isUint(string(num)) {
			return nil, errorf(name, "%s holds %s, not a non-negative integer", field, num)
		}
		out = append(out, v)
	}
	if _, err := d.Token(); err != nil {
		return nil, jsonError(name, err)
	}
	return out, nil
}

// isUint reports whether s is a plain decimal integer (JSON has no
// leading zeros, so only digits need checking).
func isUint(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkSurrogates rejects \u escapes of unpaired UTF-16 surrogates, which
// the reference refuses and encoding/json would quietly turn into U+FFFD.
func checkSurrogates(h []byte) error {
	hex4 := func(i int) int { // the 4 hex digits at h[i:], or -1
		if i+4 > len(h) {
			return -1
		}
		v := 0
		for _, c := range h[i : i+4] {
			switch {
			case '0' <= c && c <= '9':
				v = v<<4 | int(c-'0')
			case 'a' <= c && c <= 'f':
				v = v<<4 | int(c-'a'+10)
			case 'A' <= c && c <= 'F':
				v = v<<4 | int(c-'A'+10)
			default:
				return -1
			}
		}
		return v
	}
	for i := 0; i < len(h); i++ {
		if h[i] != '\\' || i+1 >= len(h) {
			continue
		}
		i++ // the escaped character
		if h[i] != 'u' {
			continue
		}
		v := hex4(i + 1)
		switch {
		case v >= 0xd800 && v < 0xdc00:
			if i+6 < len(h) && h[i+5] == '\\' && h[i+6] == 'u' {
				if w := hex4(i + 7); w >= 0xdc00 && w < 0xe000 {
					i += 10
					continue
				}
			}
			return errorf("", "header has an unpaired UTF-16 surrogate escape at byte %d", i-1)
		case v >= 0xdc00 && v < 0xe000:
			return errorf("", "header has an unpaired UTF-16 surrogate escape at byte %d", i-1)
		}
	}
	return nil
}
