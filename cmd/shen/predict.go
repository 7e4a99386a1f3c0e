package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/internal/safeio"
	"github.com/shenml/shen/metrics"
	"github.com/shenml/shen/predict"
)

func evaluateCmd() *cobra.Command {
	var dir, file, target, labels, precision string
	var asJSON bool
	c := &cobra.Command{
		Use:   "evaluate",
		Short: "Score a model artifact on a labelled CSV/JSONL file, IDX file or image folder",
		Long: `evaluate scores a model artifact on labelled data and prints the loss, the
metrics and (classification) the per-class report.

A table model reads CSV, TSV, JSONL or scikit-learn CSV rows; the label is
the one column the model does not take, or --target.

An image model reads an IDX images file with its labels (--labels, or the
file named like it with "labels" for "images": t10k-images-idx3-ubyte.gz
goes with t10k-labels-idx1-ubyte.gz), or a folder of class sub-folders
named after the model's classes. Images are converted as in training and
normalised with the statistics saved in the artifact.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" || file == "" {
				return usagef("evaluate: --model and --data are required")
			}
			p, err := loadPredictor(cmd, dir, precision)
			if err != nil {
				return err
			}
			ev, err := evaluate(p, dir, file, &target, labels)
			if err != nil {
				return err
			}
			return printEvaluation(cmd.OutOrStdout(), ev, dir, file, target, asJSON)
		},
	}
	c.Flags().StringVar(&dir, "model", "", "model artifact folder")
	c.Flags().StringVar(&file, "data", "", "labelled data (CSV, TSV, JSONL, scikit-learn CSV; IDX images or a folder of class sub-folders for image models)")
	c.Flags().StringVar(&labels, "labels", "", "IDX labels file for IDX images (default: found by name next to --data)")
	c.Flags().StringVar(&target, "target", "", "label column (default: the one column the model does not take)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the results as JSON")
	c.Flags().StringVar(&precision, "precision", "fp32", precisionUsage)
	return c
}

// evaluate scores p on the labelled data in file; for a table it settles
// *target (the label column) when it was not given.
func evaluate(p *predict.Predictor, dir, file string, target *string, labels string) (*metrics.Evaluation, error) {
	if p.Kind() == predict.Image {
		if *target != "" {
			return nil, fmt.Errorf("evaluate: --target is for table models; %s takes images (use --labels for IDX labels)", dir)
		}
		s, err := p.ReadImages(file, labels)
		if err != nil {
			return nil, fmt.Errorf("evaluate: %w", err)
		}
		ev, err := p.EvaluateImages(s)
		if err != nil {
			return nil, inFile("evaluate", file, err)
		}
		return ev, nil
	}
	if predict.IsImageData(file) {
		return nil, fmt.Errorf("evaluate: %s is image data, but the model %s takes table rows", file, dir)
	}
	if labels != "" {
		return nil, fmt.Errorf("evaluate: --labels is for IDX images; %s takes table rows (use --target)", dir)
	}
	f, err := predict.ReadTable(file)
	if err != nil {
		return nil, err
	}
	if *target == "" {
		if *target = p.LabelColumn(f); *target == "" {
			return nil, fmt.Errorf("evaluate: %s: cannot tell the label column; pass --target", file)
		}
	}
	ev, err := p.EvaluateFrame(f, *target)
	if err != nil {
		return nil, inFile("evaluate", file, err)
	}
	return ev, nil
}

func printEvaluation(w io.Writer, ev *metrics.Evaluation, dir, file, target string, asJSON bool) error {
	if asJSON {
		v := map[string]any{"samples": ev.Samples, "loss": ev.Loss, "metrics": ev.Metrics}
		if ev.Report != nil {
			v["report"] = ev.Report
		}
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(v)
	}
	if target == "" {
		fmt.Fprintf(w, "%s on %s (%d images)\nloss %.4f\n", dir, file, ev.Samples, ev.Loss)
	} else {
		fmt.Fprintf(w, "%s on %s (%d samples, label %q)\nloss %.4f\n", dir, file, ev.Samples, target, ev.Loss)
	}
	for _, k := range sortedKeys(ev.Metrics) {
		fmt.Fprintf(w, "%-18s %.4f\n", k, ev.Metrics[k])
	}
	if ev.Report != nil {
		fmt.Fprintln(w, "\n"+ev.Report.String())
	}
	return nil
}

func predictCmd() *cobra.Command {
	var dir, in, out, prompt, precision string
	var keep []string
	var length int
	var temperature float64
	var seed uint64
	c := &cobra.Command{
		Use:   "predict",
		Short: "Predict with a model artifact: one output row per input row",
		Long: `predict reads CSV or JSONL rows, applies the artifact's fitted preprocessing
and writes one row per input: the predicted class and each class's
probability, or the regression value(s). The output is CSV, or JSONL when
--output ends in .jsonl. Rows the model answers with a caveat (an unseen
category, an imputed missing value, a number outside the training range)
are counted on standard error, and listed per row in JSONL output.

A sequence model trained on windows (data.window) cuts the rows into the
same windows, stride 1, each series (group) on its own, and writes one row
per window: row i is the prediction for the window ending at input row
length-1+i of its series (for a forecaster, the value of the row after it;
the last row forecasts past the end of the file).

An image model reads an IDX images file, a folder of PNG/JPEG files (or
of class sub-folders), or one PNG/JPEG file; each image is resized to the
model's input size, converted (grey or RGB) and normalised as in training,
and its row starts with an input column naming the file (or idx[i]).

A language model generates text instead: --prompt starts it, --length
characters (tokens) are sampled at --temperature (0: greedy).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir != "" && prompt != "" {
				p, err := loadPredictor(cmd, dir, precision)
				if err != nil {
					return err
				}
				if p.Kind() != predict.Text {
					return fmt.Errorf("predict: %s is not a language model; --prompt is for those (task language_model)", dir)
				}
				text, err := p.Generate(prompt, length, temperature, seed)
				if err != nil {
					return fmt.Errorf("predict: --prompt: %w", err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), text)
				return nil
			}
			if dir == "" || in == "" {
				return usagef("predict: --model and --input are required")
			}
			p, err := loadPredictor(cmd, dir, precision)
			if err != nil {
				return err
			}
			res, f, err := predictFile(p, dir, in)
			if err != nil {
				return err
			}
			if f != nil {
				if _, extra := p.Columns(f); len(extra) > 0 {
					fmt.Fprintf(notes(cmd), "note: the model does not read columns %s of %s (ignored; --keep passes them through)\n", strings.Join(extra, ", "), in)
				}
			}
			passed, err := keptColumns(res, f, keep)
			if err != nil {
				return err
			}
			summariseNotes(notes(cmd), res)
			return writePredictions(cmd, res, passed, out)
		},
	}
	c.Flags().StringVar(&dir, "model", "", "model artifact folder")
	c.Flags().StringVar(&in, "input", "", "input rows (CSV, TSV, JSONL, scikit-learn CSV); for image models an IDX file, an image folder or a PNG/JPEG file")
	c.Flags().StringVar(&out, "output", "", "output file (.csv or .jsonl; default: standard output as CSV)")
	c.Flags().StringSliceVar(&keep, "keep", nil, "input columns to copy into each output row (e.g. --keep id,date), so predictions keep the rows' identity")
	c.Flags().StringVar(&prompt, "prompt", "", "text to continue (language models)")
	c.Flags().IntVar(&length, "length", 200, "tokens to generate after --prompt")
	c.Flags().Float64Var(&temperature, "temperature", 0.8, "sampling temperature for --prompt (0: greedy)")
	c.Flags().Uint64Var(&seed, "seed", 1, "sampling seed for --prompt")
	c.Flags().StringVar(&precision, "precision", "fp32", precisionUsage)
	return c
}

// predictFile answers every row, window or image of the input file, and
// returns the table it read (nil for images).
func predictFile(p *predict.Predictor, dir, in string) (*predict.Result, *data.Frame, error) {
	if p.Kind() == predict.Image {
		s, err := p.ReadImages(in, "")
		if err != nil {
			return nil, nil, fmt.Errorf("predict: %w", err)
		}
		res, err := p.Tensor(s.X, s.N)
		if err != nil {
			return nil, nil, inFile("predict", in, err)
		}
		res.Inputs = s.Names
		return res, nil, nil
	}
	if predict.IsImageData(in) {
		return nil, nil, fmt.Errorf("predict: %s is image data, but the model %s takes table rows", in, dir)
	}
	f, err := predict.ReadTable(in)
	if err != nil {
		return nil, nil, err
	}
	res, err := p.Frame(f, p.LabelColumn(f))
	if err != nil {
		return nil, nil, inFile("predict", in, err)
	}
	return res, f, nil
}

// passThrough is the input columns copied into each output row.
type passThrough struct {
	names  []string
	values [][]string // [row][column]
}

// keptColumns takes the --keep columns of f for each answer: the answer's
// own row, or for a window model the row it predicts (empty past the end
// of the file).
func keptColumns(r *predict.Result, f *data.Frame, keep []string) (*passThrough, error) {
	if len(keep) == 0 {
		return nil, nil
	}
	if f == nil {
		return nil, errors.New("predict: --keep is for table input")
	}
	pt := &passThrough{names: keep, values: make([][]string, r.N)}
	for _, name := range keep {
		if f.Col(name) == nil {
			return nil, fmt.Errorf("predict: --keep %s: no such column (have %s)", name, f.ColumnList())
		}
	}
	for i := range r.N {
		row := i
		if r.Rows != nil {
			row = r.Rows[i]
		}
		vals := make([]string, len(keep))
		if row < f.NumRows() {
			for j, name := range keep {
				vals[j] = f.Col(name).Value(row)
			}
		}
		pt.values[i] = vals
	}
	return pt, nil
}

// summariseNotes counts the rows' notes by field and kind on w.
func summariseNotes(w io.Writer, r *predict.Result) {
	counts := map[string]int{}
	rows := 0
	for _, ns := range r.Notes {
		if len(ns) > 0 {
			rows++
		}
		for _, n := range ns {
			counts[n.Field+": "+n.Kind]++
		}
	}
	if rows == 0 {
		return
	}
	fmt.Fprintf(w, "notes on %d of %d rows (listed per row with --output FILE.jsonl):\n", rows, r.N)
	for _, k := range sortedKeys(counts) {
		fmt.Fprintf(w, "  %-40s %d rows\n", k, counts[k])
	}
}

// writePredictions writes the answers to out (standard output when "" or
// "-"), as JSONL when out ends in .jsonl, else CSV. A file is written
// whole and atomically: a failure leaves any previous file as it was.
func writePredictions(cmd *cobra.Command, r *predict.Result, pt *passThrough, out string) error {
	var b bytes.Buffer
	var err error
	if strings.HasSuffix(out, ".jsonl") {
		err = writeJSONL(&b, r, pt)
	} else {
		err = writeCSV(&b, r, pt)
	}
	if err != nil {
		return err
	}
	if out == "" || out == "-" {
		_, err = cmd.OutOrStdout().Write(b.Bytes())
		return err
	}
	// Temporary files of a predict killed an hour or more ago go; a
	// younger one may be another process's write in progress.
	if _, err := safeio.CleanTemp(filepath.Dir(out), time.Hour); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("predict: %w", err)
	}
	if err := safeio.WriteFileAtomic(out, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	fmt.Fprintf(notes(cmd), "wrote %d predictions to %s\n", r.N, out)
	return nil
}

func writeCSV(w io.Writer, p *predict.Result, pt *passThrough) error {
	var b strings.Builder
	// id writes what identifies output row i (i < 0: the header): the
	// image, the input row a window predicts (1-based), kept columns.
	id := func(i int) {
		if p.Inputs != nil {
			if i < 0 {
				b.WriteString("input,")
			} else {
				b.WriteString(csvField(p.Inputs[i]) + ",")
			}
		}
		if p.Rows != nil {
			if i < 0 {
				b.WriteString("row,")
			} else {
				b.WriteString(strconv.Itoa(p.Rows[i]+1) + ",")
			}
		}
		if pt != nil {
			for j, name := range pt.names {
				if i < 0 {
					b.WriteString(csvField(name) + ",")
				} else {
					b.WriteString(csvField(pt.values[i][j]) + ",")
				}
			}
		}
	}
	if p.Classes != nil {
		id(-1)
		b.WriteString("prediction")
		for _, c := range p.Classes {
			b.WriteString(",p_" + csvField(c))
		}
		b.WriteByte('\n')
		k := len(p.Classes)
		for i := range p.N {
			id(i)
			b.WriteString(csvField(p.Label(i)))
			for j := range k {
				b.WriteString("," + strconv.FormatFloat(float64(p.Probs[i*k+j]), 'g', 6, 32))
			}
			b.WriteByte('\n')
		}
	} else {
		id(-1)
		for j := range p.Outputs {
			if j > 0 {
				b.WriteByte(',')
			}
			if p.Outputs == 1 {
				b.WriteString("prediction")
			} else {
				b.WriteString("prediction_" + strconv.Itoa(j))
			}
		}
		b.WriteByte('\n')
		for i := range p.N {
			id(i)
			for j := range p.Outputs {
				if j > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strconv.FormatFloat(float64(p.Values[i*p.Outputs+j]), 'g', 7, 32))
			}
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

func writeJSONL(w io.Writer, p *predict.Result, pt *passThrough) error {
	e := json.NewEncoder(w)
	for i := range p.N {
		var v map[string]any
		if p.Classes != nil {
			k := len(p.Classes)
			probs := map[string]float32{}
			for j, c := range p.Classes {
				probs[c] = p.Probs[i*k+j]
			}
			v = map[string]any{"prediction": p.Label(i), "probabilities": probs}
		} else if p.Outputs == 1 {
			v = map[string]any{"prediction": p.Values[i]}
		} else {
			v = map[string]any{"prediction": p.Values[i*p.Outputs : (i+1)*p.Outputs]}
		}
		if p.Inputs != nil {
			v["input"] = p.Inputs[i]
		}
		if p.Rows != nil {
			v["row"] = p.Rows[i] + 1
		}
		if pt != nil {
			for j, name := range pt.names {
				v[name] = pt.values[i][j]
			}
		}
		if p.Notes != nil && len(p.Notes[i]) > 0 {
			v["notes"] = p.Notes[i]
		}
		if err := e.Encode(v); err != nil {
			return err
		}
	}
	return nil
}

// inFile prefixes err with the command and, unless the error already
// names it (errors from reading a file do, with the line and column), the
// file: one mention of the file, never "predict: f.csv: data: f.csv: ...".
func inFile(command, file string, err error) error {
	if strings.Contains(err.Error(), file) {
		return fmt.Errorf("%s: %w", command, err)
	}
	return fmt.Errorf("%s: %s: %w", command, file, err)
}
