package safeio

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Decompression caps. A gzip stream compresses real data sets 3 to 20
// times; a bomb compresses up to about 1000 times. The default cap of a
// compressed file is therefore MaxRatio times its size, and never less
// than MinDecompressed so that small files of very repetitive data read.
const (
	MaxRatio        = 100
	MinDecompressed = 64 << 20
)

// DecompressedLimit is the default cap on what a compressed file of
// compressed bytes may decompress to: max(MinDecompressed, MaxRatio ×
// compressed).
func DecompressedLimit(compressed int64) int64 {
	if compressed > (1<<62)/MaxRatio {
		return 1 << 62
	}
	return max(MinDecompressed, MaxRatio*compressed)
}

// IsGzip reports whether path names a gzip file by its extension.
func IsGzip(path string) bool { return strings.HasSuffix(strings.ToLower(path), ".gz") }

// NewGzipReader decompresses r, failing with a *LimitError naming name
// once more than limit bytes have come out; a corrupt stream is an error
// naming name too. Close releases the decompressor, not r.
func NewGzipReader(r io.Reader, name string, limit int64) (io.ReadCloser, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%s: not a valid gzip file: %w", name, err)
	}
	return &limitedGzip{zr: zr, name: name, left: limit, limit: limit}, nil
}

type limitedGzip struct {
	zr    *gzip.Reader
	name  string
	left  int64
	limit int64
}

func (l *limitedGzip) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, l.tooBig()
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.zr.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n - int(-l.left), l.tooBig()
	}
	if err != nil && err != io.EOF {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return n, fmt.Errorf("%s: gzip stream is truncated: %w", l.name, err)
		}
		return n, fmt.Errorf("%s: corrupt gzip stream: %w", l.name, err)
	}
	return n, err
}

func (l *limitedGzip) tooBig() error {
	return &LimitError{Path: l.name, Limit: l.limit, What: "decompresses to",
		Hint: fmt.Sprintf("over %d times its compressed size: a gzip bomb, or data to decompress before use", MaxRatio)}
}

func (l *limitedGzip) Close() error { return l.zr.Close() }

// OpenData opens the regular file at path for streaming, decompressing it
// when its name ends in .gz. limit caps the decompressed bytes (0: the
// default, DecompressedLimit of the file's size); plain files are read as
// they are, their size being what they hold. Closing the result closes
// the file.
func OpenData(path string, limit int64) (io.ReadCloser, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	if !IsGzip(path) {
		return f, nil
	}
	if limit <= 0 {
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		limit = DecompressedLimit(st.Size())
	}
	zr, err := NewGzipReader(bufio.NewReaderSize(f, 64<<10), path, limit)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &gzipFile{ReadCloser: zr, f: f}, nil
}

type gzipFile struct {
	io.ReadCloser
	f *os.File
}

func (g *gzipFile) Close() error {
	g.ReadCloser.Close()
	return g.f.Close()
}
