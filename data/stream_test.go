package data

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCSVStream(t *testing.T) {
	// A file of 250 rows: x = i, color alternating, label = i % 3.
	path := filepath.Join(t.TempDir(), "big.csv.gz")
	var sb strings.Builder
	sb.WriteString("x,color,label\n")
	for i := range 250 {
		fmt.Fprintf(&sb, "%d,%s,%d\n", i, []string{"red", "blue"}[i%2], i%3)
	}
	writeGz(t, path, sb.String())
	sample, err := ReadCSV(path, CSVOptions{MaxRows: 50})
	if err != nil {
		t.Fatal(err)
	}
	labels, err := FitLabels(sample, "label")
	if err != nil {
		t.Fatal(err)
	}
	p := NewPipeline(OneHot("color"))
	if err := p.Fit(sample.Drop("label")); err != nil {
		t.Fatal(err)
	}
	for _, buf := range []int{0, 32, 1000} {
		s, err := NewCSVStream(path, StreamOptions{Pipeline: p, Target: "label", Labels: labels, BatchSize: 16, ShuffleBuffer: buf, Seed: 3, ChunkRows: 40})
		if err != nil {
			t.Fatal(err)
		}
		if s.Width() != 3 {
			t.Fatalf("width %d", s.Width())
		}
		epoch := func(e int) []int {
			var rows []int
			for b, err := range s.Epoch(e) {
				if err != nil {
					t.Fatal(err)
				}
				for j := 0; j < b.Size; j++ {
					i := b.Indices[j]
					x := b.X[3*j : 3*j+3]
					wantBlue := float32(i % 2)
					if x[0] != float32(i) || x[1] != wantBlue || x[2] != 1-wantBlue || b.Y[j] != int64(i%3) {
						t.Fatalf("row %d: x %v y %d", i, x, b.Y[j])
					}
					rows = append(rows, i)
				}
			}
			return rows
		}
		r0 := epoch(0)
		sorted := slices.Sorted(slices.Values(r0))
		if len(r0) != 250 || sorted[0] != 0 || sorted[249] != 249 || len(slices.Compact(sorted)) != 250 {
			t.Fatalf("buffer %d: %d rows, not each once", buf, len(r0))
		}
		if buf == 0 && !slices.IsSorted(r0) {
			t.Error("unshuffled stream out of order")
		}
		if buf > 0 {
			if slices.IsSorted(r0) {
				t.Error("shuffled stream in file order")
			}
			if !slices.Equal(r0, epoch(0)) {
				t.Error("stream shuffle not reproducible")
			}
			if slices.Equal(r0, epoch(1)) {
				t.Error("same order in two epochs")
			}
		}
		for range s.Epoch(0) {
			break
		}
	}
	// Regression target without a pipeline.
	s, err := NewCSVStream(path, StreamOptions{Features: []string{"x"}, Target: "label", BatchSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for b, err := range s.Epoch(0) {
		if err != nil {
			t.Fatal(err)
		}
		if b.YFloat[1] != float32(b.Indices[1]%3) || b.YFloatShape[0] != b.Size {
			t.Fatalf("yfloat %v", b.YFloat[:3])
		}
		n += b.Size
	}
	if n != 250 {
		t.Errorf("%d rows", n)
	}
}

func TestCSVStreamErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.csv")
	os.WriteFile(path, []byte("x,y\n1,0\n2,zz\n"), 0o644)
	s, _ := NewCSVStream(path, StreamOptions{Features: []string{"x", "y"}, BatchSize: 4})
	var got error
	for _, err := range s.Epoch(0) {
		got = err
	}
	if got == nil || !strings.Contains(got.Error(), `s.csv:3:2: column "y": cannot parse "zz"`) {
		t.Errorf("err = %v", got)
	}
	s, _ = NewCSVStream(path, StreamOptions{Features: []string{"q"}, BatchSize: 4})
	for _, err := range s.Epoch(0) {
		got = err
	}
	if got == nil || !strings.Contains(got.Error(), `no column "q"`) {
		t.Errorf("err = %v", got)
	}
	if _, err := NewCSVStream(path, StreamOptions{BatchSize: 4}); err == nil {
		t.Error("no features accepted")
	}
}

func writeGz(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := gzipWriter(f)
	zw.Write([]byte(s))
	zw.Close()
}
