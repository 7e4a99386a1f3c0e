//go:build unix

package safeio

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestOpenRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	zero := filepath.Join(dir, "zero.json")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, zero, dir, "/dev/null"} {
		done := make(chan error, 1)
		go func() { _, err := ReadFile(p, MaxJSON); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), p) {
				t.Errorf("ReadFile(%s) = %v, want ErrNotRegular naming the path", p, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("ReadFile(%s) blocked", p)
		}
	}
	// A symlink to a regular file is fine.
	real := filepath.Join(dir, "real")
	os.WriteFile(real, []byte("ok"), 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(real, link)
	if b, err := ReadFile(link, 10); err != nil || string(b) != "ok" {
		t.Errorf("ReadFile(symlink to a file) = %q, %v", b, err)
	}
}
