package data

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shenml/shen/internal/safeio"
)

// MaxLineBytes bounds one line of a CSV, TSV, JSON Lines or text file, so
// a file without line breaks (all NUL bytes, a binary read as text) is an
// error naming its line instead of one string as large as the file.
const MaxLineBytes = 16 << 20

// MaxValueBytes bounds one value (one CSV field, one JSON Lines value): a
// table cell past it is an error naming its line and field, not a
// category name or a number kept in memory and in model.json.
const MaxValueBytes = 1 << 20

// checkRecord refuses a record with a field longer than MaxValueBytes,
// naming the file, line, field and (when known) the column of names.
func checkRecord(name string, line int, rec, names []string) error {
	for j, v := range rec {
		if len(v) > MaxValueBytes {
			col := ""
			if j < len(names) {
				col = fmt.Sprintf(" column %q:", names[j])
			}
			return fmt.Errorf("%s:%d:%d:%s a %d-byte value, more than the %s a table cell may hold: %s", name, line, j+1, col, len(v), safeio.FormatBytes(MaxValueBytes), excerpt(v))
		}
	}
	return nil
}

// excerptRunes is how much of a bad value an error quotes.
const excerptRunes = 60

// Excerpt is excerpt for the packages that report on data they did not
// read themselves (prediction requests): one way of quoting a bad value.
func Excerpt(s string) string { return excerpt(s) }

// excerpt returns s quoted for a message: at most excerptRunes runes (cut
// on a rune boundary) followed by "…" and the full length when cut, with
// control characters and invalid bytes escaped by %q.
func excerpt(s string) string {
	if len(s) <= excerptRunes {
		return strconv.Quote(s)
	}
	n, i := 0, 0
	for i < len(s) && n < excerptRunes {
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
		n++
	}
	if i == len(s) {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(s[:i]), len(s))
}

// parseNumber parses a number that a float32 feature can hold, after
// trimming spaces: finite, and no larger in magnitude than
// math.MaxFloat32 (larger values would become infinite in training).
func parseNumber(s string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) || math.Abs(v) > math.MaxFloat32 {
		return 0, false
	}
	return v, true
}

// numberProblem says why a trimmed value that reads as a number cannot be
// a feature ("is infinite", "is outside float32's range", "is NaN"), or
// returns "" when it is not a number at all. Such values are bad values of
// a numeric column, never a reason to read the column as categories.
func numberProblem(s string) string {
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil && strings.Contains(err.Error(), "out of range"):
		return "is outside float32's range (±3.4e38)"
	case err != nil:
		return ""
	case math.IsNaN(v):
		return "is NaN"
	case math.IsInf(v, 0):
		return "is infinite"
	case math.Abs(v) > math.MaxFloat32:
		return "is outside float32's range (±3.4e38)"
	}
	return ""
}

// badNumberMsg is the message for a value of a numeric column that is not
// a usable number.
func badNumberMsg(raw string) string {
	if p := numberProblem(strings.TrimSpace(raw)); p != "" {
		return fmt.Sprintf("value %s %s; numeric columns need finite numbers within float32's range", excerpt(raw), p)
	}
	return fmt.Sprintf("cannot parse %s as a finite number", excerpt(raw))
}

// invalidUTF8 is the message for a value that is not valid UTF-8.
func invalidUTF8(s string) string {
	return fmt.Sprintf("%s is not valid UTF-8 (is the file Latin-1 or another encoding? convert it to UTF-8, e.g. iconv -f latin1 -t utf-8)", excerpt(s))
}

// readTextBytes reads path whole under ReadText's caps.
func readTextBytes(path string, limit int64) ([]byte, error) {
	if !safeio.IsGzip(path) {
		if limit <= 0 {
			limit = math.MaxInt64 - 1
		}
		return safeio.ReadFile(path, limit)
	}
	rc, err := safeio.OpenData(path, limit)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(bufio.NewReaderSize(rc, 1<<16))
}

// openData opens a data file for streaming: regular files only,
// decompressed (with safeio's cap on the decompressed size, limit 0 for
// the default) when its name ends in .gz, with lines capped at
// MaxLineBytes. Errors name path once.
func openData(path string, limit int64) (io.Reader, func() error, error) {
	rc, err := safeio.OpenData(path, limit)
	if err != nil {
		return nil, nil, err
	}
	return &lineLimiter{r: rc, name: path}, rc.Close, nil
}

// lineLimiter fails a read once a line runs past MaxLineBytes.
type lineLimiter struct {
	r    io.Reader
	name string
	line int   // lines completed
	run  int64 // bytes since the last line break
}

func (l *lineLimiter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	b := p[:n]
	last := bytes.LastIndexByte(b, '\n')
	if last < 0 {
		l.run += int64(n)
	} else {
		if l.run+int64(bytes.IndexByte(b, '\n')) > MaxLineBytes {
			l.run += int64(bytes.IndexByte(b, '\n'))
		} else {
			l.line += bytes.Count(b, []byte{'\n'})
			l.run = int64(n - 1 - last)
		}
	}
	if l.run > MaxLineBytes {
		return 0, fmt.Errorf("%s:%d: line is longer than %s (not a text file, or no line breaks?)", l.name, l.line+1, safeio.FormatBytes(MaxLineBytes))
	}
	return n, err
}

// ReadText reads a text corpus (data.format text) whole: a regular file,
// decompressed when its name ends in .gz, which must be valid UTF-8. limit
// caps the bytes read (decompressed); 0 means no cap for a plain file and
// safeio's default (100 times the compressed size, at least 64 MiB) for a
// .gz. An error names the file once, and the line of the first invalid
// byte.
func ReadText(path string, limit int64) (string, error) {
	b, err := readTextBytes(path, limit)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		i := 0
		for i < len(b) {
			r, w := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && w == 1 {
				break
			}
			i += w
		}
		line := 1 + strings.Count(string(b[:i]), "\n")
		start := strings.LastIndexByte(string(b[:i]), '\n') + 1
		return "", fmt.Errorf("%s:%d:%d: byte 0x%02x is not valid UTF-8 (convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8)", path, line, i-start+1, b[i])
	}
	return string(b), nil
}

// ToNumber reads the value of a numeric input as decoded from JSON (a
// prediction request, a row for TransformRow): a number (float64,
// float32, int, int64, int32, json.Number) or a number written as text.
// nil, blank text and NaN are missing (NaN). A value a float32 feature
// cannot hold (infinite, or beyond ±math.MaxFloat32, which would become
// infinite in the model) is an error, as are text that is not a number
// and a value of another kind (object, array, boolean). It is the one
// reading of request numbers, shared by Pipeline.TransformRows and
// package predict, so both refuse and accept the same values.
func ToNumber(v any) (float64, error) {
	switch x := v.(type) {
	case nil:
		return math.NaN(), nil
	case float64:
		return finiteFeature(x, strconv.FormatFloat(x, 'g', -1, 64))
	case float32:
		return finiteFeature(float64(x), strconv.FormatFloat(float64(x), 'g', -1, 32))
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case json.Number:
		return textNumber(string(x))
	case string:
		return textNumber(x)
	}
	return 0, fmt.Errorf("want a number, got %s", jsonKind(v))
}

// textNumber reads a number written as text (blank is missing).
func textNumber(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return math.NaN(), nil
	}
	x, err := strconv.ParseFloat(t, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) { // out of range parses as ±Inf, refused below
		return 0, fmt.Errorf("%s is not a number", excerpt(s))
	}
	return finiteFeature(x, excerpt(t))
}

// finiteFeature returns x when a float32 feature can hold it (NaN is a
// missing value), else an error quoting it as shown.
func finiteFeature(x float64, shown string) (float64, error) {
	if math.IsInf(x, 0) || math.Abs(x) > math.MaxFloat32 {
		return 0, fmt.Errorf("%s is not a finite number within float32's range (±3.4e38)", shown)
	}
	return x, nil
}

// ToCategory reads the value of a categorical input as decoded from JSON:
// text (trimmed), a number or a boolean, written as text; nil is missing
// (""). An object or an array is an error. See ToNumber.
func ToCategory(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case json.Number:
		return x.String(), nil
	}
	return "", fmt.Errorf("want a category (text, number or boolean), got %s", jsonKind(v))
}

// jsonKind names the kind of a decoded JSON value for an error message.
func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", v)
}
