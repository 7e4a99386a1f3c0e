package main

import (
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shenml/shen/train"
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
