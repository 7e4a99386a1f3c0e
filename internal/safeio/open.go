package safeio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrNotRegular is wrapped by the errors Open returns for a path that is
// not a regular file (a FIFO, socket, device or folder).
var ErrNotRegular = errors.New("not a regular file")

// Open opens path for reading when it is a regular file (after following
// symlinks) and refuses anything else with an error wrapping ErrNotRegular
// that names the path and what it is. The file is opened non-blocking, so
// a FIFO swapped in between the check and the open cannot hang the
// caller, and checked again on the open descriptor.
func Open(path string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, notRegular(path, st.Mode())
	}
	f, err := os.OpenFile(path, os.O_RDONLY|nonBlock, 0)
	if err != nil {
		return nil, err
	}
	st2, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st2.Mode().IsRegular() || !os.SameFile(st, st2) {
		f.Close()
		return nil, notRegular(path, st2.Mode())
	}
	return f, nil
}

func notRegular(path string, m fs.FileMode) error {
	what := "a special file"
	switch {
	case m.IsDir():
		what = "a folder"
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeCharDevice != 0:
		what = "a character device"
	case m&fs.ModeDevice != 0:
		what = "a device"
	}
	return &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w: it is %s", ErrNotRegular, what)}
}

// LimitError says that a file holds, or decompresses to, more than a cap.
type LimitError struct {
	Path  string // the file
	Limit int64  // the cap in bytes
	What  string // "is" or "decompresses to"
	Hint  string // how to raise the cap, when the caller knows
}

func (e *LimitError) Error() string {
	s := fmt.Sprintf("%s %s more than %s, the limit for this file", e.Path, e.What, FormatBytes(e.Limit))
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// FormatBytes writes n as the largest whole binary unit (64 MiB) or bytes.
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Caps of the files Shen reads whole. JSON is decoded into memory at
// several times its size, so these stay far below what the machine has.
const (
	// MaxJSON caps model.json, profile.json, pipeline and vocabulary files.
	MaxJSON = 64 << 20
	// MaxConfig caps a YAML config or study file.
	MaxConfig = 4 << 20
)

// ReadFile reads the regular file at path whole, failing with a
// *LimitError (naming the file and the cap) when it holds more than limit
// bytes. Memory is bounded by the smaller of the file's size and limit.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := int64(512)
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		size = st.Size()
	}
	if size > limit {
		return nil, &LimitError{Path: path, Limit: limit, What: "is"}
	}
	b := make([]byte, 0, size+1)
	for {
		if int64(len(b)) > limit {
			return nil, &LimitError{Path: path, Limit: limit, What: "is"}
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // the file grew since Stat
		}
		n, err := f.Read(b[len(b):min(int64(cap(b)), limit+1)])
		b = b[:len(b)+n]
		if err == io.EOF {
			if int64(len(b)) > limit {
				return nil, &LimitError{Path: path, Limit: limit, What: "is"}
			}
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
