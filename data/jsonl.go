package data

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/shenml/shen/internal/safeio"
)

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
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	t := &rawTable{file: name}
	pos := map[string]int{}
	var lastRow []int // per column, the last row that set it (duplicate keys)
	var jp jsonObjectParser
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
		rec, err := jp.parse(b)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		for _, kv := range rec {
			if len(kv.val) > MaxValueBytes || len(kv.key) > MaxValueBytes {
				return nil, fmt.Errorf("%s:%d: field %s: a value of more than %s (a table cell holds at most that)", name, line, excerpt(kv.key), safeio.FormatBytes(MaxValueBytes))
			}
		}
		for _, kv := range rec {
			j, ok := pos[kv.key]
			if !ok {
				j = len(t.names)
				pos[kv.key] = j
				t.names = append(t.names, kv.key)
				t.cols = append(t.cols, make([]string, nrows))
				lastRow = append(lastRow, -1)
			}
			if lastRow[j] == nrows {
				return nil, fmt.Errorf("%s:%d: field %q appears twice", name, line, kv.key)
			}
			lastRow[j] = nrows
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
