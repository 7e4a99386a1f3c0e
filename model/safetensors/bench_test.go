package safetensors

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// benchFile is a 4 MiB model-like file: 64 F32 tensors of 16 Ki elements.
func benchFile(b *testing.B) (*File, []byte) {
	var f File
	data := make([]float32, 16<<10)
	for i := range 64 {
		if err := f.AddFloat32(fmt.Sprintf("layer%d.weight", i), []int{128, 128}, data); err != nil {
			b.Fatal(err)
		}
	}
	raw, err := Marshal(&f)
	if err != nil {
		b.Fatal(err)
	}
	return &f, raw
}

func BenchmarkRead(b *testing.B) {
	_, raw := benchFile(b)
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := Read(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWrite(b *testing.B) {
	f, raw := benchFile(b)
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if err := Write(io.Discard, f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFloat32BF16(b *testing.B) {
	var f File
	if err := f.Add("w", BF16, []int{1 << 20}, bytes.Repeat([]byte{0x80, 0x3f}, 1<<20)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(2 << 20)
	for b.Loop() {
		if _, _, err := f.Float32("w"); err != nil {
			b.Fatal(err)
		}
	}
}
