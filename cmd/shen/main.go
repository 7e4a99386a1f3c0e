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

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	root := newRoot()
	if err := execute(ctx, root); err != nil {
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

// usageError is a mistake in the command line itself. Every way cobra
// reports one becomes a usageError where it arises: flag errors through
// the root's FlagErrorFunc, argument errors through each command's Args
// check (usageArgs), and a command line naming no command in execute.
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
	return exitFailed
}

// execute runs the command line of root (its SetArgs, else os.Args). A
// command that runs nothing itself (the root, a group such as onnx) can
// only fail on its command line: cobra's lookup refusing an unknown
// command ("shen nosuch") is such an error, and it comes before any check
// of ours could type it, so it is typed here.
func execute(ctx context.Context, root *cobra.Command) error {
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[usageError](err); !ok && cmd != nil && !cmd.Runnable() {
		return usageError{err}
	}
	return err
}

// usageArgs makes the argument check of c and of every command below it
// return a usageError ("accepts 1 arg(s), received 2", "unknown command
// "x" for "shen inspect"").
func usageArgs(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
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
	// Cobra adds help and completion when it executes; adding them now
	// lets usageArgs reach their argument checks too.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	usageArgs(root)
	return root
}
