package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shenml/shen/internal/kernel"
)

// TestPredictPrecision predicts with --precision bf16 on the quickstart's
// artifact (one all-zero digit as pixel columns) and refuses an unknown
// precision.
func TestPredictPrecision(t *testing.T) {
	dir := t.TempDir()
	if out, err := run(t, "quickstart", "--dir", dir); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	md := filepath.Join(dir, "model")
	cols := make([]string, 64)
	for i := range cols {
		cols[i] = fmt.Sprintf("c%d", i)
	}
	csv := filepath.Join(dir, "rows.csv")
	if err := os.WriteFile(csv, []byte(strings.Join(cols, ",")+"\n"+strings.Repeat("0,", 63)+"0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "predict", "--model", md, "--input", csv, "--precision", "bf16")
	if err != nil || !strings.Contains(out, "prediction,p_0,p_1") {
		t.Errorf("predict --precision bf16: %v\n%s", err, out)
	}
	if emulated := strings.Contains(out, "bf16 is emulated on this CPU"); emulated == kernel.HasBF16() {
		t.Errorf("predict --precision bf16 on a CPU with bf16 units %v: emulation note %v\n%s", kernel.HasBF16(), emulated, out)
	}
	_, err = run(t, "predict", "--model", md, "--input", csv, "--precision", "fp16")
	if err == nil || !strings.Contains(err.Error(), `--precision: precision "fp16": want fp32 or bf16`) {
		t.Errorf("predict --precision fp16: error %v", err)
	}
}
