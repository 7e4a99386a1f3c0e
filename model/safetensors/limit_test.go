package safetensors

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadFileLimit: a file larger than the caller's cap is refused before
// it is read, and special files are refused by ReadFile (a link to
// /dev/zero used to be read until memory ran out).
func TestReadFileLimit(t *testing.T) {
	dir := t.TempDir()
	var f File
	if err := f.AddFloat32("w", []int{4}, []float32{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "w.safetensors")
	if err := WriteFile(p, &f); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if _, err := ReadFileLimit(p, st.Size()); err != nil {
		t.Errorf("at the cap: %v", err)
	}
	if _, err := ReadFileLimit(p, st.Size()-1); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("over the cap: %v", err)
	}
	// A killed write's temporary file is one safeio.CleanTemp recognises.
	if !safeioTempName("." + filepath.Base(p) + ".shen-tmp-123") {
		t.Error("temporary name pattern drifted from safeio's")
	}
	zero := filepath.Join(dir, "zero.safetensors")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Skip(err)
	}
	if _, err := ReadFile(zero); !errors.Is(err, ErrNotRegular) {
		t.Errorf("/dev/zero: %v", err)
	}
}

// safeioTempName mirrors safeio.IsTemp (this package may not import it).
func safeioTempName(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, ".shen-tmp-")
}
