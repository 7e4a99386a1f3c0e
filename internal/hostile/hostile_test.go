package hostile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestOutFolderMadeByTheHarness: a case's Out folder exists when Make runs
// (so Make can plant a link in it), and Run writing into it, or a Make
// that also makes it, is no change outside it.
func TestOutFolderMadeByTheHarness(t *testing.T) {
	cases := []Case{
		{Name: "Make finds Out, Run writes into it", Out: "out", Culprit: []string{"p.csv"},
			Make: func(t testing.TB, dir string) {
				if fi, err := os.Stat(filepath.Join(dir, "out")); err != nil || !fi.IsDir() {
					t.Fatalf("Out folder before Make: %v", err)
				}
			},
			Run: func(dir string) error {
				if err := os.WriteFile(filepath.Join(dir, "out", "p.csv"), []byte("x\n"), 0o644); err != nil {
					return err
				}
				return errors.New("bad p.csv")
			}},
		{Name: "Make makes Out too", Out: "out/deeper", Succeeds: true,
			Make: func(t testing.TB, dir string) {
				if err := os.MkdirAll(filepath.Join(dir, "out", "deeper"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			Run: func(dir string) error {
				return os.WriteFile(filepath.Join(dir, "out", "deeper", "f"), nil, 0o644)
			}},
		{Name: "no Out, nothing made", Succeeds: true,
			Make: func(t testing.TB, dir string) {
				if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
					t.Fatalf("dir holds %v (%v) before Make", ents, err)
				}
			},
			Run: func(string) error { return nil }},
	}
	if res := Check(t, cases, 64<<20); res.Cases != len(cases) {
		t.Errorf("%d cases run, want %d", res.Cases, len(cases))
	}
}
