package safetensors

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
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

// WriteFile writes f to path atomically: it writes a temporary file in
// the same directory (named as internal/safeio names its temporary files,
// ".<name>.shen-tmp-*", so safeio.CleanTemp removes one a killed write
// left), syncs it to disk, renames it over path and syncs the directory,
// so a reader sees the old file or the new one, never a part. The file
// gets mode 0644. Errors name the file.
func WriteFile(path string, f *File) (err error) {
	// Validate first so that a bad File leaves no temporary file behind.
	if _, _, err := f.encode(); err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.File = path
		}
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".shen-tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = Write(tmp, f); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// Make the rename itself durable; not every system can sync a directory.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
