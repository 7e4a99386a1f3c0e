package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/shenml/shen/monitor"
)

func monitorCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "monitor",
		Short: "Offline monitoring: drift of a data file or prediction log against a model's training profile",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fmt.Errorf("monitor: name a subcommand (report)")
		},
	}
	c.AddCommand(monitorReportCmd())
	return c
}

func monitorReportCmd() *cobra.Command {
	var ref, cur, htmlOut, config string
	var asJSON bool
	c := &cobra.Command{
		Use:   "report",
		Short: "Compare current data with a reference: a table, JSON, or an HTML page with charts",
		Long: `report runs the drift statistics of live monitoring over two files: the
reference (a model artifact folder, whose training profile is used; a
profile.json; or a CSV/TSV/JSONL data file, profiled here) and the current
data (a CSV/TSV/JSONL file, or a prediction log written by shen serve).

Numeric features are compared by Kolmogorov-Smirnov (up to 1000 rows) or
the Wasserstein distance over the reference std (beyond), categorical ones
by chi-squared or the Jensen-Shannon distance; PSI, missing and unseen
rates are reported too. --config reads thresholds from the monitoring:
section of a model config.yaml. The exit status is 0 whether or not the
data drifted; the verdict is in the output.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ref == "" || cur == "" {
				return fmt.Errorf("monitor report: --reference and --current are required")
			}
			cfg := monitor.DefaultConfig()
			if config != "" {
				b, err := os.ReadFile(config)
				if err != nil {
					return fmt.Errorf("monitor report: %w", err)
				}
				if cfg, err = monitor.ParseConfig(b); err != nil {
					return fmt.Errorf("monitor report: %s: %w", config, err)
				}
			}
			r, err := monitor.LoadReference(ref)
			if err != nil {
				return err
			}
			recs, err := monitor.ReadCurrent(cur)
			if err != nil {
				return err
			}
			if len(recs) == 0 {
				return fmt.Errorf("monitor report: %s holds no rows", cur)
			}
			rep := &monitor.Report{Reference: ref, Current: cur, Drift: r.CompareRecords(recs, cfg.Drift)}
			if htmlOut != "" {
				f, err := os.CreateTemp(filepath.Dir(htmlOut), ".report-*.html")
				if err != nil {
					return fmt.Errorf("monitor report: %w", err)
				}
				werr := rep.WriteHTML(f)
				if werr == nil {
					werr = f.Chmod(0o644)
				}
				if cerr := f.Close(); werr == nil {
					werr = cerr
				}
				if werr == nil {
					werr = os.Rename(f.Name(), htmlOut)
				}
				if werr != nil {
					os.Remove(f.Name())
					return fmt.Errorf("monitor report: writing %s: %w", htmlOut, werr)
				}
			}
			if asJSON {
				return rep.WriteJSON(cmd.OutOrStdout())
			}
			return rep.WriteTable(cmd.OutOrStdout())
		},
	}
	c.Flags().StringVar(&ref, "reference", "", "model artifact folder, profile.json, or reference data file (CSV, TSV, JSONL)")
	c.Flags().StringVar(&cur, "current", "", "current data file (CSV, TSV, JSONL) or prediction log (JSONL; its rotated files .1, .2, ... are read too)")
	c.Flags().StringVar(&htmlOut, "html", "", "also write a self-contained HTML page with charts here")
	c.Flags().StringVar(&config, "config", "", "model config.yaml whose monitoring: section sets the thresholds")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return c
}
