package safetensors

import (
	"encoding/binary"
	"errors"
	"io"

	"github.com/shenml/shen/internal/safeio"
)

// Write validates f and writes it to w in the safetensors format: the
// header size, the JSON header padded with spaces to a multiple of 8
// bytes, then each tensor's bytes, with tensors ordered by descending
// dtype alignment and then by name as the reference writer orders them.
// Nothing is written if f is invalid. It copies no tensor data.
func Write(w io.Writer, f *File) error {
	header, names, err := f.encode()
	if err != nil {
		return err
	}
	head := make([]byte, 8, 8+len(header))
	binary.LittleEndian.PutUint64(head, uint64(len(header)))
	if _, err := w.Write(append(head, header...)); err != nil {
		return err
	}
	for _, name := range names {
		if _, err := w.Write(f.Tensors[name].Data); err != nil {
			return err
		}
	}
	return nil
}

// WriteFile writes f to path atomically (safeio.Create): it writes a
// temporary file in the same directory, syncs it to disk, renames it over
// path and syncs the directory, so a reader sees the old file or the new
// one, never a part, and a killed write leaves a temporary file that
// safeio.CleanTemp recognises. The file gets mode 0644. Errors name the
// file.
func WriteFile(path string, f *File) error {
	// Validate first so that a bad File leaves no temporary file behind.
	if _, _, err := f.encode(); err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.File = path
		}
		return err
	}
	tmp, err := safeio.Create(path, 0o644)
	if err != nil {
		return err
	}
	defer tmp.Abort()
	if err := Write(tmp, f); err != nil {
		return err
	}
	return tmp.Commit()
}
