package data

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/shenml/shen/internal/safeio"
)

// maxIDXElems bounds the element count an IDX header may declare (4 GiB of
// uint8), so a corrupt header cannot make the reader reserve absurd memory.
const maxIDXElems = 1 << 32

// IDX is a decoded IDX file (the MNIST format): an n-dimensional array of
// unsigned bytes.
type IDX struct {
	// Dims holds the size of each dimension, outermost first.
	Dims []int
	// Data holds prod(Dims) values in row-major order.
	Data []uint8
}

// ReadIDX reads an IDX file of unsigned bytes (magic 0x00000801 for one
// dimension, 0x00000803 for three, any dimension count 1-255 accepted),
// gzip-compressed or not (detected from the content). A truncated or corrupt
// file is an error naming the file and what is wrong.
func ReadIDX(path string) (*IDX, error) {
	f, err := safeio.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	limit := int64(maxIDXElems + 4 + 4*255)
	if st, err := f.Stat(); err == nil {
		limit = min(limit, safeio.DecompressedLimit(st.Size()))
	}
	return readIDX(f, path, limit)
}

// ReadIDXFrom is ReadIDX on an open reader; name is used in messages. A
// gzip stream may decompress to at most the largest IDX file accepted.
func ReadIDXFrom(r io.Reader, name string) (*IDX, error) {
	return readIDX(r, name, maxIDXElems+4+4*255)
}

// readIDX reads an IDX stream, decompressing it (to at most limit bytes)
// when it starts with the gzip magic.
func readIDX(r io.Reader, name string, limit int64) (*IDX, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := safeio.NewGzipReader(br, name, limit)
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 1<<16)
	}
	var hdr [4]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, idxErr(name, "truncated IDX header (need 4 magic bytes)", err)
	}
	if hdr[0] != 0 || hdr[1] != 0 {
		return nil, fmt.Errorf("data: %s: not an IDX file: magic % x should start with 00 00", name, hdr)
	}
	if hdr[2] != 0x08 {
		return nil, fmt.Errorf("data: %s: IDX element type 0x%02x is not supported (only 0x08, unsigned byte)", name, hdr[2])
	}
	nd := int(hdr[3])
	if nd == 0 {
		return nil, fmt.Errorf("data: %s: IDX header declares 0 dimensions", name)
	}
	dimBytes := make([]byte, 4*nd)
	if _, err := io.ReadFull(br, dimBytes); err != nil {
		return nil, idxErr(name, fmt.Sprintf("truncated IDX header (need %d dimension sizes)", nd), err)
	}
	dims := make([]int, nd)
	total := uint64(1)
	for i := range dims {
		d := binary.BigEndian.Uint32(dimBytes[4*i:])
		dims[i] = int(d)
		total *= uint64(d)
		if total > maxIDXElems {
			return nil, fmt.Errorf("data: %s: IDX dimensions %v declare more than %d elements", name, dims[:i+1], uint64(maxIDXElems))
		}
	}
	// Grow the buffer as data arrives, so a header lying about the size of a
	// short file costs no more memory than the file itself.
	data := make([]byte, 0, min(total, 1<<20))
	for uint64(len(data)) < total {
		chunk := min(total-uint64(len(data)), 1<<20)
		data = slicesGrow(data, int(chunk))
		n, err := io.ReadFull(br, data[len(data):len(data)+int(chunk)])
		data = data[:len(data)+n]
		if err != nil {
			return nil, idxErr(name, fmt.Sprintf("truncated IDX data: header %v declares %d bytes, file has %d", dims, total, len(data)), err)
		}
	}
	if _, err := br.ReadByte(); err == nil {
		return nil, fmt.Errorf("data: %s: corrupt IDX file: extra bytes after the %d declared by header %v", name, total, dims)
	} else if err != io.EOF {
		return nil, fmt.Errorf("data: %w", err) // names the file
	}
	return &IDX{Dims: dims, Data: data}, nil
}

func slicesGrow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), max(2*cap(b), len(b)+n))
	copy(nb, b)
	return nb
}

// idxErr reports a failed read of the IDX stream name: at its end, what
// was missing; otherwise the error itself, which names the file already
// (a read error, or the gzip reader's corrupt stream or size cap).
func idxErr(name, what string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("data: %s: %s: unexpected end of file", name, what)
	}
	return fmt.Errorf("data: %w", err)
}

// LoadMNISTImages reads an IDX image file (n x rows x cols) and returns the
// pixels as float32 scaled to [0,1], row-major n x rows x cols.
func LoadMNISTImages(path string) (pix []float32, n, rows, cols int, err error) {
	m, err := ReadIDX(path)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	if len(m.Dims) != 3 {
		return nil, 0, 0, 0, fmt.Errorf("data: %s: MNIST images need 3 dimensions, file has %v", path, m.Dims)
	}
	pix = make([]float32, len(m.Data))
	for i, v := range m.Data {
		pix[i] = float32(v) / 255
	}
	return pix, m.Dims[0], m.Dims[1], m.Dims[2], nil
}

// LoadMNISTLabels reads an IDX label file (one dimension) as int64.
func LoadMNISTLabels(path string) ([]int64, error) {
	m, err := ReadIDX(path)
	if err != nil {
		return nil, err
	}
	if len(m.Dims) != 1 {
		return nil, fmt.Errorf("data: %s: MNIST labels need 1 dimension, file has %v", path, m.Dims)
	}
	out := make([]int64, len(m.Data))
	for i, v := range m.Data {
		out[i] = int64(v)
	}
	return out, nil
}

// LoadMNIST reads an image file and its label file into an ArrayDataset with
// samples of shape [1, rows, cols] (CHW) and one class label each.
func LoadMNIST(imagesPath, labelsPath string) (*ArrayDataset, error) {
	pix, n, rows, cols, err := LoadMNISTImages(imagesPath)
	if err != nil {
		return nil, err
	}
	labels, err := LoadMNISTLabels(labelsPath)
	if err != nil {
		return nil, err
	}
	if len(labels) != n {
		return nil, fmt.Errorf("data: %s has %d images but %s has %d labels", imagesPath, n, labelsPath, len(labels))
	}
	return NewArrayDataset(pix, []int{1, rows, cols}, labels)
}
