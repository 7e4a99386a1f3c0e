package monitor

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/model"
)

// This file is the offline side of monitoring (`shen monitor report`):
// the same drift statistics as a live window, over two files.

// LoadReference reads what current data is compared with: an artifact
// folder (its model.json and profile.json; the weights are not read), a
// profile.json file, or a data file (CSV, TSV, JSONL, optionally gzipped)
// that is profiled here as training would.
func LoadReference(path string) (*Reference, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("monitor: reference: %w", err)
	}
	if st.IsDir() {
		var spec model.Spec
		b, err := os.ReadFile(filepath.Join(path, model.SpecFile))
		if err != nil {
			return nil, fmt.Errorf("monitor: reference %s is a folder but not a model artifact: %w", path, err)
		}
		if err := json.Unmarshal(b, &spec); err != nil {
			return nil, fmt.Errorf("monitor: %s: %w", filepath.Join(path, model.SpecFile), err)
		}
		prof, err := data.LoadProfile(filepath.Join(path, model.ProfileFile))
		if err != nil {
			return nil, fmt.Errorf("monitor: reference %s: %w", path, err)
		}
		if model.ImageInputOf(spec) != nil {
			return nil, fmt.Errorf("monitor: %s is an image model; offline reports compare table data", path)
		}
		return NewReference(spec, prof)
	}
	if strings.HasSuffix(path, ".json") {
		prof, err := data.LoadProfile(path)
		if err != nil {
			return nil, err
		}
		return NewReference(model.Spec{Name: filepath.Base(path)}, prof)
	}
	f, err := readTable(path)
	if err != nil {
		return nil, err
	}
	return NewReference(model.Spec{Name: filepath.Base(path)}, data.NewProfile(f, 10))
}

func readTable(path string) (*data.Frame, error) {
	base := strings.TrimSuffix(strings.ToLower(path), ".gz")
	if strings.HasSuffix(base, ".jsonl") || strings.HasSuffix(base, ".ndjson") {
		return data.ReadJSONL(path, data.CSVOptions{})
	}
	return data.ReadCSV(path, data.CSVOptions{})
}

// ReadCurrent reads the rows to compare with the reference as records: a
// data file (CSV, TSV, JSONL) or a prediction log (JSONL lines with
// "records", as PredictionLog writes, read with its rotated files
// path.N ... path.1 first, oldest to newest).
func ReadCurrent(path string) ([]map[string]any, error) {
	isLog, err := isPredictionLog(path)
	if err != nil {
		return nil, err
	}
	if isLog {
		var out []map[string]any
		for _, p := range append(rotatedLogs(path), path) {
			recs, err := readPredictionLog(p)
			if err != nil {
				return nil, err
			}
			out = append(out, recs...)
		}
		return out, nil
	}
	f, err := readTable(path)
	if err != nil {
		return nil, err
	}
	n := f.NumRows()
	recs := make([]map[string]any, n)
	for i := range recs {
		recs[i] = make(map[string]any, len(f.Columns))
	}
	for _, c := range f.Columns {
		for i := range n {
			switch {
			case c.IsMissing(i):
				recs[i][c.Name] = nil
			case c.Type == data.Numeric:
				recs[i][c.Name] = c.Num[i]
			default:
				recs[i][c.Name] = c.Cat[i]
			}
		}
	}
	return recs, nil
}

// rotatedLogs lists path.1, path.2, ... that exist, oldest (highest
// number) first.
func rotatedLogs(path string) []string {
	var out []string
	for i := 1; ; i++ {
		p := fmt.Sprintf("%s.%d", path, i)
		if _, err := os.Stat(p); err != nil {
			break
		}
		out = append([]string{p}, out...)
	}
	return out
}

// isPredictionLog reports whether the file's first line is a prediction
// log line (an object with "model" and "records" or "inputs").
func isPredictionLog(path string) (bool, error) {
	if !strings.HasSuffix(strings.ToLower(path), ".jsonl") {
		return false, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("monitor: %w", err)
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, 1<<16).ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("monitor: %s: %w", path, err)
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(bytes.TrimSpace(line), &probe) != nil {
		return false, nil
	}
	_, model := probe["model"]
	_, recs := probe["records"]
	_, rows := probe["rows"]
	return model && recs && rows, nil
}

func readPredictionLog(path string) ([]map[string]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	var out []map[string]any
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l LogLine
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&l); err != nil {
			return nil, fmt.Errorf("monitor: %s:%d: not a prediction log line: %w", path, line, err)
		}
		if l.Records == nil && l.Rows > 0 {
			return nil, fmt.Errorf("monitor: %s:%d: the line holds prepared inputs, not records: offline reports read table models' logs", path, line)
		}
		out = append(out, l.Records...)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("monitor: %s: %w", path, err)
	}
	return out, nil
}

// Report is `shen monitor report`'s answer.
type Report struct {
	Reference string     `json:"reference"`
	Current   string     `json:"current"`
	Drift     Comparison `json:"drift"`
}

// WriteTable prints the report as an aligned table.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "reference %s\ncurrent   %s (%d rows)\n\n", r.Reference, r.Current, r.Drift.Rows)
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "feature\tkind\tmethod\tstatistic\tp-value\tthreshold\tPSI\tmissing (ref)\tunseen\tdrift")
	for _, f := range r.Drift.Features {
		p := "-"
		if f.Method == "ks" || f.Method == "chisquare" {
			p = fmt.Sprintf("%.3g", f.PValue)
		}
		verdict := ""
		switch {
		case f.Drifted:
			verdict = "DRIFT"
		case f.MissingDrifted:
			verdict = "MISSING"
		}
		if f.UnseenDrifted {
			verdict = strings.TrimPrefix(verdict+" UNSEEN", " ")
		}
		unseen := "-"
		if f.Kind == "categorical" {
			unseen = fmt.Sprintf("%.1f%%", 100*f.UnseenRate)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.4g\t%s\t%.3g\t%.3g\t%.1f%% (%.1f%%)\t%s\t%s\n", f.Feature, f.Kind, f.Method,
			f.Statistic, p, f.Threshold, f.PSI, 100*f.MissingRate, 100*f.RefMissingRate, unseen, verdict)
	}
	tw.Flush()
	d := r.Drift.Dataset
	verdict := "no dataset drift"
	if d.Dataset {
		verdict = "DATASET DRIFT"
	}
	_, err := fmt.Fprintf(w, "\n%d of %d features drifted (%.0f%%): %s\n", d.Drifted, d.Features, 100*d.Share, verdict)
	return err
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// finite maps NaN and infinities to 0 for charts.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
