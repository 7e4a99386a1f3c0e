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
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	root := newRoot()
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "shen:", err)
		stop()
		os.Exit(exitCode(err))
	}
}

// Exit statuses, as the root command's help documents them.
const (
	exitFailed      = 1   // the command failed: bad data, config, artifact or I/O
	exitUsage       = 2   // the command line was wrong
	exitInterrupted = 130 // stopped by Ctrl-C (128 + SIGINT)
)

// usageError is a mistake in the command line itself.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// usagef returns a usageError.
func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitCode maps an error to the documented exit status.
func exitCode(err error) int {
	if _, ok := errors.AsType[usageError](err); ok {
		return exitUsage
	}
	if errors.Is(err, context.Canceled) {
		return exitInterrupted
	}
	// Cobra's own command-line errors (unknown command, wrong arguments).
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "invalid argument", "flag needs an argument", "required flag"} {
		if strings.HasPrefix(msg, p) {
			return exitUsage
		}
	}
	return exitFailed
}

// newRoot builds the command tree.
func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "shen",
		Short: "Deep learning in Go, from raw data to a model artifact",
		Long: `Deep learning in Go, from raw data to a model artifact and predictions.

Exit status: 0 when the command succeeded; 1 when it failed (bad data,
config, artifact or I/O: the message names the file, line, field or tensor
at fault); 2 when the command line was wrong (an unknown command or flag,
a missing required flag); 130 when interrupted with Ctrl-C (a training run
resumes from its last checkpoint when run again).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().Bool("quiet", false, "print no progress, notes or summaries, only results and errors (for scripts)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(quickstartCmd(), trainCmd(), evaluateCmd(), predictCmd(), inspectCmd())
	root.AddCommand(tuneCmd())
	root.AddCommand(configCmd())
	root.AddCommand(serveCmd())
	root.AddCommand(monitorCmd())
	root.AddCommand(onnxCmd(), importCmd(), exportCmd())
	root.AddCommand(quantizeCmd())
	return root
}
