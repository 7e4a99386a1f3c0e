// Package safetensors reads and writes the safetensors tensor file format
// (https://github.com/huggingface/safetensors), the format in which Shen
// stores weights and in which most of the field exchanges them.
//
// A file is an 8-byte little-endian header size N, then N bytes of UTF-8
// JSON mapping each tensor name to its dtype, shape and data_offsets
// (begin and end, relative to the byte buffer after the header), plus an
// optional "__metadata__" object of string to string, then the byte
// buffer itself.
//
// Read enforces the rules of the reference implementation: a sane header
// size, valid UTF-8 JSON, known dtypes, offsets inside the buffer whose
// length matches shape and dtype, and tensors that are contiguous, do not
// overlap and cover the whole buffer, with no name given twice. Write lays
// out tensors as the reference writer (used by the Python library) does:
// sorted by descending dtype alignment and then by name, compact JSON, the
// header padded with spaces to a multiple of 8 bytes. A file written by
// Write is byte-for-byte the file that safetensors.torch.save_file writes
// for the same tensors, except that metadata keys are sorted here while
// the reference writes them in hash-map order.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxHeaderSize is the largest JSON header Read accepts, in bytes: the
// reference implementation's limit.
const MaxHeaderSize = 100_000_000

// metadataKey is the reserved header key that holds the metadata object.
const metadataKey = "__metadata__"

// Tensor is one named tensor of a File: its dtype, shape and raw
// little-endian, row-major bytes.
type Tensor struct {
	DType DType
	Shape []int
	// Data holds the elements, exactly ByteSize(DType, Shape) bytes. After
	// Read it aliases the buffer that was read.
	Data []byte
}

// File is the content of a safetensors file: its tensors by name and its
// free-form metadata. The zero value is an empty file ready for Add.
type File struct {
	// Metadata is the "__metadata__" object. Nil means the header has no
	// such key; an empty non-nil map is written as an empty object.
	Metadata map[string]string
	// Tensors maps each tensor name to its tensor.
	Tensors map[string]Tensor
}

// Error reports a malformed file or an invalid tensor. It names the file
// (when one was read or written by path) and the tensor at fault (when the
// fault lies in one tensor).
type Error struct {
	File   string // path of the file, or "" for bytes in memory or a stream
	Tensor string // name of the tensor at fault, or "" when none is
	Msg    string // what is wrong
}

// Error formats e as "FILE: tensor "NAME": MSG", with "safetensors" in
// place of FILE when no file is named and without the tensor part when no
// tensor is at fault.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
	} else {
		b.WriteString("safetensors")
	}
	b.WriteString(": ")
	if e.Tensor != "" {
		b.WriteString("tensor ")
		b.WriteString(strconv.Quote(e.Tensor))
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func errorf(tensor, format string, args ...any) *Error {
	return &Error{Tensor: tensor, Msg: fmt.Sprintf(format, args...)}
}

// ByteSize returns the number of bytes that a tensor of dtype d and the
// given shape occupies. A shape of length 0 is a scalar (one element). It
// fails for an unknown dtype, a negative dimension, a size that overflows,
// or sub-byte elements that do not fill a whole number of bytes.
func ByteSize(d DType, shape []int) (int, error) {
	b := d.Bits()
	if b == 0 {
		return 0, fmt.Errorf("unknown dtype %q", string(d))
	}
	n := uint64(1)
	for _, s := range shape {
		if s < 0 {
			return 0, fmt.Errorf("shape %v has a negative dimension", shape)
		}
		hi, lo := bits.Mul64(n, uint64(s))
		if hi != 0 {
			return 0, fmt.Errorf("shape %v has too many elements", shape)
		}
		n = lo
	}
	return sizeOf(d, b, n, shape)
}

func sizeOf(d DType, b int, n uint64, shape []int) (int, error) {
	hi, nbits := bits.Mul64(n, uint64(b))
	if hi != 0 || nbits/8 > math.MaxInt {
		return 0, fmt.Errorf("shape %v of %s has too many bytes", shape, d)
	}
	if nbits%8 != 0 {
		return 0, fmt.Errorf("shape %v of %s is %d bits, not a whole number of bytes", shape, d, nbits)
	}
	return int(nbits / 8), nil
}

// Names returns the tensor names in the order Write stores them: by
// descending dtype alignment, then by name.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Tensors))
	for name := range f.Tensors {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		ra, rb := f.Tensors[a].DType.rank(), f.Tensors[b].DType.rank()
		if ra != rb {
			return rb - ra
		}
		return strings.Compare(a, b)
	})
	return names
}

// Add stores a tensor of dtype d and the given shape whose raw
// little-endian bytes are data. It keeps data without copying and copies
// shape. It fails if the name is taken, reserved or not UTF-8, or if data
// does not hold exactly the bytes that shape and dtype need.
func (f *File) Add(name string, d DType, shape []int, data []byte) error {
	if err := checkTensor(name, d, shape, len(data)); err != nil {
		return err
	}
	if _, ok := f.Tensors[name]; ok {
		return errorf(name, "already in the file")
	}
	if f.Tensors == nil {
		f.Tensors = make(map[string]Tensor)
	}
	f.Tensors[name] = Tensor{DType: d, Shape: append([]int{}, shape...), Data: data}
	return nil
}

// checkTensor validates one tensor for writing.
func checkTensor(name string, d DType, shape []int, n int) error {
	if name == metadataKey {
		return errorf(name, "the name is reserved for the metadata")
	}
	if !utf8.ValidString(name) {
		return errorf(name, "the name is not valid UTF-8")
	}
	want, err := ByteSize(d, shape)
	if err != nil {
		return errorf(name, "%v", err)
	}
	if n != want {
		return errorf(name, "data holds %d bytes but shape %v of %s needs %d", n, shape, d, want)
	}
	return nil
}

// tensor returns the named tensor or an error saying it is missing.
func (f *File) tensor(name string) (Tensor, error) {
	t, ok := f.Tensors[name]
	if !ok {
		return t, errorf(name, "not in the file")
	}
	return t, nil
}

// count returns the number of elements of t, which must be valid.
func (t Tensor) count() int {
	n := 1
	for _, s := range t.Shape {
		n *= s
	}
	return n
}

// Float32 returns the named tensor's elements as float32 together with a
// copy of its shape. F32 is copied; F16 and BF16 are widened exactly; F64
// is rounded to the nearest float32. It allocates one slice of the
// tensor's length. Any other dtype is an error.
func (f *File) Float32(name string) ([]float32, []int, error) {
	t, err := f.tensor(name)
	if err != nil {
		return nil, nil, err
	}
	n := t.count()
	out := make([]float32, n)
	le := binary.LittleEndian
	switch t.DType {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(t.Data[4*i:]))
		}
	case F16:
		for i := range out {
			out[i] = Float16ToFloat32(le.Uint16(t.Data[2*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = BFloat16ToFloat32(le.Uint16(t.Data[2*i:]))
		}
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(le.Uint64(t.Data[8*i:])))
		}
	default:
		return nil, nil, errorf(name, "dtype %s cannot be read as float32", t.DType)
	}
	return out, slices.Clone(t.Shape), nil
}

// Float64 returns the named tensor's elements as float64 together with a
// copy of its shape. F64 is copied; F32, F16 and BF16 are widened exactly.
// Any other dtype is an error.
func (f *File) Float64(name string) ([]float64, []int, error) {
	t, err := f.tensor(name)
	if err != nil {
		return nil, nil, err
	}
	if t.DType == F64 {
		out := make([]float64, t.count())
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*i:]))
		}
		return out, slices.Clone(t.Shape), nil
	}
	f32, shape, err := f.Float32(name)
	if err != nil {
		return nil, nil, errorf(name, "dtype %s cannot be read as float64", t.DType)
	}
	out := make([]float64, len(f32))
	for i, v := range f32 {
		out[i] = float64(v)
	}
	return out, shape, nil
}

// Int64 returns the named tensor's elements as int64 together with a copy
// of its shape. Every integer dtype and BOOL is accepted; a U64 element
// above math.MaxInt64 is an error. Any other dtype is an error.
func (f *File) Int64(name string) ([]int64, []int, error) {
	t, err := f.tensor(name)
	if err != nil {
		return nil, nil, err
	}
	out := make([]int64, t.count())
	le := binary.LittleEndian
	d := t.Data
	switch t.DType {
	case I64:
		for i := range out {
			out[i] = int64(le.Uint64(d[8*i:]))
		}
	case U64:
		for i := range out {
			v := le.Uint64(d[8*i:])
			if v > math.MaxInt64 {
				return nil, nil, errorf(name, "element %d is %d, too large for int64", i, v)
			}
			out[i] = int64(v)
		}
	case I32:
		for i := range out {
			out[i] = int64(int32(le.Uint32(d[4*i:])))
		}
	case U32:
		for i := range out {
			out[i] = int64(le.Uint32(d[4*i:]))
		}
	case I16:
		for i := range out {
			out[i] = int64(int16(le.Uint16(d[2*i:])))
		}
	case U16:
		for i := range out {
			out[i] = int64(le.Uint16(d[2*i:]))
		}
	case I8:
		for i := range out {
			out[i] = int64(int8(d[i]))
		}
	case U8, Bool:
		for i := range out {
			out[i] = int64(d[i])
		}
	default:
		return nil, nil, errorf(name, "dtype %s cannot be read as int64", t.DType)
	}
	return out, slices.Clone(t.Shape), nil
}

// AddFloat32 stores data as an F32 tensor of the given shape. It copies
// data into a new little-endian buffer.
func (f *File) AddFloat32(name string, shape []int, data []float32) error {
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return f.Add(name, F32, shape, b)
}

// AddFloat64 stores data as an F64 tensor of the given shape. It copies
// data into a new little-endian buffer.
func (f *File) AddFloat64(name string, shape []int, data []float64) error {
	b := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return f.Add(name, F64, shape, b)
}

// AddInt64 stores data as an I64 tensor of the given shape. It copies
// data into a new little-endian buffer.
func (f *File) AddInt64(name string, shape []int, data []int64) error {
	b := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	return f.Add(name, I64, shape, b)
}

// Float16ToFloat32 converts an IEEE 754 half-precision value, given by its
// bits, to float32. The conversion is exact (subnormals, infinities and
// NaN payloads included).
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f: // infinity or NaN
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp == 0: // zero or subnormal: man * 2^-24, exact in float32
		v := float32(man) / (1 << 24)
		if sign != 0 {
			v = -v
		}
		return v
	default:
		return math.Float32frombits(sign | (exp+127-15)<<23 | man<<13)
	}
}

// BFloat16ToFloat32 converts a bfloat16 value, given by its bits, to
// float32. The conversion is exact: bfloat16 is the top half of a float32.
func BFloat16ToFloat32(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}

// appendJSONString appends s as a JSON string, escaped exactly as the
// reference writer (serde_json) and Python's json.dumps(ensure_ascii=False)
// do: quote, backslash and control characters only, with the short forms
// \b \t \n \f \r and otherwise \u00xx in lower-case hex; everything else,
// non-ASCII included, verbatim.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\b':
			b = append(b, '\\', 'b')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\f':
			b = append(b, '\\', 'f')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}

// encode validates f and returns the padded header and the tensor names in
// storage order.
func (f *File) encode() ([]byte, []string, error) {
	names := f.Names()
	for _, name := range names {
		t := f.Tensors[name]
		if err := checkTensor(name, t.DType, t.Shape, len(t.Data)); err != nil {
			return nil, nil, err
		}
	}
	h := []byte{'{'}
	if f.Metadata != nil {
		keys := make([]string, 0, len(f.Metadata))
		for k, v := range f.Metadata {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, nil, errorf("", "metadata %q is not valid UTF-8", k)
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		h = appendJSONString(h, metadataKey)
		h = append(h, ':', '{')
		for i, k := range keys {
			if i > 0 {
				h = append(h, ',')
			}
			h = appendJSONString(h, k)
			h = append(h, ':')
			h = appendJSONString(h, f.Metadata[k])
		}
		h = append(h, '}')
	}
	var off uint64
	for i, name := range names {
		t := f.Tensors[name]
		if i > 0 || f.Metadata != nil {
			h = append(h, ',')
		}
		h = appendJSONString(h, name)
		h = append(h, `:{"dtype":`...)
		h = appendJSONString(h, string(t.DType))
		h = append(h, `,"shape":[`...)
		for j, s := range t.Shape {
			if j > 0 {
				h = append(h, ',')
			}
			h = strconv.AppendInt(h, int64(s), 10)
		}
		h = append(h, `],"data_offsets":[`...)
		h = strconv.AppendUint(h, off, 10)
		h = append(h, ',')
		off += uint64(len(t.Data))
		h = strconv.AppendUint(h, off, 10)
		h = append(h, ']', '}')
	}
	h = append(h, '}')
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	return h, names, nil
}

// Marshal returns f in the safetensors format, as Write writes it. It
// allocates one buffer of the whole file's size.
func Marshal(f *File) ([]byte, error) {
	var buf bytes.Buffer
	if err := Write(&buf, f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
