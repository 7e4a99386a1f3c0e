package data

import (
	"bytes"
	"compress/gzip"
	"os"
	"strings"
	"testing"
)

func TestReadIDX(t *testing.T) {
	for _, name := range []string{"tiny-images-idx3-ubyte", "tiny-images-idx3-ubyte.gz"} {
		m, err := ReadIDX(td(name))
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Dims) != 3 || m.Dims[0] != 3 || m.Dims[1] != 2 || m.Dims[2] != 2 {
			t.Fatalf("%s dims = %v", name, m.Dims)
		}
		if m.Data[1] != 255 || m.Data[11] != 0 || len(m.Data) != 12 {
			t.Fatalf("%s data = %v", name, m.Data)
		}
	}
	pix, n, r, c, err := LoadMNISTImages(td("tiny-images-idx3-ubyte.gz"))
	if err != nil || n != 3 || r != 2 || c != 2 || pix[1] != 1 || pix[2] != 128.0/255 {
		t.Fatalf("images: %v %d %d %d %v", err, n, r, c, pix)
	}
	labels, err := LoadMNISTLabels(td("tiny-labels-idx1-ubyte"))
	if err != nil || len(labels) != 3 || labels[0] != 7 || labels[2] != 9 {
		t.Fatalf("labels: %v %v", err, labels)
	}
	ds, err := LoadMNIST(td("tiny-images-idx3-ubyte"), td("tiny-labels-idx1-ubyte"))
	if err != nil || ds.Len() != 3 || len(ds.Spec().XShape) != 3 {
		t.Fatalf("dataset: %v %+v", err, ds)
	}
	if _, _, _, _, err := LoadMNISTImages(td("tiny-labels-idx1-ubyte")); err == nil || !strings.Contains(err.Error(), "need 3 dimensions") {
		t.Errorf("labels as images: %v", err)
	}
}

func TestReadIDXErrors(t *testing.T) {
	good, err := os.ReadFile(td("tiny-images-idx3-ubyte"))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(good[:20])
	zw.Close()
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "truncated IDX header (need 4 magic bytes)"},
		{"bad magic", []byte{1, 2, 8, 1, 0, 0, 0, 0}, "not an IDX file"},
		{"float type", []byte{0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0}, "element type 0x0d is not supported"},
		{"zero dims", []byte{0, 0, 8, 0}, "declares 0 dimensions"},
		{"short dims", good[:10], "need 3 dimension sizes"},
		{"truncated data", good[:20], "truncated IDX data: header [3 2 2] declares 12 bytes, file has 4"},
		{"truncated gzip data", gz.Bytes(), "truncated IDX data"},
		{"extra bytes", append(append([]byte{}, good...), 1), "extra bytes"},
		{"huge", []byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2}, "declare more than"},
		{"bad gzip", []byte{0x1f, 0x8b, 0, 0}, "gzip"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadIDXFrom(bytes.NewReader(tc.in), "x.idx")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "x.idx") {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestMNISTFull(t *testing.T) {
	if testing.Short() {
		t.Skip("full MNIST skipped in -short mode")
	}
	img := shared(t, "mnist/t10k-images-idx3-ubyte.gz")
	lab := shared(t, "mnist/t10k-labels-idx1-ubyte.gz")
	ds, err := LoadMNIST(img, lab)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 10000 || ds.XShape[1] != 28 || ds.XShape[2] != 28 {
		t.Fatalf("len %d shape %v", ds.Len(), ds.XShape)
	}
	var counts [10]int
	for _, y := range ds.Y {
		counts[y]++
	}
	// Known class counts of the MNIST test set.
	want := [10]int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}
	if counts != want {
		t.Errorf("label counts %v, want %v", counts, want)
	}
	var mx float32
	for _, v := range ds.X {
		mx = max(mx, v)
	}
	if mx != 1 {
		t.Errorf("max pixel %v, want 1", mx)
	}
}
