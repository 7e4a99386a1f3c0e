package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shenml/shen/cmd/shen/quickstart"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/report"
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
	var force bool
	var tf trainTuneFlags
	c := &cobra.Command{
		Use:   "train",
		Short: "Prepare data, fit, evaluate and save a model artifact as a YAML config says",
		Long: `train reads the config, checks it whole before any work (unknown keys, wrong
types and impossible combinations are errors naming file:line: key), then
reads, cleans and splits the data, fits the preprocessing on the training
split, trains with checkpoints, evaluates on the test split and writes
OUT/<name>/{model/,metrics.jsonl,report.html,*.svg}. Running the same
command again after a crash resumes from the last checkpoint; a finished
run is kept unless --force replaces it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfgPath == "" {
				return usagef("train: --config is required")
			}
			cfg, err := train.LoadConfigWith(cfgPath, tf.sets)
			if err != nil {
				return err
			}
			dir := filepath.Join(out, cfg.Name)
			if err := claimRunDir(dir, force); err != nil {
				return err
			}
			w := output(cmd)
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
			fmt.Fprintf(w, "model: %s\nreport: %s\n", res.ModelDir, filepath.Join(dir, report.ReportHTML))
			return nil
		},
	}
	c.Flags().StringVar(&cfgPath, "config", "", "run config (YAML)")
	c.Flags().StringVar(&out, "out", "runs", "folder that receives the run directory <out>/<name>")
	c.Flags().BoolVar(&force, "force", false, "replace a finished run in <out>/<name> (an unfinished one resumes without it)")
	tf.register(c)
	return c
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
				return usagef("inspect: --model is required")
			}
			if strings.HasSuffix(dir, ".onnx") {
				return inspectONNX(cmd.OutOrStdout(), dir, asJSON)
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

// output is where a command prints its results: standard output, or
// nowhere under --quiet.
func output(cmd *cobra.Command) io.Writer {
	if q, _ := cmd.Flags().GetBool("quiet"); q {
		return io.Discard
	}
	return cmd.OutOrStdout()
}

// notes is where a command prints what is not its result (notes,
// summaries): standard error, or nowhere under --quiet.
func notes(cmd *cobra.Command) io.Writer {
	if q, _ := cmd.Flags().GetBool("quiet"); q {
		return io.Discard
	}
	return cmd.ErrOrStderr()
}

// claimRunDir lets train use dir: a new or unfinished run (which then
// resumes from its checkpoint) as it is; a finished run only with force,
// which removes it first. It never removes a folder that is not a run
// directory.
func claimRunDir(dir string, force bool) error {
	if _, err := os.Stat(filepath.Join(dir, train.ModelDir, model.SpecFile)); err != nil {
		return nil // nothing finished there
	}
	if !force {
		return fmt.Errorf("train: %s already holds a finished run; pass --force to replace it, or choose another --out or name", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, train.RunLogFile)); err != nil {
		return fmt.Errorf("train: --force: %s does not look like a run directory (no %s); remove it yourself", dir, train.RunLogFile)
	}
	return os.RemoveAll(dir)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
