package safeio

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	for _, bad := range []string{"", ".", "..", "../x", "a/b", `a\b`, "/abs", "x\x00y", "tab\there", "\xff", strings.Repeat("n", 256)} {
		if CheckName(bad) == nil {
			t.Errorf("CheckName(%q) = nil", bad)
		}
	}
	root := t.TempDir()
	for _, good := range []string{"iris", "run-1.2", "..x", "x..", "名前", "a b"} {
		if err := CheckName(good); err != nil {
			t.Errorf("CheckName(%q) = %v", good, err)
		}
		if p := filepath.Join(root, good); filepath.Dir(p) != root {
			t.Errorf("%q joined under the root lands in %s", good, filepath.Dir(p))
		}
	}
}

func TestReadConfig(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.yaml")
	os.WriteFile(ok, []byte("name: iris\nepochs: 3\n"), 0o644)
	if b, err := ReadConfig(ok); err != nil || !strings.Contains(string(b), "iris") {
		t.Errorf("ReadConfig(ok) = %q, %v", b, err)
	}
	bomb := filepath.Join(dir, "bomb.yaml")
	os.WriteFile(bomb, []byte(billionLaughs()), 0o644)
	if _, err := ReadConfig(bomb); err == nil || !strings.Contains(err.Error(), bomb+":") || !strings.Contains(err.Error(), "alias") {
		t.Errorf("ReadConfig(bomb) = %v", err)
	}
	big := filepath.Join(dir, "big.yaml")
	f, _ := os.Create(big)
	f.Truncate(MaxConfig + 1)
	f.Close()
	if _, err := ReadConfig(big); err == nil || !strings.Contains(err.Error(), "4 MiB") {
		t.Errorf("ReadConfig(big) = %v", err)
	}
}
