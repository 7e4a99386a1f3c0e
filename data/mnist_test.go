package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadMNISTDir reads the four files by their torchvision names (here
// the tiny IDX fixture under each name), normalises and limits them.
func TestLoadMNISTDir(t *testing.T) {
	dir := t.TempDir()
	img, err := os.ReadFile(filepath.Join("..", "testdata", "data", "tiny-images-idx3-ubyte"))
	if err != nil {
		t.Fatal(err)
	}
	lab, err := os.ReadFile(filepath.Join("..", "testdata", "data", "tiny-labels-idx1-ubyte"))
	if err != nil {
		t.Fatal(err)
	}
	for _, split := range []string{"train", "t10k"} {
		os.WriteFile(filepath.Join(dir, split+"-images-idx3-ubyte"), img, 0o644)
		os.WriteFile(filepath.Join(dir, split+"-labels-idx1-ubyte"), lab, 0o644)
	}
	raw, _, err := LoadMNISTDir(dir, MNISTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	train, test, err := LoadMNISTDir(dir, MNISTOptions{Normalize: true, TestLimit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if test.Len() != 1 || train.Len() != raw.Len() {
		t.Fatalf("limits: train %d (want %d), test %d (want 1)", train.Len(), raw.Len(), test.Len())
	}
	for i, v := range raw.X {
		if want := (v - MNISTMean) / MNISTStd; train.X[i] != want {
			t.Fatalf("pixel %d normalised to %v, want %v", i, train.X[i], want)
		}
	}
	os.Remove(filepath.Join(dir, "t10k-labels-idx1-ubyte"))
	if _, _, err := LoadMNISTDir(dir, MNISTOptions{}); err == nil || !strings.Contains(err.Error(), "t10k-labels-idx1-ubyte") {
		t.Fatalf("missing file: %v, want an error naming it", err)
	}
}
