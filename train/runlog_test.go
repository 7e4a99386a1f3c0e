package train

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shenml/shen/report"
)

func TestRunLogRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	l, err := OpenRunLog(path)
	if err != nil {
		t.Fatal(err)
	}
	fixed := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	l.Now = func() time.Time { return fixed }
	in := []report.Record{
		{Epoch: 1, Step: 100, Split: report.SplitTrain, Loss: 0.9, Metrics: map[string]float64{"accuracy": 0.7}, LR: 1e-3, SamplesPerSec: 1234.5, WallSeconds: 10},
		{Epoch: 1, Step: 100, Split: report.SplitVal, Loss: 0.8, Metrics: map[string]float64{"accuracy": 0.75}, WallSeconds: 11},
		{Epoch: 2, Step: 200, Split: report.SplitTrain, Loss: math.NaN(), Metrics: map[string]float64{"accuracy": math.Inf(1)}, WallSeconds: 20},
	}
	for _, r := range in {
		if err := l.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Write(in[0]); err == nil {
		t.Error("write after close succeeded")
	}
	raw, _ := os.ReadFile(path)
	if n := strings.Count(string(raw), "\n"); n != 3 {
		t.Fatalf("%d lines:\n%s", n, raw)
	}
	if !strings.Contains(string(raw), `"loss":null`) || strings.Contains(string(raw), "NaN") {
		t.Errorf("NaN not written as null:\n%s", raw)
	}
	out, err := ReadRunLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 {
		t.Fatalf("read %d records", len(out))
	}
	if !out[0].Time.Equal(fixed) || out[0].LR != 1e-3 || out[0].SamplesPerSec != 1234.5 || out[1].Metrics["accuracy"] != 0.75 {
		t.Errorf("round trip: %+v %+v", out[0], out[1])
	}
	if !math.IsNaN(out[2].Loss) || !math.IsNaN(out[2].Metrics["accuracy"]) {
		t.Errorf("non-finite values read back as %v %v", out[2].Loss, out[2].Metrics)
	}
	if r, ok := report.LastRecord(out, report.SplitVal); !ok || r.Epoch != 1 || r.Split != report.SplitVal {
		t.Errorf("LastRecord(val) = %+v, %v", r, ok)
	}
	if r, ok := report.LastRecord(out, ""); !ok || r.Epoch != 2 {
		t.Errorf("LastRecord(\"\") = %+v", r)
	}
	if _, ok := report.LastRecord(out, report.SplitTest); ok {
		t.Error("LastRecord found a test record")
	}
}

func TestRunLogTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	good := `{"time":"2025-01-01T00:00:00Z","epoch":1,"step":10,"split":"train","loss":0.5,"wall_s":1}` + "\n"
	if err := os.WriteFile(path, []byte(good+`{"time":"2025-01-01T00:00:0`), 0o644); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadRunLog(path)
	if err != nil || len(recs) != 1 {
		t.Fatalf("read torn log: %d records, %v", len(recs), err)
	}
	// Reopening cuts the torn tail and appends after the last full line.
	l, err := OpenRunLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Write(report.Record{Epoch: 2, Step: 20, Split: report.SplitTrain, Loss: 0.4}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	recs, err = ReadRunLog(path)
	if err != nil || len(recs) != 2 || recs[1].Epoch != 2 || recs[1].Time.IsZero() {
		t.Fatalf("after resume: %+v, %v", recs, err)
	}
}

func TestDecodeRunLogErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		n       int
		wantErr string
	}{
		{"empty", "", 0, ""},
		{"blank lines", "\n\n{\"epoch\":1}\n\n", 1, ""},
		{"no trailing newline but whole", `{"epoch":1}`, 1, ""},
		{"bad middle line", "{\"epoch\":1}\nnot json\n{\"epoch\":2}\n", 1, "2: bad run log record"},
		{"bad type", "{\"epoch\":\"x\"}\n", 0, "1: bad run log record"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := DecodeRunLog(strings.NewReader(tc.in))
			if len(recs) != tc.n {
				t.Errorf("%d records, want %d", len(recs), tc.n)
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
	if _, err := ReadRunLog(filepath.Join(t.TempDir(), "missing.jsonl")); err == nil {
		t.Error("missing file read")
	}
}

func FuzzDecodeRunLog(f *testing.F) {
	f.Add([]byte(`{"epoch":1,"split":"train","loss":null,"metrics":{"a":1}}` + "\n"))
	f.Add([]byte("\n{\"epoch\""))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, _ := DecodeRunLog(strings.NewReader(string(b)))
		for _, r := range recs {
			if _, err := r.MarshalJSON(); err != nil {
				t.Fatalf("re-encode %+v: %v", r, err)
			}
		}
	})
}
