package data

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"strconv"
	"strings"
)

// StreamOptions controls a CSVStream.
type StreamOptions struct {
	// CSV gives the file layout: Comma, Comment, NoHeader, SkipLines, Names,
	// Missing, BadValues and LazyQuotes apply. Type inference does not: the
	// types come from Pipeline, or the features are numeric.
	CSV CSVOptions
	// Pipeline, when set, must be fitted (on a sample read with ReadCSV and
	// MaxRows); it turns each chunk of rows into features.
	Pipeline *Pipeline
	// Features names numeric feature columns when Pipeline is nil.
	Features []string
	// Target names the label column ("" for none).
	Target string
	// Labels encodes a class target into Batch.Y; when nil the target is
	// numeric and goes into Batch.YFloat.
	Labels *LabelEncoder
	// BatchSize is the number of rows per batch (required).
	BatchSize int
	// ShuffleBuffer is the number of rows held to shuffle within; 0 keeps
	// file order. Memory is ShuffleBuffer rows of features.
	ShuffleBuffer int
	// Seed seeds the shuffle; epoch e uses (Seed, e).
	Seed uint64
	// ChunkRows is the number of rows parsed and transformed at once
	// (default 1024).
	ChunkRows int
	// DropLast drops a final short batch.
	DropLast bool
}

// CSVStream batches a delimited file too large for memory: each epoch reads
// the file line by line, transforms rows in chunks, and shuffles within a
// bounded buffer. Batches are reused; per chunk, parsing and the pipeline
// allocate.
type CSVStream struct {
	path  string
	opts  StreamOptions
	width int
	batch *Batch
}

// NewCSVStream checks the options; the file is opened by each epoch.
func NewCSVStream(path string, opts StreamOptions) (*CSVStream, error) {
	if opts.BatchSize <= 0 {
		return nil, errors.New("data: CSVStream needs BatchSize > 0")
	}
	if opts.ShuffleBuffer < 0 {
		return nil, errors.New("data: CSVStream ShuffleBuffer must be >= 0")
	}
	if opts.ChunkRows <= 0 {
		opts.ChunkRows = 1024
	}
	s := &CSVStream{path: path, opts: opts}
	if opts.Pipeline != nil {
		if !opts.Pipeline.Fitted() {
			return nil, errors.New("data: CSVStream pipeline is not fitted")
		}
		s.width = opts.Pipeline.Width()
	} else {
		if len(opts.Features) == 0 {
			return nil, errors.New("data: CSVStream needs a Pipeline or Features")
		}
		s.width = len(opts.Features)
	}
	if s.width == 0 {
		return nil, errors.New("data: CSVStream has no features")
	}
	spec := Spec{XShape: []int{s.width}}
	if opts.Target != "" {
		if opts.Labels != nil {
			spec.YLen = 1
		} else {
			spec.YFloatLen = 1
		}
	}
	s.batch = newBatch(spec, opts.BatchSize)
	return s, nil
}

// Width returns the number of features per row.
func (s *CSVStream) Width() int { return s.width }

// columns returns the columns to read and their types.
func (s *CSVStream) columns() []Field {
	var fs []Field
	if s.opts.Pipeline != nil {
		fs = s.opts.Pipeline.Inputs()
	} else {
		for _, n := range s.opts.Features {
			fs = append(fs, Field{n, Numeric})
		}
	}
	if s.opts.Target != "" {
		t := Numeric
		if s.opts.Labels != nil && !s.opts.Labels.Numeric {
			t = Categorical
		}
		fs = append(fs, Field{s.opts.Target, t})
	}
	return fs
}

// Epoch returns an iterator over the batches of one pass over the file.
// The yielded Batch is reused; an error ends the epoch.
func (s *CSVStream) Epoch(epoch int) iter.Seq2[*Batch, error] {
	return func(yield func(*Batch, error) bool) {
		if err := s.run(epoch, yield); err != nil && !errors.Is(err, stopErr{}) {
			yield(nil, err)
		}
	}
}

// stopErr ends an epoch early when the consumer stops iterating.
type stopErr struct{}

func (stopErr) Error() string { return "stopped" }

func (s *CSVStream) run(epoch int, yield func(*Batch, error) bool) error {
	r, closeFn, err := openData(s.path, s.opts.CSV.MaxDecompressed)
	if err != nil {
		return err
	}
	defer closeFn()
	o := s.opts.CSV
	name := s.path
	br := bufio.NewReader(r)
	for i := 0; i < o.SkipLines; i++ {
		if _, err := br.ReadString('\n'); err != nil {
			break
		}
	}
	comma := o.Comma
	if comma == 0 && isTSV(s.path) {
		comma = '\t'
	}
	cr := newCSVReader(br, comma, o)
	if !validDelim(cr.Comma) {
		return fmt.Errorf("data: %s: invalid delimiter %q", name, cr.Comma)
	}
	miss := missingSet(o.Missing)
	want := s.columns()
	var pos []int // field index of each wanted column
	var nfields int
	header := func(rec []string) error {
		names := o.Names
		if names == nil {
			names = make([]string, len(rec))
			for i := range rec {
				if o.NoHeader {
					names[i] = "c" + strconv.Itoa(i)
				} else {
					names[i] = strings.TrimSpace(strings.TrimPrefix(rec[i], "\ufeff"))
				}
			}
		}
		nfields = len(names)
		for _, f := range want {
			j := -1
			for k, n := range names {
				if n == f.Name {
					j = k
				}
			}
			if j < 0 {
				return fmt.Errorf("data: %s: no column %q in the header", name, f.Name)
			}
			pos = append(pos, j)
		}
		return nil
	}

	w := s.width
	K := s.opts.ShuffleBuffer
	bufX := make([]float32, K*w)
	bufY := make([]int64, K)
	bufYF := make([]float32, K)
	bufRow := make([]int, K)
	nbuf := 0
	rng := newRand(s.opts.Seed, uint64(epoch)+3)
	b := s.batch
	bs := s.opts.BatchSize
	b.resize(bs)
	fill, nbatch := 0, 0
	emit := func(x []float32, y int64, yf float32, row int) error {
		copy(b.X[fill*w:(fill+1)*w], x)
		if b.Y != nil {
			b.Y[fill] = y
		}
		if b.YFloat != nil {
			b.YFloat[fill] = yf
		}
		b.Indices[fill] = row
		fill++
		if fill == bs {
			b.Epoch, b.Index = epoch, nbatch
			nbatch++
			fill = 0
			if !yield(b, nil) {
				return stopErr{}
			}
			b.resize(bs)
		}
		return nil
	}
	push := func(x []float32, y int64, yf float32, row int) error {
		if K == 0 {
			return emit(x, y, yf, row)
		}
		if nbuf < K {
			copy(bufX[nbuf*w:], x)
			bufY[nbuf], bufYF[nbuf], bufRow[nbuf] = y, yf, row
			nbuf++
			return nil
		}
		j := rng.IntN(K)
		if err := emit(bufX[j*w:(j+1)*w], bufY[j], bufYF[j], bufRow[j]); err != nil {
			return err
		}
		copy(bufX[j*w:], x)
		bufY[j], bufYF[j], bufRow[j] = y, yf, row
		return nil
	}

	// chunk holds parsed rows until transformed.
	chunk := &Frame{Source: name}
	resetChunk := func() {
		chunk.Columns = chunk.Columns[:0]
		chunk.Lines = chunk.Lines[:0]
		for _, f := range want {
			c := &Column{Name: f.Name, Type: f.Type}
			chunk.Columns = append(chunk.Columns, c)
		}
	}
	resetChunk()
	rowNum := 0
	flush := func() error {
		n := len(chunk.Lines)
		if n == 0 {
			return nil
		}
		var x []float32
		var err error
		feat := chunk
		if s.opts.Target != "" {
			feat = chunk.Drop(s.opts.Target)
		}
		if s.opts.Pipeline != nil {
			x, _, err = s.opts.Pipeline.Transform(feat)
		} else {
			x, _, err = feat.Float32()
			for i, v := range x {
				if v != v {
					r := i / w
					return Issue{File: name, Line: chunk.Lines[r], Column: s.opts.Features[i%w], Msg: "missing feature value"}
				}
			}
		}
		if err != nil {
			return err
		}
		var ys []int64
		var yfs []float64
		if s.opts.Target != "" {
			if s.opts.Labels != nil {
				if ys, err = s.opts.Labels.Encode(chunk, s.opts.Target); err != nil {
					return err
				}
			} else {
				yfs = chunk.Col(s.opts.Target).Num
				for i, v := range yfs {
					if math.IsNaN(v) {
						return Issue{File: name, Line: chunk.Lines[i], Column: s.opts.Target, Msg: "target is missing"}
					}
				}
			}
		}
		for i := 0; i < n; i++ {
			var y int64
			var yf float32
			if ys != nil {
				y = ys[i]
			}
			if yfs != nil {
				yf = float32(yfs[i])
			}
			if err := push(x[i*w:(i+1)*w], y, yf, rowNum-n+i); err != nil {
				return err
			}
		}
		resetChunk()
		return nil
	}

	first := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return csvReadError(name, o.SkipLines, err)
		}
		line, _ := cr.FieldPos(0)
		line += o.SkipLines
		if first {
			first = false
			if err := header(rec); err != nil {
				return err
			}
			if !o.NoHeader {
				continue
			}
		}
		if len(rec) != nfields {
			if o.BadValues == BadValueMissing {
				continue
			}
			return fmt.Errorf("%s:%d: record has %d fields, expected %d", name, line, len(rec), nfields)
		}
		if err := checkRecord(name, line, rec, nil); err != nil {
			return err
		}
		for k, f := range want {
			c := chunk.Columns[k]
			v := strings.TrimSpace(rec[pos[k]])
			if f.Type == Categorical {
				if miss[v] {
					v = ""
				}
				c.Cat = append(c.Cat, strings.Clone(v))
				continue
			}
			x := math.NaN()
			if !miss[v] {
				var ok bool
				if x, ok = parseNumber(v); !ok {
					if o.BadValues != BadValueMissing {
						return Issue{File: name, Line: line, Field: pos[k] + 1, Column: f.Name, Value: v,
							Msg: badNumberMsg(v)}
					}
					x = math.NaN()
				}
			}
			c.Num = append(c.Num, x)
		}
		chunk.Lines = append(chunk.Lines, line)
		rowNum++
		if len(chunk.Lines) >= s.opts.ChunkRows {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	// Drain the shuffle buffer in random order.
	rng.Shuffle(nbuf, func(i, j int) {
		for k := 0; k < w; k++ {
			bufX[i*w+k], bufX[j*w+k] = bufX[j*w+k], bufX[i*w+k]
		}
		bufY[i], bufY[j] = bufY[j], bufY[i]
		bufYF[i], bufYF[j] = bufYF[j], bufYF[i]
		bufRow[i], bufRow[j] = bufRow[j], bufRow[i]
	})
	for i := 0; i < nbuf; i++ {
		if err := emit(bufX[i*w:(i+1)*w], bufY[i], bufYF[i], bufRow[i]); err != nil {
			return err
		}
	}
	if fill > 0 && !s.opts.DropLast {
		b.resize(fill)
		b.Epoch, b.Index = epoch, nbatch
		if !yield(b, nil) {
			return stopErr{}
		}
	}
	return nil
}
