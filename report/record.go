package report

import (
	"encoding/json"
	"math"
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
