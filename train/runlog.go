package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/shenml/shen/report"
)

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
func (l *RunLog) Write(r report.Record) error {
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

// Rewind drops every record a resumed run will write again: epoch
// records past the epochs finished at the checkpoint (a crash between
// logging an epoch and checkpointing it would otherwise leave that epoch
// twice) and test evaluations, which come once at the end of a run. The
// file is cut in place, from the first such record on, and synced.
func (l *RunLog) Rewind(finishedEpochs int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return fmt.Errorf("train: rewind closed run log %s", l.path)
	}
	if _, err := l.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	sc := bufio.NewScanner(l.f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var keep int64
	for sc.Scan() {
		line := sc.Bytes()
		var r report.Record
		if len(bytes.TrimSpace(line)) > 0 {
			if err := json.Unmarshal(line, &r); err != nil || r.Epoch > finishedEpochs || r.Split == report.SplitTest {
				break
			}
		}
		keep += int64(len(line)) + 1
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("train: rewind run log %s: %w", l.path, err)
	}
	if err := l.f.Truncate(keep); err != nil {
		return fmt.Errorf("train: rewind run log %s: %w", l.path, err)
	}
	if _, err := l.f.Seek(keep, io.SeekStart); err != nil {
		return err
	}
	return l.f.Sync()
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
func ReadRunLog(path string) ([]report.Record, error) {
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
func DecodeRunLog(r io.Reader) ([]report.Record, error) {
	br := bufio.NewReader(r)
	var recs []report.Record
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return recs, fmt.Errorf("%d: %w", line, err)
		}
		torn := errors.Is(err, io.EOF)
		if t := bytes.TrimSpace(b); len(t) > 0 {
			var rec report.Record
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
