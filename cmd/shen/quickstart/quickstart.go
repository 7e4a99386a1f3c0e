// Package quickstart runs Shen's whole lifecycle on data embedded in the
// binary: the 1797 8x8 scikit-learn digits are written out with a run
// config, trained on with a small CNN through the same path as
// `shen train`, evaluated, saved as an artifact, reloaded and used to
// predict.
package quickstart

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/predict"
	"github.com/shenml/shen/report"
	"github.com/shenml/shen/train"
)

// digits is scikit-learn's digits.csv.gz (BSD-3; data UCI CC BY 4.0; see README.md).
//
//go:embed sklearn_digits.csv.gz
var digits []byte

// DataFile is the name the embedded data is written under.
const DataFile = "sklearn_digits.csv.gz"

// Config is the run config the quickstart trains with: pixels scaled to
// [0,1] (min-max fitted on the training split), a stratified 70/10/20
// split, and a CNN (conv 1→16 3x3, pool, conv 16→32 3x3, pool, linear
// 128→10) trained with Adam.
const Config = `# shen quickstart: 8x8 digits, a small CNN
name: digits
task: classification
data:
  path: ` + DataFile + `
  format: csv
  header: false          # 64 pixels c0..c63, then the label c64
  target: c64
  split: {val: 0.1, test: 0.2, stratify: true, seed: 1}
preprocessing:
  numeric: minmax        # 0..16 -> [0, 1], fitted on the training split
model:
  kind: cnn
  input: [1, 8, 8]       # the 64 features are an 8x8 image
  channels: [16, 32]     # conv 3x3 + relu + 2x2 max pool each
train:
  epochs: 30
  batch_size: 32
  optimizer: {name: adam, lr: 0.005}
  schedule: {name: cosine}
  seed: 1
`

// Run writes the data and config into dir (replacing a previous
// quickstart run there), trains, evaluates, saves, reloads and predicts,
// reporting each step to w.
func Run(ctx context.Context, w io.Writer, dir string) error {
	start := time.Now()
	for _, p := range []string{train.CheckpointsDir, train.RunLogFile, train.ModelDir} {
		if err := os.RemoveAll(filepath.Join(dir, p)); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dataPath := filepath.Join(dir, DataFile)
	cfgPath := filepath.Join(dir, "run.yaml")
	if err := data.WriteFileAtomic(dataPath, digits); err != nil {
		return err
	}
	if err := data.WriteFileAtomic(cfgPath, []byte(Config)); err != nil {
		return err
	}
	fmt.Fprintf(w, "1. data: 1797 scikit-learn digits (8x8 pixels, 10 classes) written to %s\n", dataPath)
	fmt.Fprintf(w, "2. config: %s (the same file `shen train --config` takes)\n", cfgPath)
	cfg, err := train.LoadConfig(cfgPath)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "3. train: clean, stratified split, min-max scaling fitted on the training split, CNN 1→16→32 conv + linear 128→10")
	res, err := train.Run(ctx, cfg, dir, train.RunOptions{Out: w})
	if err != nil {
		return err
	}
	h := res.History
	fmt.Fprintf(w, "   best epoch %d of %d (%s %.4f)\n", h.BestEpoch, len(h.Epochs), h.Monitor, h.Best)
	if res.Test == nil || res.Test.Report == nil {
		return fmt.Errorf("quickstart: no test evaluation")
	}
	fmt.Fprintf(w, "4. evaluate on %d held-out test digits: accuracy %.4f, macro F1 %.4f\n\n%s\n",
		res.Test.Samples, res.Test.Report.Accuracy, res.Test.Report.MacroF1, indent(res.Test.Report.String()))

	pr, err := predict.Load(res.ModelDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "5. saved and reloaded the artifact %s (model.json, weights.safetensors, profile.json)\n", res.ModelDir)
	f, err := data.ReadCSV(dataPath, data.CSVOptions{NoHeader: true, MaxRows: 5})
	if err != nil {
		return err
	}
	p, err := pr.Frame(f.Drop("c64"), "")
	if err != nil {
		return err
	}
	n := p.N
	fmt.Fprintln(w, "6. predict the first 5 rows of the file with the reloaded model:")
	for i := range n {
		k := p.Class[i]
		fmt.Fprintf(w, "   row %d: true %s  predicted %s  p=%.3f\n", i+1, f.Col("c64").Value(i), p.Classes[k], p.Probs[i*len(p.Classes)+k])
		if i == 0 {
			fmt.Fprint(w, digitArt(f, i))
		}
	}
	fmt.Fprintf(w, "\ndone in %.1fs. Files in %s:\n", time.Since(start).Seconds(), dir)
	for _, n := range []string{"run.yaml", train.ModelDir + "/", train.RunLogFile, report.ReportHTML, report.LossCurveSVG, report.ConfusionMatrixSVGFile} {
		fmt.Fprintf(w, "   %s\n", filepath.Join(dir, n))
	}
	fmt.Fprintf(w, "next: shen inspect --model %s\n      shen predict --model %s --input FILE.csv\n", res.ModelDir, res.ModelDir)
	return nil
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "   " + l
	}
	return strings.Join(lines, "\n") + "\n"
}

// digitArt draws row i's 8x8 pixels (0..16) as two-character cells.
func digitArt(f *data.Frame, i int) string {
	const shades = " .:*#"
	var b strings.Builder
	for r := range 8 {
		b.WriteString("      ")
		for c := range 8 {
			v := f.Columns[r*8+c].Num[i]
			k := min(int(v/16*float64(len(shades)-1)+0.5), len(shades)-1)
			b.WriteByte(shades[k])
			b.WriteByte(shades[k])
		}
		b.WriteByte('\n')
	}
	return b.String()
}
