//go:build unix

package onnx

import (
	"path/filepath"
	"syscall"
	"testing"
)

// A FIFO named as a model is refused, not waited on.
func TestReadFileRefusesSpecialFiles(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "model.onnx")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	if _, err := ReadFile(fifo, Limits{}); err == nil {
		t.Fatal("a FIFO was read as a model")
	}
	if _, err := ReadTensorFile(fifo, Limits{}); err == nil {
		t.Fatal("a FIFO was read as a tensor")
	}
}
