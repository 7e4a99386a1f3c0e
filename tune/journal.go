package tune

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"sync"
	"time"
)

// JournalFile is the study's journal, at the top of its directory.
const JournalFile = "journal.jsonl"

// Journal events.
const (
	EventStudy = "study" // first record: what the study searches
	EventStart = "start" // a trial began, with its values
	EventEpoch = "epoch" // a trial finished an epoch
	EventEnd   = "end"   // a trial ended: complete, pruned or failed
)

// Record is one line of the journal. Every record carries the trial
// number (-1 for the study record) and the time it was written.
type Record struct {
	Event string    `json:"event"`
	Trial int       `json:"trial"`
	Time  time.Time `json:"time"`
	// Fingerprint identifies config and space (study record): a study
	// directory refuses to resume another search.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Params are the trial's values as the config receives them, Values
	// their internal form (choice indices), Sets the --set overrides (start).
	Params map[string]any `json:"params,omitempty"`
	Values []float64      `json:"values,omitempty"`
	Sets   []string       `json:"sets,omitempty"`
	// Epoch and Metrics are an epoch's validation metrics (epoch).
	Epoch   int                `json:"epoch,omitempty"`
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// Value is the objective: the epoch's (epoch) or the trial's (end, complete).
	Value *float64 `json:"value,omitempty"`
	// State, Error and Seconds close a trial (end); Seconds is also an
	// epoch's wall time.
	State   State   `json:"state,omitempty"`
	Error   string  `json:"error,omitempty"`
	Seconds float64 `json:"seconds,omitempty"`
}

// Journal appends records to the study's journal file, one JSON object a
// line, each written whole and fsync'd before Append returns, so that a
// study killed at any moment loses at most the record being written.
type Journal struct {
	mu sync.Mutex
	f  *os.File
}

// OpenJournal opens (creating) the journal at path and returns it with
// the records already in it. A last line without its newline was being
// written when the process died and was never acknowledged: it is cut off.
func OpenJournal(path string) (*Journal, []Record, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if i := bytes.LastIndexByte(b, '\n'); i+1 < len(b) {
		if err := f.Truncate(int64(i + 1)); err != nil {
			f.Close()
			return nil, nil, err
		}
		b = b[:i+1]
	}
	recs, err := ParseJournal(path, b)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return nil, nil, err
	}
	return &Journal{f: f}, recs, nil
}

// ParseJournal decodes journal bytes; a bad line is an error naming it.
func ParseJournal(name string, b []byte) ([]Record, error) {
	var recs []Record
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, line, err)
		}
		switch r.Event {
		case EventStudy, EventStart, EventEpoch, EventEnd:
		default:
			return nil, fmt.Errorf("%s:%d: unknown event %q", name, line, r.Event)
		}
		if r.Event != EventStudy && r.Trial < 0 {
			return nil, fmt.Errorf("%s:%d: trial number %d", name, line, r.Trial)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return recs, nil
}

// Append writes r as one line and syncs it to disk. Non-finite numbers
// (which JSON cannot hold) are left out of Metrics and Value.
func (j *Journal) Append(r Record) error {
	if r.Time.IsZero() {
		r.Time = time.Now().UTC()
	}
	if r.Value != nil && (math.IsNaN(*r.Value) || math.IsInf(*r.Value, 0)) {
		r.Value = nil
	}
	for k, v := range r.Metrics {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			delete(r.Metrics, k)
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.f.Write(b); err != nil {
		return err
	}
	return j.f.Sync()
}

// Close closes the file.
func (j *Journal) Close() error { return j.f.Close() }

// TrialRecord is a trial as the journal tells it.
type TrialRecord struct {
	Trial
	Params  map[string]any
	Sets    []string
	Metrics []map[string]float64 // per epoch, in epoch order
	Started time.Time
	Seconds float64
	Error   string

	announced bool // the journal holds its start record
}

// Replay rebuilds the trials from journal records: an epoch written twice
// (a trial resumed from its last checkpoint repeats the epoch it was in)
// keeps its last record; a trial with a start but no end is Running (it
// was cut off and will be run again).
func Replay(recs []Record) []*TrialRecord {
	byNum := map[int]*TrialRecord{}
	for _, r := range recs {
		if r.Event == EventStudy {
			continue
		}
		t := byNum[r.Trial]
		if t == nil {
			t = &TrialRecord{Trial: Trial{Number: r.Trial, State: Running}}
			byNum[r.Trial] = t
		}
		switch r.Event {
		case EventStart:
			t.Values, t.Params, t.Sets, t.Started, t.announced = r.Values, r.Params, r.Sets, r.Time, true
		case EventEpoch:
			v := math.NaN()
			if r.Value != nil {
				v = *r.Value
			}
			i := sort.Search(len(t.Steps), func(i int) bool { return t.Steps[i].Epoch >= r.Epoch })
			if i < len(t.Steps) && t.Steps[i].Epoch == r.Epoch {
				t.Steps[i].Value, t.Metrics[i] = v, r.Metrics
				t.Steps, t.Metrics = t.Steps[:i+1], t.Metrics[:i+1] // later epochs were redone too
			} else {
				t.Steps = append(t.Steps[:i], Step{Epoch: r.Epoch, Value: v})
				t.Metrics = append(t.Metrics[:i], r.Metrics)
			}
		case EventEnd:
			t.State, t.Error, t.Seconds = r.State, r.Error, r.Seconds
			if r.Value != nil {
				t.Value = *r.Value
			}
		}
	}
	out := make([]*TrialRecord, 0, len(byNum))
	for _, t := range byNum {
		out = append(out, t)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Number < out[b].Number })
	return out
}

var errForeignStudy = errors.New("holds a study of another config or search space")
