package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shenml/shen/cmd/shen/quickstart"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
	"github.com/shenml/shen/train"
)

func quickstartCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "quickstart",
		Short: "Train, evaluate, save, reload and use a digit classifier on built-in data, in seconds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return quickstart.Run(cmd.Context(), cmd.OutOrStdout(), dir)
		},
	}
	c.Flags().StringVar(&dir, "dir", filepath.Join(os.TempDir(), "shen-quickstart"), "folder for the data copy, the run files and the model artifact")
	return c
}

func trainCmd() *cobra.Command {
	var cfgPath, out string
	var tf trainTuneFlags
	c := &cobra.Command{
		Use:   "train",
		Short: "Prepare data, fit, evaluate and save a model artifact as a YAML config says",
		Long: `train reads the config, checks it whole before any work (unknown keys, wrong
types and impossible combinations are errors naming file:line: key), then
reads, cleans and splits the data, fits the preprocessing on the training
split, trains with checkpoints, evaluates on the test split and writes
OUT/<name>/{model/,metrics.jsonl,report.html,*.svg}. Running the same
command again after a crash resumes from the last checkpoint.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfgPath == "" {
				return fmt.Errorf("train: --config is required")
			}
			cfg, err := train.LoadConfigWith(cfgPath, tf.sets)
			if err != nil {
				return err
			}
			dir := filepath.Join(out, cfg.Name)
			w := cmd.OutOrStdout()
			res, err := train.Run(cmd.Context(), cfg, dir, train.RunOptions{Out: w, OnEpoch: tf.onEpoch(w)})
			if err != nil {
				return err
			}
			if res.Test != nil {
				fmt.Fprintf(w, "test (%d samples): loss %.4f", res.Test.Samples, res.Test.Loss)
				for _, k := range sortedKeys(res.Test.Metrics) {
					fmt.Fprintf(w, "  %s %.4f", k, res.Test.Metrics[k])
				}
				fmt.Fprintln(w)
				if res.Test.Report != nil {
					fmt.Fprintln(w, res.Test.Report.String())
				}
			}
			fmt.Fprintf(w, "model: %s\nreport: %s\n", res.ModelDir, filepath.Join(dir, train.ReportHTML))
			return nil
		},
	}
	c.Flags().StringVar(&cfgPath, "config", "", "run config (YAML)")
	c.Flags().StringVar(&out, "out", "runs", "folder that receives the run directory <out>/<name>")
	tf.register(c)
	return c
}

func evaluateCmd() *cobra.Command {
	var dir, file, target, labels string
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
				return fmt.Errorf("evaluate: --model and --data are required")
			}
			m, err := model.Load(dir)
			if err != nil {
				return err
			}
			var ev *train.Evaluation
			if model.ImageInputOf(m.Spec) != nil {
				if target != "" {
					return fmt.Errorf("evaluate: --target is for table models; %s takes images (use --labels for IDX labels)", dir)
				}
				s, err := train.ReadImages(m, file, labels)
				if err != nil {
					return fmt.Errorf("evaluate: %w", err)
				}
				if ev, err = train.EvaluateImages(m, s); err != nil {
					return fmt.Errorf("evaluate: %s: %w", file, err)
				}
			} else {
				if train.IsImageData(file) {
					return fmt.Errorf("evaluate: %s is image data, but the model %s takes table rows", file, dir)
				}
				if labels != "" {
					return fmt.Errorf("evaluate: --labels is for IDX images; %s takes table rows (use --target)", dir)
				}
				f, err := train.ReadTable(file)
				if err != nil {
					return err
				}
				if target == "" {
					if target = train.LabelColumn(m, f); target == "" {
						return fmt.Errorf("evaluate: %s: cannot tell the label column; pass --target", file)
					}
				}
				if ev, err = train.EvaluateFrame(m, f, target); err != nil {
					return fmt.Errorf("evaluate: %s: %w", file, err)
				}
			}
			w := cmd.OutOrStdout()
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
		},
	}
	c.Flags().StringVar(&dir, "model", "", "model artifact folder")
	c.Flags().StringVar(&file, "data", "", "labelled data (CSV, TSV, JSONL, scikit-learn CSV; IDX images or a folder of class sub-folders for image models)")
	c.Flags().StringVar(&labels, "labels", "", "IDX labels file for IDX images (default: found by name next to --data)")
	c.Flags().StringVar(&target, "target", "", "label column (default: the one column the model does not take)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the results as JSON")
	return c
}

func predictCmd() *cobra.Command {
	var dir, in, out, prompt string
	var length int
	var temperature float64
	var seed uint64
	c := &cobra.Command{
		Use:   "predict",
		Short: "Predict with a model artifact: one output row per input row",
		Long: `predict reads CSV or JSONL rows, applies the artifact's fitted preprocessing
and writes one row per input: the predicted class and each class's
probability, or the regression value(s). The output is CSV, or JSONL when
--output ends in .jsonl.

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
				m, err := model.Load(dir)
				if err != nil {
					return err
				}
				lm, ok := m.Net.(*model.LanguageModel)
				if !ok || m.Spec.Vocab == nil {
					return fmt.Errorf("predict: %s is not a language model; --prompt is for those (task language_model)", dir)
				}
				ids := m.Spec.Vocab.Encode(prompt)
				if len(ids) == 0 {
					return fmt.Errorf("predict: --prompt %q has no tokens", prompt)
				}
				gen := lm.Generate(ids, length, float32(temperature), tensor.NewRNG(seed))
				fmt.Fprintln(cmd.OutOrStdout(), prompt+m.Spec.Vocab.Decode(gen))
				return nil
			}
			if dir == "" || in == "" {
				return fmt.Errorf("predict: --model and --input are required")
			}
			m, err := model.Load(dir)
			if err != nil {
				return err
			}
			var p *train.Predictions
			var n int
			if model.ImageInputOf(m.Spec) != nil {
				s, err := train.ReadImages(m, in, "")
				if err != nil {
					return fmt.Errorf("predict: %w", err)
				}
				n = s.N
				if p, err = train.Predict(m, s.X, n); err != nil {
					return err
				}
				p.Inputs = s.Names
			} else {
				if train.IsImageData(in) {
					return fmt.Errorf("predict: %s is image data, but the model %s takes table rows", in, dir)
				}
				f, err := train.ReadTable(in)
				if err != nil {
					return err
				}
				// PredictFrame maps a forecaster's transformed outputs
				// (data.window log/difference) back to the target's units.
				if p, n, err = train.PredictFrame(m, f, train.LabelColumn(m, f)); err != nil {
					return fmt.Errorf("predict: %s: %w", in, err)
				}
			}
			w := cmd.OutOrStdout()
			if out != "" && out != "-" {
				file, err := os.Create(out)
				if err != nil {
					return err
				}
				defer file.Close()
				w = file
			}
			if strings.HasSuffix(out, ".jsonl") {
				err = writeJSONL(w, p, n)
			} else {
				err = writeCSV(w, p, n)
			}
			if err != nil {
				return err
			}
			if out != "" && out != "-" {
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d predictions to %s\n", n, out)
			}
			return nil
		},
	}
	c.Flags().StringVar(&dir, "model", "", "model artifact folder")
	c.Flags().StringVar(&in, "input", "", "input rows (CSV, TSV, JSONL, scikit-learn CSV); for image models an IDX file, an image folder or a PNG/JPEG file")
	c.Flags().StringVar(&out, "output", "", "output file (.csv or .jsonl; default: standard output as CSV)")
	c.Flags().StringVar(&prompt, "prompt", "", "text to continue (language models)")
	c.Flags().IntVar(&length, "length", 200, "tokens to generate after --prompt")
	c.Flags().Float64Var(&temperature, "temperature", 0.8, "sampling temperature for --prompt (0: greedy)")
	c.Flags().Uint64Var(&seed, "seed", 1, "sampling seed for --prompt")
	return c
}

func writeCSV(w io.Writer, p *train.Predictions, n int) error {
	var b strings.Builder
	id := func(i int) {
		if p.Inputs != nil {
			if i < 0 {
				b.WriteString("input,")
			} else {
				b.WriteString(csvField(p.Inputs[i]) + ",")
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
		for i := range n {
			id(i)
			b.WriteString(csvField(p.Classes[p.Class[i]]))
			for j := range k {
				b.WriteString("," + strconv.FormatFloat(float64(p.Probs[i*k+j]), 'g', 6, 32))
			}
			b.WriteByte('\n')
		}
	} else {
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
		for i := range n {
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

func writeJSONL(w io.Writer, p *train.Predictions, n int) error {
	e := json.NewEncoder(w)
	for i := range n {
		var v map[string]any
		if p.Classes != nil {
			k := len(p.Classes)
			probs := map[string]float32{}
			for j, c := range p.Classes {
				probs[c] = p.Probs[i*k+j]
			}
			v = map[string]any{"prediction": p.Classes[p.Class[i]], "probabilities": probs}
		} else if p.Outputs == 1 {
			v = map[string]any{"prediction": p.Values[i]}
		} else {
			v = map[string]any{"prediction": p.Values[i*p.Outputs : (i+1)*p.Outputs]}
		}
		if p.Inputs != nil {
			v["input"] = p.Inputs[i]
		}
		if err := e.Encode(v); err != nil {
			return err
		}
	}
	return nil
}

func inspectCmd() *cobra.Command {
	var dir string
	var asJSON bool
	c := &cobra.Command{
		Use:   "inspect",
		Short: "Show a model artifact: architecture, parameters, signature, labels, metrics",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return fmt.Errorf("inspect: --model is required")
			}
			m, err := model.Load(dir)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			s := m.Spec
			if asJSON {
				e := json.NewEncoder(w)
				e.SetIndent("", "  ")
				return e.Encode(s)
			}
			a, _ := json.Marshal(s.Architecture)
			fmt.Fprintf(w, "model        %s (%s)\n", s.Name, dir)
			fmt.Fprintf(w, "task         %s\n", s.Task)
			fmt.Fprintf(w, "architecture %s\n", a)
			fmt.Fprintf(w, "parameters   %d\n", nn.NumParameters(m.Net))
			fmt.Fprintln(w, "layers")
			for _, e := range nn.StateDict(m.Net) {
				fmt.Fprintf(w, "  %-28s %v\n", e.Name, e.Value.Shape())
			}
			fmt.Fprintln(w, "signature")
			for _, t := range s.Signature.Inputs {
				fmt.Fprintf(w, "  input  %-20s %s %v\n", t.Name, t.Datatype, t.Shape)
			}
			for _, t := range s.Signature.Outputs {
				fmt.Fprintf(w, "  output %-20s %s %v\n", t.Name, t.Datatype, t.Shape)
			}
			if len(s.Labels) > 0 {
				fmt.Fprintf(w, "labels       %s\n", strings.Join(s.Labels, ", "))
			}
			if p := s.Preprocessing; p != nil {
				var kinds []string
				for _, st := range p.Steps {
					kinds = append(kinds, st.Kind())
				}
				fmt.Fprintf(w, "preprocessing %d inputs -> %d features: %s\n", len(p.Inputs()), p.Width(), strings.Join(kinds, ", "))
			}
			if im := model.ImageInputOf(s); im != nil {
				fmt.Fprintf(w, "image input  %dx%dx%d (channels x height x width), pixels in [0, 1]", im.Channels, im.Height, im.Width)
				if nz := im.Normalize; nz != nil {
					fmt.Fprintf(w, ", normalised with mean %v std %v", nz.Mean, nz.Std)
				}
				fmt.Fprintln(w)
			}
			if m.Profile != nil {
				fmt.Fprintf(w, "profile      %d training rows, %d features\n", m.Profile.Rows, len(m.Profile.Features))
			}
			t := s.Training
			fmt.Fprintf(w, "training     seed %d, %d epochs, %d samples", t.Seed, t.Epochs, t.Samples)
			if !t.Finished.IsZero() {
				fmt.Fprintf(w, ", finished %s", t.Finished.Format("2006-01-02 15:04:05Z07:00"))
			}
			fmt.Fprintln(w)
			if t.ConfigHash != "" {
				fmt.Fprintf(w, "  config sha256 %s\n  data sha256   %s\n", t.ConfigHash, t.DataHash)
			}
			if len(t.Metrics) > 0 {
				fmt.Fprintln(w, "metrics")
				for _, k := range sortedKeys(t.Metrics) {
					fmt.Fprintf(w, "  %-24s %.4f\n", k, t.Metrics[k])
				}
			}
			return nil
		},
	}
	c.Flags().StringVar(&dir, "model", "", "model artifact folder")
	c.Flags().BoolVar(&asJSON, "json", false, "print model.json")
	return c
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
