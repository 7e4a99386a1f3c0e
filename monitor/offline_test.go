package monitor

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shenml/shen/model"
)

// TestReportAgainstArtifact reads an artifact folder's model.json and
// profile.json as the reference and renders every output.
func TestReportAgainstArtifact(t *testing.T) {
	spec, prof := testArtifact()
	dir := t.TempDir()
	b, _ := json.Marshal(spec)
	if err := os.WriteFile(filepath.Join(dir, model.SpecFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := prof.Save(filepath.Join(dir, model.ProfileFile)); err != nil {
		t.Fatal(err)
	}
	ref, err := LoadReference(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ref.Features(), ","); got != "x1,x2,x3,cat" {
		t.Errorf("features %s", got)
	}
	recs := traffic{missing: 0.5}.rows(rand.New(rand.NewPCG(2, 2)), 400)
	rep := &Report{Reference: dir, Current: "traffic", Drift: ref.CompareRecords(recs, DefaultConfig().Drift)}
	var table, page, js strings.Builder
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "MISSING") || strings.Count(page.String(), "<svg") != 4 || !json.Valid([]byte(js.String())) {
		t.Errorf("table:\n%s\npage has %d charts", table.String(), strings.Count(page.String(), "<svg"))
	}
	if _, err := LoadReference(filepath.Join(dir, model.ProfileFile)); err != nil {
		t.Errorf("profile.json as reference: %v", err)
	}
	if _, err := LoadReference(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a model artifact") {
		t.Errorf("empty folder: %v", err)
	}
}

// FuzzReadPredictionLog reads arbitrary prediction log files: an error
// naming the line, or records, never a panic.
func FuzzReadPredictionLog(f *testing.F) {
	f.Add(`{"time":"2026-12-06T08:00:00Z","model":"toy","version":"1","rows":1,"records":[{"x1":1.5,"cat":"a"}],"latency_ms":1}` + "\n")
	f.Add(`{"model":"toy","rows":2,"records":[{"x1":null},{}]}` + "\n\n" + `{"model":"toy","rows":1,"inputs":[1,2]}`)
	f.Add(`{"model":"toy","records":[` + "\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, s string) {
		p := filepath.Join(dir, "log.jsonl")
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		recs, err := ReadCurrent(p)
		if err == nil {
			for _, r := range recs {
				_ = r["x1"]
			}
		} else if !strings.Contains(err.Error(), "log.jsonl") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}
