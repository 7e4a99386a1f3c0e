package data

import (
	"bytes"
	"fmt"
	"testing"
)

// benchCSV returns a CSV of n rows: eight numeric columns (one with gaps)
// and two categorical ones, like a typical tabular training file.
func benchCSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("a,b,c,d,e,f,g,h,city,kind\n")
	cities := []string{"Paris", "Lima", "Oslo", "Kyoto", "Accra"}
	for i := 0; i < n; i++ {
		h := fmt.Sprint(i % 97)
		if i%13 == 0 {
			h = ""
		}
		fmt.Fprintf(&b, "%d,%.3f,%.4f,%d,%.2f,%.5f,%d,%s,%s,k%d\n",
			i, float64(i)*0.37, float64(i%101)/7, i%17, float64(i%1000)*1.5, float64(i)/3.0, i%2, h, cities[i%5], i%3)
	}
	return b.Bytes()
}

// BenchmarkReadCSV parses 50k rows with type inference.
func BenchmarkReadCSV(b *testing.B) {
	src := benchCSV(50000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadCSVFrom(bytes.NewReader(src), "bench.csv", CSVOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(50000*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkPipelineTransform applies a fitted impute + standardise +
// one-hot pipeline to 50k rows, the work done per epoch of a streamed CSV
// and per batch of requests at serving time.
func BenchmarkPipelineTransform(b *testing.B) {
	f, err := ReadCSVFrom(bytes.NewReader(benchCSV(50000)), "bench.csv", CSVOptions{})
	if err != nil {
		b.Fatal(err)
	}
	p := NewPipeline(Impute(Median), Standardize(), OneHot())
	if err := p.Fit(f); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := p.Transform(f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(50000*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkReadJSONL parses 50k JSON Lines records of three fields (a
// number, a category, a decimal) with type inference.
func BenchmarkReadJSONL(b *testing.B) {
	var src bytes.Buffer
	for i := range 50000 {
		fmt.Fprintf(&src, "{\"a\":%d,\"b\":\"k%d\",\"c\":%.2f}\n", i, i%7, float64(i)/3)
	}
	b.SetBytes(int64(src.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadJSONLFrom(bytes.NewReader(src.Bytes()), "bench.jsonl", CSVOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(50000*b.N)/b.Elapsed().Seconds(), "rows/s")
}
