package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/predict"
	"github.com/shenml/shen/tensor"
)

// precisionUsage is the help of the --precision flag of predict and
// evaluate.
const precisionUsage = "how the network's products multiply: fp32, or bf16 (mixed precision as torch.autocast's bfloat16; emulated, and slower, on CPUs without AVX512-BF16 or AMX-BF16)"

// loadPredictor loads the artifact in dir at the --precision given,
// noting once when bf16 is only emulated on this CPU.
func loadPredictor(cmd *cobra.Command, dir, precision string) (*predict.Predictor, error) {
	prec, err := tensor.ParsePrecision(precision)
	if err != nil {
		return nil, usagef("--precision: %v", err)
	}
	if prec == tensor.BF16 && !kernel.HasBF16() {
		fmt.Fprintln(notes(cmd), "note: bf16 is emulated on this CPU (no AVX512-BF16 or AMX-BF16) and slower than fp32")
	}
	return predict.LoadWith(dir, predict.Options{Precision: prec})
}
