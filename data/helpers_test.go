package data

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

// td returns the path of a file under testdata/data.
func td(name string) string { return filepath.Join("..", "testdata", "data", name) }

// shared returns a path under ../shared/data relative to the repo root, or
// skips the test when it is absent.
func shared(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "shared", "data", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data %s not found (%v); it lives in ../shared/data next to the repo", rel, err)
	}
	return p
}

func near(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= tol*(1+math.Abs(b))
}

func nums(t *testing.T, f *Frame, name string) []float64 {
	t.Helper()
	c := f.Col(name)
	if c == nil || c.Type != Numeric {
		t.Fatalf("column %q missing or not numeric in %v", name, f.Names())
	}
	return c.Num
}

func cats(t *testing.T, f *Frame, name string) []string {
	t.Helper()
	c := f.Col(name)
	if c == nil || c.Type != Categorical {
		t.Fatalf("column %q missing or not categorical in %v", name, f.Names())
	}
	return c.Cat
}

func eqF(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !near(a[i], b[i], 1e-12) {
			return false
		}
	}
	return true
}

var nan = math.NaN()
