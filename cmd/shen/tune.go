package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shenml/shen/train"
	"github.com/shenml/shen/tune"
)

// trainTuneFlags are the flags of shen train that tuning builds on:
// --set overrides and the Katib metric lines.
type trainTuneFlags struct {
	sets  []string
	katib bool
}

func (f *trainTuneFlags) register(c *cobra.Command) {
	c.Flags().StringArrayVar(&f.sets, "set", nil, "override a config key, KEY=VALUE: a dotted path (train.optimizer.lr, model.hidden, data.features[0].type) and a YAML value; repeatable, applied in order")
	c.Flags().BoolVar(&f.katib, "katib-metrics", false, "print each epoch's metrics as name=value lines for Katib's StdOut metrics collector")
}

// onEpoch returns the per-epoch hook of a train run: nil, or with
// --katib-metrics one line per epoch of name=value pairs.
func (f *trainTuneFlags) onEpoch(w io.Writer) func(train.EpochResult) error {
	if !f.katib {
		return nil
	}
	return func(r train.EpochResult) error {
		_, err := io.WriteString(w, katibLine(r)+"\n")
		return err
	}
}

// katibLine writes an epoch's metrics as "epoch=3 train_loss=0.41
// val_loss=0.38 val_accuracy=0.93": names of letters, digits and _,
// values in a form Katib's default filter
// ([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?) reads whole (no NaN or
// Inf, which it cannot).
func katibLine(r train.EpochResult) string {
	var b strings.Builder
	b.WriteString("epoch=" + strconv.Itoa(r.Epoch))
	put := func(name string, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		b.WriteString(" " + name + "=" + strconv.FormatFloat(v, 'g', -1, 64))
	}
	put("train_loss", r.TrainLoss)
	if r.TrainAccuracy != 0 {
		put("train_accuracy", r.TrainAccuracy)
	}
	if r.Val != nil {
		put("val_loss", r.ValLoss)
		names := make([]string, 0, len(r.Val))
		for k := range r.Val {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			put("val_"+k, r.Val[k])
		}
	}
	return b.String()
}

func tuneCmd() *cobra.Command {
	var cfgPath, spacePath, out string
	c := &cobra.Command{
		Use:   "tune",
		Short: "Search a config's hyperparameters: grid, random or TPE, with pruning; rerun to resume",
		Long: `tune searches the config keys named in the config's tune: section (or in
--space FILE) and trains one run per trial, several at once with the cores
split between them, pruning bad trials on the per-epoch validation metric
(asha or median). The study directory OUT holds journal.jsonl (every event,
appended and synced), trials/<n>/ (each trial's run), best/model (the best
trial's artifact, ready for shen serve) and study.html. Killed at any point,
the same command resumes: finished trials are not run again.

  tune:
    metric: accuracy        # a validation metric; default the config's monitor or loss
    goal: maximize          # default follows the metric
    trials: 20              # and/or time: 10m
    parallel: 2
    sampler: tpe            # grid | random | tpe
    pruner: asha            # none | asha | median
    seed: 1
    parameters:
      train.optimizer.lr: {space: loguniform, lower: 0.0003, upper: 0.03}
      model.hidden: {space: choice, categories: [[32], [64, 32]]}`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sp, err := loadSpec(cfgPath, spacePath)
			if err != nil {
				return err
			}
			if out == "" {
				base := filepath.Base(cfgPath)
				out = filepath.Join("studies", strings.TrimSuffix(base, filepath.Ext(base)))
			}
			w := cmd.OutOrStdout()
			st, err := tune.Run(cmd.Context(), tune.Options{ConfigFile: cfgPath, Spec: sp, Dir: out, Out: w})
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "report: %s\n", filepath.Join(st.Dir, tune.StudyHTML))
			return nil
		},
	}
	c.Flags().StringVar(&cfgPath, "config", "", "training config (YAML) with a tune: section")
	c.Flags().StringVar(&spacePath, "space", "", "search space file (what a tune: section holds), instead of the config's tune: section")
	c.Flags().StringVar(&out, "out", "", "study directory (default studies/<config name>)")
	c.AddCommand(tuneExportCmd())
	return c
}

// loadSpec reads the search space and checks it against the config.
func loadSpec(cfgPath, spacePath string) (*tune.Spec, error) {
	if cfgPath == "" {
		return nil, fmt.Errorf("tune: --config is required")
	}
	sp, err := tune.ReadSpec(cfgPath, spacePath)
	if err != nil {
		return nil, err
	}
	if err := sp.Check(cfgPath); err != nil {
		return nil, err
	}
	return sp, nil
}

func tuneExportCmd() *cobra.Command {
	var cfgPath, spacePath, format, output string
	var ko tune.KatibOptions
	c := &cobra.Command{
		Use:   "export",
		Short: "Write the study as a Katib Experiment (kubeflow.org/v1beta1) for many machines",
		Long: `export writes a ConfigMap holding the config and a Katib Experiment with the
same search space, objective, algorithm and early stopping. Each trial runs
the Shen image as
  shen train --config /shen/config/<file> --katib-metrics --set key=${trialParameters.name} ...
and Katib's StdOut metrics collector reads the name=value lines it prints.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "katib" {
				return fmt.Errorf("tune export: --format must be katib, got %q", format)
			}
			sp, err := loadSpec(cfgPath, spacePath)
			if err != nil {
				return err
			}
			b, warn, err := tune.Katib(cfgPath, sp, ko)
			if err != nil {
				return err
			}
			for _, w := range warn {
				fmt.Fprintln(cmd.ErrOrStderr(), "note:", w)
			}
			if output == "" || output == "-" {
				_, err = cmd.OutOrStdout().Write(b)
				return err
			}
			return os.WriteFile(output, b, 0o644)
		},
	}
	c.Flags().StringVar(&cfgPath, "config", "", "training config (YAML) with a tune: section")
	c.Flags().StringVar(&spacePath, "space", "", "search space file instead of the tune: section")
	c.Flags().StringVar(&format, "format", "katib", "manifest format (katib)")
	c.Flags().StringVar(&output, "output", "", "file to write (default stdout)")
	c.Flags().StringVar(&ko.Name, "name", "", "Experiment name (default: the config's file name)")
	c.Flags().StringVar(&ko.Namespace, "namespace", "kubeflow", "Kubernetes namespace")
	c.Flags().StringVar(&ko.Image, "image", tune.DefaultImage, "Shen container image the trials run")
	c.Flags().StringVar(&ko.DataPath, "data", "", "data path inside the container (passed as --set data.path=...)")
	return c
}
