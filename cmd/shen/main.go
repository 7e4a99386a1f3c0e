// Command shen is Shen's command line: train a model from a YAML config,
// evaluate it, predict with it, inspect it, or run the whole lifecycle on
// built-in data with `shen quickstart`.
//
//	shen quickstart
//	shen train    --config run.yaml [--out runs/]
//	shen evaluate --model DIR --data FILE [--json]
//	shen predict  --model DIR --input FILE [--output FILE]
//	shen inspect  --model DIR
//
// The command holds flags and wiring only; the work is done by the train,
// model and data packages.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	root := newRoot()
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "shen:", err)
		stop()
		os.Exit(1)
	}
}

// newRoot builds the command tree.
func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "shen",
		Short:         "Deep learning in Go, from raw data to a model artifact",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(quickstartCmd(), trainCmd(), evaluateCmd(), predictCmd(), inspectCmd())
	root.AddCommand(tuneCmd())
	root.AddCommand(configCmd())
	return root
}
