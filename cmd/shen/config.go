package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/shenml/shen/train"
)

func configCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "config",
		Short: "Reference of the run config (shen config keys)",
		Args:  cobra.NoArgs,
	}
	var markdown, asJSON bool
	keys := &cobra.Command{
		Use:   "keys",
		Short: "List every run-config key with its type, default and meaning",
		Long: `keys lists every key shen train --config accepts, read from the config
types themselves, so it is always the version you run. docs/config.md is
its --markdown output.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			switch {
			case asJSON:
				e := json.NewEncoder(w)
				e.SetIndent("", "  ")
				return e.Encode(train.ConfigKeys())
			case markdown:
				_, err := fmt.Fprint(w, train.ConfigReference())
				return err
			}
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "KEY\tTYPE\tDEFAULT\tMEANING")
			for _, k := range train.ConfigKeys() {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.Key, k.Type, k.Default, k.Doc)
			}
			return tw.Flush()
		},
	}
	keys.Flags().BoolVar(&markdown, "markdown", false, "print the reference as a Markdown table")
	keys.Flags().BoolVar(&asJSON, "json", false, "print the keys as JSON")
	c.AddCommand(keys)
	return c
}
