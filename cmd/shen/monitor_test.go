package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shenml/shen/monitor"
)

// writeDriftCSV writes n rows of x1 ~ N(shift, 1), x2 ~ U(0, 10) and cat in
// a/b/c (newCat: share replaced by "z").
func writeDriftCSV(t *testing.T, path string, n int, shift, newCat float64) {
	rng := rand.New(rand.NewPCG(uint64(n), uint64(shift*10)))
	var b strings.Builder
	b.WriteString("x1,x2,cat\n")
	for range n {
		cat := []string{"a", "a", "b", "c"}[rng.IntN(4)]
		if rng.Float64() < newCat {
			cat = "z"
		}
		fmt.Fprintf(&b, "%.4f,%.4f,%s\n", rng.NormFloat64()+shift, rng.Float64()*10, cat)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMonitorReport(t *testing.T) {
	dir := t.TempDir()
	ref, same, shifted := filepath.Join(dir, "ref.csv"), filepath.Join(dir, "same.csv"), filepath.Join(dir, "shifted.csv")
	writeDriftCSV(t, ref, 3000, 0, 0)
	writeDriftCSV(t, same, 300, 0, 0)
	writeDriftCSV(t, shifted, 300, 1, 0.3)

	out, err := run(t, "monitor", "report", "--reference", ref, "--current", same)
	if err != nil || !strings.Contains(out, "0 of 3 features drifted (0%): no dataset drift") {
		t.Errorf("same distribution: %v\n%s", err, out)
	}
	page := filepath.Join(dir, "report.html")
	out, err = run(t, "monitor", "report", "--reference", ref, "--current", shifted, "--json", "--html", page)
	if err != nil {
		t.Fatal(err, out)
	}
	var rep monitor.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	got := map[string]bool{}
	for _, f := range rep.Drift.Features {
		got[f.Feature] = f.Any()
	}
	if !got["x1"] || got["x2"] || !got["cat"] || !rep.Drift.Dataset.Dataset {
		t.Errorf("shifted x1 and new category: %+v", rep.Drift)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "2 of 3 features drifted", "x1", "(unseen)"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(string(html), "http://") && !strings.Contains(string(html), `xmlns="http://www.w3.org/2000/svg"`) {
		t.Error("HTML refers to an outside resource")
	}

	// A prediction log as the current data.
	logPath := filepath.Join(dir, "pred.jsonl")
	l, err := monitor.OpenPredictionLog(monitor.LogConfig{Path: logPath, MaxBytes: 4096, MaxFiles: 100, SampleRate: 1})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 100 {
		recs := []map[string]any{{"x1": rng.NormFloat64() + 2, "x2": rng.Float64() * 10, "cat": "a"}}
		if err := l.Write("toy", "1", time.Now(), monitor.Observation{RequestID: fmt.Sprint(i), Rows: 1, Records: recs}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if rotated, _ := filepath.Glob(logPath + ".*"); len(rotated) == 0 {
		t.Fatal("the log did not rotate")
	}
	out, err = run(t, "monitor", "report", "--reference", ref, "--current", logPath)
	if err != nil || !strings.Contains(out, "(100 rows)") || !strings.Contains(out, "DATASET DRIFT") {
		t.Errorf("prediction log: %v\n%s", err, out)
	}

	for _, bad := range [][]string{
		{"monitor", "report", "--current", same},
		{"monitor", "report", "--reference", "/nope.csv", "--current", same},
		{"monitor", "report", "--reference", ref, "--current", "/nope.csv"},
		{"monitor", "report", "--reference", dir, "--current", same},
		{"monitor"},
	} {
		if _, err := run(t, bad...); err == nil {
			t.Errorf("shen %s: no error", strings.Join(bad, " "))
		}
	}
}
