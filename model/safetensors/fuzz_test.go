package safetensors

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead checks that Read never panics, and that whatever it accepts
// writes back to a file that reads to the same content and rewrites to
// the same bytes.
func FuzzRead(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join(fixtureDir, "from_python.safetensors")); err == nil {
		f.Add(b)
	}
	f.Add(raw("{}", nil))
	f.Add(raw(`{"__metadata__":{"a":"b"},"x":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, []byte{0, 60, 0, 188}))
	f.Add(raw(`{"a":{"dtype":"F4","shape":[2,3],"data_offsets":[0,3]},"b":{"dtype":"U8","shape":[],"data_offsets":[3,4]}}`, []byte{1, 2, 3, 4}))
	f.Add(raw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{}}`, []byte{0, 0, 0, 0}))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := Read(in)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not an *Error: %v", err, err)
			}
			return
		}
		out, err := Marshal(got)
		if err != nil {
			t.Fatalf("writing a file that read: %v", err)
		}
		again, err := Read(out)
		if err != nil {
			t.Fatalf("reading our own output: %v", err)
		}
		equalFiles(t, got, again)
		out2, err := Marshal(again)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("second write differs: %v", err)
		}
	})
}
