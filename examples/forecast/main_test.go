package main

import (
	"os"
	"testing"
)

// TestForecastBeatsNaive trains briefly with truncated BPTT (the state
// carried across chunks by Detach while each chunk's graph is freed) and
// requires the forecast to beat the naive one on the held-out weeks.
func TestForecastBeatsNaive(t *testing.T) {
	path := findData()
	if _, err := os.Stat(path); err != nil {
		t.Skip("CO2 series not found at " + path)
	}
	epochs := 10
	if testing.Short() {
		epochs = 3
	}
	r, err := Run(Config{Path: path, Epochs: epochs, Chunk: 52, Hidden: 32, LR: 3e-3, Seed: 1, TestFraction: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("test RMSE %.3f ppm, naive %.3f ppm", r.RMSE, r.NaiveRMSE)
	if r.RMSE >= r.NaiveRMSE {
		t.Fatalf("forecast RMSE %.3f does not beat the naive %.3f", r.RMSE, r.NaiveRMSE)
	}
}
