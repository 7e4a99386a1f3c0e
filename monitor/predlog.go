package monitor

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// PredictionLog is an append-only JSONL file of answered requests, one
// line per request: time, model, version, request id, the inputs (raw
// records, or prepared rows) and the outputs. It rotates by size: past
// MaxBytes the file becomes path.1 (path.1 becomes path.2, ...), keeping
// MaxFiles rotated files. Lines are buffered and written by the model's
// monitor goroutine, never by a request; Close flushes every accepted
// line. Not safe for concurrent use (one model's goroutine owns it).
type PredictionLog struct {
	cfg  LogConfig
	f    *os.File
	w    *bufio.Writer
	size int64
	enc  *json.Encoder
}

// LogLine is one line of the prediction log.
type LogLine struct {
	Time      time.Time        `json:"time"`
	Model     string           `json:"model"`
	Version   string           `json:"version"`
	RequestID string           `json:"request_id,omitempty"`
	Rows      int              `json:"rows"`
	Records   []map[string]any `json:"records,omitempty"`
	Inputs    []float32        `json:"inputs,omitempty"`
	Class     []string         `json:"class,omitempty"`
	Values    []float32        `json:"values,omitempty"`
	LatencyMS float64          `json:"latency_ms"`
}

// OpenPredictionLog opens (appends to) the log at cfg.Path.
func OpenPredictionLog(cfg LogConfig) (*PredictionLog, error) {
	l := &PredictionLog{cfg: cfg}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *PredictionLog) open() error {
	f, err := os.OpenFile(l.cfg.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("monitor: prediction log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("monitor: prediction log: %w", err)
	}
	l.f, l.size = f, st.Size()
	l.w = bufio.NewWriterSize(countWriter{l}, 64<<10)
	l.enc = json.NewEncoder(l.w)
	return nil
}

// countWriter writes to the file and counts its size.
type countWriter struct{ l *PredictionLog }

func (c countWriter) Write(p []byte) (int, error) {
	n, err := c.l.f.Write(p)
	c.l.size += int64(n)
	return n, err
}

// Write appends one request, rotating first when the file is full.
func (l *PredictionLog) Write(model, version string, t time.Time, o Observation, classes []string) error {
	if l.size+int64(l.w.Buffered()) >= l.cfg.MaxBytes {
		if err := l.rotate(); err != nil {
			return err
		}
	}
	line := LogLine{Time: t.UTC(), Model: model, Version: version, RequestID: o.RequestID, Rows: o.Rows,
		Records: o.Records, Values: o.Values, LatencyMS: float64(o.Latency.Microseconds()) / 1000}
	if o.Records == nil {
		line.Inputs = o.Inputs
	}
	for _, c := range o.Class {
		if c >= 0 && c < len(classes) {
			line.Class = append(line.Class, classes[c])
		}
	}
	return l.enc.Encode(line)
}

// rotate closes the file, shifts path.i to path.i+1 (dropping the oldest)
// and starts a new file.
func (l *PredictionLog) rotate() error {
	if err := l.closeFile(); err != nil {
		return err
	}
	p := l.cfg.Path
	os.Remove(fmt.Sprintf("%s.%d", p, l.cfg.MaxFiles))
	for i := l.cfg.MaxFiles - 1; i >= 1; i-- {
		os.Rename(fmt.Sprintf("%s.%d", p, i), fmt.Sprintf("%s.%d", p, i+1))
	}
	if err := os.Rename(p, p+".1"); err != nil {
		return fmt.Errorf("monitor: prediction log: rotating: %w", err)
	}
	return l.open()
}

func (l *PredictionLog) closeFile() error {
	if err := l.w.Flush(); err != nil {
		l.f.Close()
		return fmt.Errorf("monitor: prediction log: %w", err)
	}
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("monitor: prediction log: %w", err)
	}
	return nil
}

// Flush writes the buffered lines to the file.
func (l *PredictionLog) Flush() error {
	if err := l.w.Flush(); err != nil {
		return fmt.Errorf("monitor: prediction log: %w", err)
	}
	return nil
}

// Close flushes and closes the log.
func (l *PredictionLog) Close() error { return l.closeFile() }
