package safetensors

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The tensors of testdata/safetensors/gen.py's FIXTURE, built in Go. The
// two must stay in step.
const weirdName = "naïve \"q\" <&>\t\x1f"

func fixture(t *testing.T) *File {
	t.Helper()
	f := &File{Metadata: map[string]string{"format": "pt"}}
	le := binary.LittleEndian
	u := func(size int, vs ...uint64) []byte {
		var b []byte
		for _, v := range vs {
			switch size {
			case 1:
				b = append(b, byte(v))
			case 2:
				b = le.AppendUint16(b, uint16(v))
			case 4:
				b = le.AppendUint32(b, uint32(v))
			case 8:
				b = le.AppendUint64(b, v)
			}
		}
		return b
	}
	conv := make([]float32, 8)
	for i := range conv {
		conv[i] = (float32(i) - 3.5) * 0.25
	}
	for _, err := range []error{
		f.AddFloat32("conv1.weight", []int{2, 1, 2, 2}, conv),
		f.AddFloat32("conv1.bias", []int{2}, []float32{0.1, -0.2}),
		f.AddFloat32("empty", []int{0, 3}, nil),
		f.AddFloat64("fc.weight", []int{2, 2}, []float64{1.0 / 3, -2.5, 1e300, 5e-324}),
		f.Add("half", F16, []int{6}, u(2, 0x3c00, 0xc100, 0x7bff, 0x0400, 0x0001, 0x7c00)),
		f.Add("bhalf", BF16, []int{2, 2}, u(2, 0x3f80, 0xc049, 0x7f7f, 0x0001)),
		f.AddInt64("step", []int{}, []int64{1099511627783}),
		f.AddInt64("ids", []int{3}, []int64{-1, 0, math.MaxInt64}),
		f.Add("i32", I32, []int{2}, u(4, 0x80000000, 123)),
		f.Add("i16", I16, []int{2}, u(2, 0x8000, 7)),
		f.Add("i8", I8, []int{3}, u(1, 0x80, 0, 127)),
		f.Add("u8", U8, []int{3}, u(1, 0, 128, 255)),
		f.Add("u16", U16, []int{1}, u(2, 65535)),
		f.Add("u32", U32, []int{1}, u(4, math.MaxUint32)),
		f.Add("u64", U64, []int{1}, u(8, math.MaxUint64)),
		f.Add("mask", Bool, []int{4}, u(1, 1, 0, 0, 1)),
		f.AddFloat32(weirdName, []int{1}, []float32{42}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// TestWriteFixture checks that our writer makes byte for byte the file
// the reference layout makes (from_python.safetensors) for the same
// tensors, and keeps from_shen.safetensors, which gen.py loads and checks,
// in step. With -update it rewrites from_shen.safetensors.
func TestWriteFixture(t *testing.T) {
	got, err := Marshal(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	py, err := os.ReadFile(filepath.Join(fixtureDir, "from_python.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, py) {
		t.Errorf("our bytes differ from from_python.safetensors:\n got %q\nwant %q", got, py)
	}
	shenPath := filepath.Join(fixtureDir, "from_shen.safetensors")
	if *update {
		if err := WriteFile(shenPath, fixture(t)); err != nil {
			t.Fatal(err)
		}
	}
	shen, err := os.ReadFile(shenPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, shen) {
		t.Error("from_shen.safetensors is stale: run go test -run TestWriteFixture -update, then gen.py --check")
	}
}

// TestReadPython reads the Python-made file and checks every value.
func TestReadPython(t *testing.T) {
	f, err := ReadFile(filepath.Join(fixtureDir, "from_python.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Metadata) != 1 || f.Metadata["format"] != "pt" {
		t.Errorf("metadata %v", f.Metadata)
	}
	if len(f.Tensors) != 17 {
		t.Errorf("%d tensors, want 17", len(f.Tensors))
	}
	floats := []struct {
		name  string
		dtype DType
		shape []int
		want  []float32
	}{
		{"conv1.weight", F32, []int{2, 1, 2, 2}, []float32{-0.875, -0.625, -0.375, -0.125, 0.125, 0.375, 0.625, 0.875}},
		{"conv1.bias", F32, []int{2}, []float32{0.1, -0.2}},
		{"empty", F32, []int{0, 3}, []float32{}},
		{weirdName, F32, []int{1}, []float32{42}},
		{"half", F16, []int{6}, []float32{1, -2.5, 65504, 0x1p-14, 0x1p-24, float32(math.Inf(1))}},
		{"bhalf", BF16, []int{2, 2}, []float32{1, -3.140625, 0x1.fep127, 0x1p-133}},
	}
	for _, c := range floats {
		v, shape, err := f.Float32(c.name)
		if err != nil || f.Tensors[c.name].DType != c.dtype || !slices.Equal(shape, c.shape) || !slices.Equal(v, c.want) {
			t.Errorf("%q: %s %v %v %v, want %s %v %v", c.name, f.Tensors[c.name].DType, shape, v, err, c.dtype, c.shape, c.want)
		}
	}
	if v, shape, err := f.Float64("fc.weight"); err != nil || !slices.Equal(shape, []int{2, 2}) ||
		!slices.Equal(v, []float64{1.0 / 3, -2.5, 1e300, 5e-324}) {
		t.Errorf("fc.weight: %v %v %v", v, shape, err)
	}
	ints := []struct {
		name  string
		dtype DType
		shape []int
		want  []int64
	}{
		{"step", I64, []int{}, []int64{1099511627783}},
		{"ids", I64, []int{3}, []int64{-1, 0, math.MaxInt64}},
		{"i32", I32, []int{2}, []int64{math.MinInt32, 123}},
		{"i16", I16, []int{2}, []int64{math.MinInt16, 7}},
		{"i8", I8, []int{3}, []int64{-128, 0, 127}},
		{"u8", U8, []int{3}, []int64{0, 128, 255}},
		{"u16", U16, []int{1}, []int64{65535}},
		{"u32", U32, []int{1}, []int64{math.MaxUint32}},
		{"mask", Bool, []int{4}, []int64{1, 0, 0, 1}},
	}
	for _, c := range ints {
		v, shape, err := f.Int64(c.name)
		if err != nil || f.Tensors[c.name].DType != c.dtype || !slices.Equal(shape, c.shape) || !slices.Equal(v, c.want) {
			t.Errorf("%q: %s %v %v %v, want %s %v %v", c.name, f.Tensors[c.name].DType, shape, v, err, c.dtype, c.shape, c.want)
		}
	}
	if u := f.Tensors["u64"]; u.DType != U64 || binary.LittleEndian.Uint64(u.Data) != math.MaxUint64 {
		t.Errorf("u64: %+v", u)
	}
	// Reading and writing back gives the same bytes.
	b, err := Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	py, _ := os.ReadFile(filepath.Join(fixtureDir, "from_python.safetensors"))
	if !bytes.Equal(b, py) {
		t.Error("re-writing from_python.safetensors changed its bytes")
	}
}
