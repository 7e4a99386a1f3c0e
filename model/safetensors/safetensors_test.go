package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/safetensors/from_shen.safetensors")

const fixtureDir = "../../testdata/safetensors"

// raw builds a file from a header string and a data buffer.
func raw(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func le32(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func le16(vs ...uint16) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	return b
}

// equalFiles reports whether a and b hold the same metadata and tensors.
func equalFiles(t *testing.T, a, b *File) {
	t.Helper()
	if (a.Metadata == nil) != (b.Metadata == nil) || len(a.Metadata) != len(b.Metadata) {
		t.Fatalf("metadata %v != %v", a.Metadata, b.Metadata)
	}
	for k, v := range a.Metadata {
		if w, ok := b.Metadata[k]; !ok || w != v {
			t.Fatalf("metadata %q: %q != %q", k, v, w)
		}
	}
	if len(a.Tensors) != len(b.Tensors) {
		t.Fatalf("%d tensors != %d", len(a.Tensors), len(b.Tensors))
	}
	for name, ta := range a.Tensors {
		tb, ok := b.Tensors[name]
		if !ok {
			t.Fatalf("tensor %q missing", name)
		}
		if ta.DType != tb.DType || !slices.Equal(ta.Shape, tb.Shape) || !bytes.Equal(ta.Data, tb.Data) {
			t.Fatalf("tensor %q: %s %v %x != %s %v %x", name, ta.DType, ta.Shape, ta.Data, tb.DType, tb.Shape, tb.Data)
		}
	}
}

// The reference implementation's own serialization test vectors
// (safetensors/src/tensor.rs: test_serialization, test_empty,
// test_serialization_forced_alignement).
func TestReferenceVectors(t *testing.T) {
	data := le32(0, 1, 2, 3, 4, 5)
	tests := []struct {
		name string
		f    File
		want []byte
	}{
		{"attn.0", File{Tensors: map[string]Tensor{"attn.0": {F32, []int{1, 2, 3}, data}}},
			raw(`{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`, data)},
		{"aligned", File{Tensors: map[string]Tensor{"attn0": {F32, []int{1, 1, 2, 3}, data}}},
			raw(`{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       `, data)},
		{"empty", File{}, raw("{}      ", nil)},
		{"empty+metadata", File{Metadata: map[string]string{"framework": "pt"}},
			raw(`{"__metadata__":{"framework":"pt"}}     `, nil)},
	}
	for _, tc := range tests {
		got, err := Marshal(&tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !bytes.Equal(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
		back, err := Read(got)
		if err != nil {
			t.Fatalf("%s: read: %v", tc.name, err)
		}
		equalFiles(t, &tc.f, back)
	}
}

func TestRoundTrip(t *testing.T) {
	var f File
	f.Metadata = map[string]string{"format": "pt", "b": "ünï\"\n<&>\x01", "a": ""}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.AddFloat32("layer.weight", []int{2, 3}, []float32{1, 2, 3, 4, 5, float32(math.Inf(-1))}))
	must(f.AddFloat32("scalar", nil, []float32{7}))
	must(f.AddFloat32("zero", []int{3, 0}, nil))
	must(f.AddFloat64("f64", []int{2}, []float64{math.Pi, -0}))
	must(f.AddInt64("ids", []int{1, 2}, []int64{math.MinInt64, math.MaxInt64}))
	must(f.Add("h", F16, []int{2}, le16(0x3c00, 0xc000)))
	must(f.Add("bf", BF16, []int{1}, le16(0x3f80)))
	must(f.Add("m", Bool, []int{3}, []byte{1, 0, 1}))
	must(f.Add("f4", F4, []int{4}, []byte{0x12, 0x34}))
	must(f.Add("c", C64, []int{1}, le32(1, -1)))
	must(f.Add("", U8, []int{1}, []byte{9}))

	b, err := Marshal(&f)
	if err != nil {
		t.Fatal(err)
	}
	if n := binary.LittleEndian.Uint64(b); n%8 != 0 {
		t.Errorf("header size %d is not a multiple of 8", n)
	}
	g, err := Read(b)
	if err != nil {
		t.Fatal(err)
	}
	equalFiles(t, &f, g)
	b2, err := Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2) {
		t.Error("re-writing a read file changed its bytes")
	}
	wantOrder := []string{"ids", "f64", "c", "layer.weight", "scalar", "zero", "bf", "h", "", "f4", "m"}
	if got := g.Names(); !slices.Equal(got, wantOrder) {
		t.Errorf("Names() = %q, want %q", got, wantOrder)
	}
	if err := f.AddInt64("ids", []int{1}, []int64{1}); err == nil {
		t.Error("Add of a name already present succeeded")
	}
}

func TestFloat16(t *testing.T) {
	tests := []struct {
		bits uint16
		want float32
	}{
		{0x0000, 0}, {0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0xfbff, -65504},
		{0x0400, 1.0 / (1 << 14)}, {0x0001, 1.0 / (1 << 24)}, {0x83ff, -1023.0 / (1 << 24)},
		{0x3555, 0.333251953125}, {0x7c00, float32(math.Inf(1))}, {0xfc00, float32(math.Inf(-1))},
	}
	for _, tc := range tests {
		if got := Float16ToFloat32(tc.bits); got != tc.want {
			t.Errorf("Float16ToFloat32(%#04x) = %g, want %g", tc.bits, got, tc.want)
		}
	}
	if got := Float16ToFloat32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("-0 became %g", got)
	}
	if got := Float16ToFloat32(0x7e00); !math.IsNaN(float64(got)) {
		t.Errorf("NaN became %g", got)
	}
	// Every finite half converts exactly: back through float64 it is an
	// integer multiple of 2^-24 with the right magnitude ordering.
	prev := float32(-1)
	for h := uint16(0); h < 0x7c00; h++ {
		v := Float16ToFloat32(h)
		if v <= prev {
			t.Fatalf("Float16ToFloat32(%#04x) = %g is not above %g", h, v, prev)
		}
		prev = v
	}
	bf := []struct {
		bits uint16
		want float32
	}{{0x3f80, 1}, {0xc049, -3.140625}, {0x7f7f, 3.3895313892515355e38}, {0x0001, 0x1p-133}}
	for _, tc := range bf {
		if got := BFloat16ToFloat32(tc.bits); got != tc.want {
			t.Errorf("BFloat16ToFloat32(%#04x) = %g, want %g", tc.bits, got, tc.want)
		}
	}
}

func TestTypedGetters(t *testing.T) {
	var f File
	f.Add("h", F16, []int{2, 1}, le16(0x3c00, 0x0001))
	f.Add("bf", BF16, []int{1}, le16(0xc049))
	f.Add("i8", I8, []int{2}, []byte{0x80, 0x7f})
	f.Add("big", U64, []int{1}, binary.LittleEndian.AppendUint64(nil, math.MaxUint64))
	f.AddFloat64("d", []int{1}, []float64{0.1})

	v, shape, err := f.Float32("h")
	if err != nil || !slices.Equal(v, []float32{1, 0x1p-24}) || !slices.Equal(shape, []int{2, 1}) {
		t.Errorf("Float32(h) = %v %v %v", v, shape, err)
	}
	if v, _, err := f.Float32("bf"); err != nil || v[0] != -3.140625 {
		t.Errorf("Float32(bf) = %v %v", v, err)
	}
	if v, _, err := f.Float32("d"); err != nil || v[0] != float32(0.1) {
		t.Errorf("Float32(d) = %v %v", v, err)
	}
	if v, _, err := f.Float64("h"); err != nil || v[1] != 0x1p-24 {
		t.Errorf("Float64(h) = %v %v", v, err)
	}
	if v, _, err := f.Int64("i8"); err != nil || !slices.Equal(v, []int64{-128, 127}) {
		t.Errorf("Int64(i8) = %v %v", v, err)
	}
	for _, c := range []struct{ call, want string }{
		{"Int64(big)", `tensor "big": element 0 is 18446744073709551615, too large for int64`},
		{"Float32(i8)", `tensor "i8": dtype I8 cannot be read as float32`},
		{"Float64(i8)", `tensor "i8": dtype I8 cannot be read as float64`},
		{"Int64(h)", `tensor "h": dtype F16 cannot be read as int64`},
		{"Float32(nope)", `tensor "nope": not in the file`},
	} {
		var err error
		switch c.call {
		case "Int64(big)":
			_, _, err = f.Int64("big")
		case "Float32(i8)":
			_, _, err = f.Float32("i8")
		case "Float64(i8)":
			_, _, err = f.Float64("i8")
		case "Int64(h)":
			_, _, err = f.Int64("h")
		case "Float32(nope)":
			_, _, err = f.Float32("nope")
		}
		if err == nil || err.Error() != "safetensors: "+c.want {
			t.Errorf("%s: error %v, want %q", c.call, err, c.want)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name string
		f    File
		want string
	}{
		{"dtype", File{Tensors: map[string]Tensor{"a": {"F128", []int{1}, make([]byte, 16)}}}, `tensor "a": unknown dtype "F128"`},
		{"length", File{Tensors: map[string]Tensor{"a": {F32, []int{2, 2}, make([]byte, 12)}}}, `tensor "a": data holds 12 bytes but shape [2 2] of F32 needs 16`},
		{"negative", File{Tensors: map[string]Tensor{"a": {F32, []int{-1}, nil}}}, `tensor "a": shape [-1] has a negative dimension`},
		{"reserved", File{Tensors: map[string]Tensor{"__metadata__": {U8, []int{0}, nil}}}, `reserved`},
		{"utf8", File{Tensors: map[string]Tensor{"\xff": {U8, []int{0}, nil}}}, `not valid UTF-8`},
		{"meta-utf8", File{Metadata: map[string]string{"k": "\xff"}}, `metadata "k" is not valid UTF-8`},
		{"half-byte", File{Tensors: map[string]Tensor{"a": {F4, []int{3}, make([]byte, 1)}}}, `not a whole number of bytes`},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		err := Write(&buf, &tc.f)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %d bytes of an invalid file", tc.name, buf.Len())
		}
	}
}

func TestReadErrors(t *testing.T) {
	f32x4 := make([]byte, 16)
	tests := []struct {
		name   string
		in     []byte
		tensor string // tensor the error must name, if any
		want   string
	}{
		{"short", []byte{1, 2, 3}, "", "file is 3 bytes, too short"},
		{"huge header", binary.LittleEndian.AppendUint64(nil, MaxHeaderSize+1), "", "over the limit"},
		{"header past end", append(binary.LittleEndian.AppendUint64(nil, 50), "{}"...), "", "header size 50 runs past the end of the 10-byte file"},
		{"header size overflow", binary.LittleEndian.AppendUint64(nil, math.MaxUint64), "", "over the limit"},
		{"empty header", raw("", nil), "", "ends early"},
		{"utf8", raw("{\"\xff\":{}}", nil), "", "not valid UTF-8"},
		{"lone surrogate", raw(`{"a\ud800":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}`, nil), "", "unpaired UTF-16 surrogate"},
		{"lone low surrogate", raw(`{"a\udc00":{}}`, nil), "", "unpaired UTF-16 surrogate"},
		{"reversed surrogates", raw(`{"\udc00\ud800":{}}`, nil), "", "unpaired UTF-16 surrogate"},
		{"bad json", raw(`{"a":{"dtype":"F32",}}`, nil), "a", "not valid JSON"},
		{"truncated json", raw(`{"a":{"dtype":"F32"`, nil), "a", "ends early"},
		{"not object", raw(`[]`, nil), "", "not a JSON object"},
		{"trailing json", raw(`{}{}`, nil), "", "data after its JSON object"},
		{"trailing garbage", raw(`{}x`, nil), "", "not valid JSON"},
		{"duplicate tensor", raw(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, []byte{1, 2}), "a", "declared twice"},
		{"duplicate metadata", raw(`{"__metadata__":{},"__metadata__":{}}`, nil), "", `"__metadata__" twice`},
		{"duplicate metadata key", raw(`{"__metadata__":{"k":"1","k":"2"}}`, nil), "", `has "k" twice`},
		{"metadata value", raw(`{"__metadata__":{"k":1}}`, nil), "", `__metadata__ "k" is not a string`},
		{"metadata type", raw(`{"__metadata__":[]}`, nil), "", "not an object of strings"},
		{"entry type", raw(`{"a":1}`, nil), "a", "entry is not a JSON object"},
		{"unknown dtype", raw(`{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}`, f32x4), "a", `unknown dtype "F128"`},
		{"dtype type", raw(`{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, f32x4[:4]), "a", "dtype is not a string"},
		{"dtype twice", raw(`{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32x4[:4]), "a", "dtype twice"},
		{"no dtype", raw(`{"a":{"shape":[1],"data_offsets":[0,4]}}`, f32x4[:4]), "a", "has no dtype"},
		{"no shape", raw(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, f32x4[:4]), "a", "has no shape"},
		{"no offsets", raw(`{"a":{"dtype":"F32","shape":[1]}}`, f32x4[:4]), "a", "has no data_offsets"},
		{"negative dim", raw(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, f32x4[:4]), "a", "shape holds -1, not a non-negative integer"},
		{"fractional dim", raw(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, f32x4[:4]), "a", "shape holds 1.5"},
		{"exponent dim", raw(`{"a":{"dtype":"F32","shape":[1e0],"data_offsets":[0,4]}}`, f32x4[:4]), "a", "shape holds 1e0"},
		{"string dim", raw(`{"a":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}`, f32x4[:4]), "a", "not a number"},
		{"dim overflow", raw(`{"a":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,4]}}`, f32x4[:4]), "a", "not a non-negative integer"},
		{"dim too large", raw(`{"a":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,4]}}`, f32x4[:4]), "a", "too large"},
		{"elements overflow", raw(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,2],"data_offsets":[0,4]}}`, f32x4[:4]), "a", "too many elements"},
		{"bytes overflow", raw(`{"a":{"dtype":"F64","shape":[2147483648,2147483648],"data_offsets":[0,4]}}`, f32x4[:4]), "a", "too many bytes"},
		{"shape type", raw(`{"a":{"dtype":"F32","shape":1,"data_offsets":[0,4]}}`, f32x4[:4]), "a", "shape is not an array"},
		{"three offsets", raw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, f32x4[:4]), "a", "data_offsets has 3 numbers, not 2"},
		{"end before begin", raw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}`, f32x4[:4]), "a", "end before they begin"},
		{"size mismatch", raw(`{"conv1.weight":{"dtype":"F32","shape":[6,1,5,5],"data_offsets":[0,100]}}`, make([]byte, 100)), "conv1.weight",
			`data_offsets [0 100] hold 100 bytes but shape [6 1 5 5] of F32 needs 600`},
		{"half-byte", raw(`{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,1]}}`, []byte{0}), "a", "not a whole number of bytes"},
		{"truncated data", raw(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, f32x4[:8]), "a", "run past the end of the 8-byte data buffer"},
		{"not at 0", raw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32x4[:8]), "a", "the first tensor must begin at 0"},
		{"gap", raw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, f32x4[:12]), "b",
			`begin at 8 but tensor "a" ends at 4: a gap after it`},
		{"overlap", raw(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32x4[:8]), "b",
			`begin at 4 but tensor "a" ends at 8: an overlap with it`},
		{"same offsets", raw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32x4[:4]), "b", "an overlap"},
		{"buffer too long", raw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32x4[:8]), "", "tensors cover 4 bytes but the data buffer after the header holds 8"},
		{"no tensors, data", raw(`{}`, []byte{0}), "", "tensors cover 0 bytes but"},
	}
	for _, tc := range tests {
		f, err := Read(tc.in)
		if err == nil {
			t.Errorf("%s: read %d tensors, want an error", tc.name, len(f.Tensors))
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: error %T %v is not an *Error", tc.name, err, err)
			continue
		}
		if !strings.Contains(e.Msg, tc.want) || e.Tensor != tc.tensor {
			t.Errorf("%s: error %q (tensor %q), want %q (tensor %q)", tc.name, err, e.Tensor, tc.want, tc.tensor)
		}
	}
}

func TestReadAccepts(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", raw("{}", nil)},
		{"whitespace", raw(" \t\n{ } \r\n ", nil)},
		{"surrogate pair", raw(`{"\ud83d\ude00\\udc00":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}`, nil)},
		{"null metadata", raw(`{"__metadata__":null}`, nil)},
		{"unknown field", raw(`{"a":{"x":[1,{"y":2}],"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{7})},
		{"any order", raw(`{"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"c":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{7, 8})},
	}
	for _, tc := range tests {
		if _, err := Read(tc.in); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestReadFileNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "weights.safetensors")
	in := raw(`{"conv1.weight":{"dtype":"F32","shape":[6,1,5,5],"data_offsets":[0,100]}}`, make([]byte, 100))
	if err := os.WriteFile(path, in, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path)
	want := path + `: tensor "conv1.weight": data_offsets [0 100] hold 100 bytes but shape [6 1 5 5] of F32 needs 600`
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	var f File
	f.AddFloat32("a", []int{2}, []float32{1, 2})
	if err := WriteFile(path, &f); err != nil {
		t.Fatal(err)
	}
	f.AddFloat32("b", []int{1}, []float32{3})
	if err := WriteFile(path, &f); err != nil { // replaces
		t.Fatal(err)
	}
	g, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	equalFiles(t, &f, g)
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", st.Mode())
	}
	bad := File{Tensors: map[string]Tensor{"x": {F32, []int{2}, nil}}}
	err = WriteFile(path, &bad)
	if err == nil || !strings.HasPrefix(err.Error(), path+`: tensor "x": data holds 0 bytes`) {
		t.Errorf("bad file: %v", err)
	}
	if err := WriteFile(filepath.Join(dir, "no", "such", "dir"), &f); err == nil {
		t.Error("write into a missing directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the file (no temporaries)", len(entries))
	}
	if g, err := ReadFile(path); err != nil || len(g.Tensors) != 2 {
		t.Errorf("a failed write damaged the old file: %v", err)
	}
}

// Every prefix of a valid file is rejected with an error, never a panic.
func TestTruncated(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(fixtureDir, "from_python.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(b) {
		if _, err := Read(b[:n]); err == nil {
			t.Fatalf("a file truncated to %d of %d bytes read without error", n, len(b))
		}
	}
}
