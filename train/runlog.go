package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"time"
)

// Splits used in Record.Split.
const (
	SplitTrain = "train"
	SplitVal   = "val"
	SplitTest  = "test"
)

// Record is one line of metrics.jsonl: the results of one epoch or one
// evaluation on one split.
//
// Non-finite numbers (a diverged NaN loss) are written as JSON null and read
// back as NaN, so every line stays valid JSON.
type Record struct {
	// Time is the wall-clock time of the record; RunLog.Write fills it in
	// when zero.
	Time time.Time `json:"time"`
	// Epoch is the 1-based epoch the record closes (0 for an evaluation
	// outside training).
	Epoch int `json:"epoch"`
	// Step is the number of optimizer steps taken so far.
	Step int64 `json:"step"`
	// Split is the data the numbers are from: SplitTrain, SplitVal,
	// SplitTest or another name.
	Split string `json:"split"`
	// Loss is the mean loss over the split.
	Loss float64 `json:"loss"`
	// Metrics are the other scores by name ("accuracy", "macro_f1", ...).
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// LR is the learning rate at the end of the epoch (0: not recorded).
	LR float64 `json:"lr,omitempty"`
	// SamplesPerSec is the throughput over the epoch or evaluation.
	SamplesPerSec float64 `json:"samples_per_sec,omitempty"`
	// WallSeconds is the time since the run started, in seconds.
	WallSeconds float64 `json:"wall_s"`
}

// jsonNum is a float64 that encodes non-finite values as null.
type jsonNum float64

// MarshalJSON writes a non-finite value as null.
func (f jsonNum) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads null as NaN.
func (f *jsonNum) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = jsonNum(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = jsonNum(v)
	return nil
}

type recordJSON struct {
	Time          time.Time          `json:"time"`
	Epoch         int                `json:"epoch"`
	Step          int64              `json:"step"`
	Split         string             `json:"split"`
	Loss          jsonNum            `json:"loss"`
	Metrics       map[string]jsonNum `json:"metrics,omitempty"`
	LR            jsonNum            `json:"lr,omitempty"`
	SamplesPerSec jsonNum            `json:"samples_per_sec,omitempty"`
	WallSeconds   jsonNum            `json:"wall_s"`
}

// MarshalJSON encodes r with non-finite numbers as null.
func (r Record) MarshalJSON() ([]byte, error) {
	j := recordJSON{Time: r.Time, Epoch: r.Epoch, Step: r.Step, Split: r.Split, Loss: jsonNum(r.Loss),
		LR: jsonNum(r.LR), SamplesPerSec: jsonNum(r.SamplesPerSec), WallSeconds: jsonNum(r.WallSeconds)}
	if len(r.Metrics) > 0 {
		j.Metrics = make(map[string]jsonNum, len(r.Metrics))
		for k, v := range r.Metrics {
			j.Metrics[k] = jsonNum(v)
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes r, reading null numbers as NaN.
func (r *Record) UnmarshalJSON(b []byte) error {
	var j recordJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = Record{Time: j.Time, Epoch: j.Epoch, Step: j.Step, Split: j.Split, Loss: float64(j.Loss),
		LR: float64(j.LR), SamplesPerSec: float64(j.SamplesPerSec), WallSeconds: float64(j.WallSeconds)}
	if j.Metrics != nil {
		r.Metrics = make(map[string]float64, len(j.Metrics))
		for k, v := range j.Metrics {
			r.Metrics[k] = float64(v)
		}
	}
	return nil
}

// RunLog appends Records to a metrics.jsonl file, one JSON object a line.
// Each Write is one write call followed by an fsync, so a crash loses at
// most the line being written; the fsync costs about a millisecond on an
// SSD, which is why records are per epoch or evaluation, not per step. It is
// safe for concurrent use.
type RunLog struct {
	mu   sync.Mutex
	f    *os.File
	path string
	// Now is the clock used to fill Record.Time (default time.Now).
	Now func() time.Time
}

// OpenRunLog opens path for appending, creating it (mode 0644) if needed.
// If the file ends in a torn line left by a crash, the torn line is cut off
// first so that the next record starts on a line of its own.
func OpenRunLog(path string) (*RunLog, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	end, err := completeLength(f)
	if err == nil {
		var st os.FileInfo
		if st, err = f.Stat(); err == nil && st.Size() != end {
			if err = f.Truncate(end); err == nil {
				err = f.Sync()
			}
		}
	}
	if err == nil {
		_, err = f.Seek(end, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("train: open run log %s: %w", path, err)
	}
	return &RunLog{f: f, path: path, Now: time.Now}, nil
}

// completeLength returns the length of f up to and including its last
// newline.
func completeLength(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	buf := make([]byte, 4096)
	for end := size; end > 0; {
		start := max(end-int64(len(buf)), 0)
		chunk := buf[:end-start]
		if _, err := f.ReadAt(chunk, start); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}

// Path returns the file's path.
func (l *RunLog) Path() string { return l.path }

// Write appends r as one line and syncs it to disk.
func (l *RunLog) Write(r Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return fmt.Errorf("train: write to closed run log %s", l.path)
	}
	if r.Time.IsZero() {
		if l.Now != nil {
			r.Time = l.Now()
		} else {
			r.Time = time.Now()
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("train: encode run log record: %w", err)
	}
	b = append(b, '\n')
	if _, err := l.f.Write(b); err != nil {
		return fmt.Errorf("train: write run log %s: %w", l.path, err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("train: sync run log %s: %w", l.path, err)
	}
	return nil
}

// Close closes the file.
func (l *RunLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// ReadRunLog reads every record of a metrics.jsonl file; see DecodeRunLog.
func ReadRunLog(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := DecodeRunLog(f)
	if err != nil {
		return recs, fmt.Errorf("%s:%w", path, err)
	}
	return recs, nil
}

// DecodeRunLog reads records, one JSON object a line, skipping blank lines.
// A last line with no newline that does not parse is taken as torn by a
// crash and dropped; any other bad line is an error naming its line number
// (as "LINE: message"), returned with the records before it.
func DecodeRunLog(r io.Reader) ([]Record, error) {
	br := bufio.NewReader(r)
	var recs []Record
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return recs, fmt.Errorf("%d: %w", line, err)
		}
		torn := errors.Is(err, io.EOF)
		if t := bytes.TrimSpace(b); len(t) > 0 {
			var rec Record
			if uerr := json.Unmarshal(t, &rec); uerr != nil {
				if torn {
					return recs, nil
				}
				return recs, fmt.Errorf("%d: bad run log record: %w", line, uerr)
			}
			recs = append(recs, rec)
		}
		if torn {
			return recs, nil
		}
	}
}

// LastRecord returns the last record of the given split (any split when
// split is ""), for resuming a run: its Epoch and Step say where to go on.
func LastRecord(recs []Record, split string) (Record, bool) {
	for i := len(recs) - 1; i >= 0; i-- {
		if split == "" || recs[i].Split == split {
			return recs[i], true
		}
	}
	return Record{}, false
}
