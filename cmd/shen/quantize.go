package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/metrics"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/predict"
	"github.com/shenml/shen/quant"
	"github.com/shenml/shen/tensor"
	"github.com/spf13/cobra"
)

func quantizeCmd() *cobra.Command {
	var dir, calib, out, eval string
	var samples int
	var keep []string
	c := &cobra.Command{
		Use:   "quantize",
		Short: "Quantise a model's Linear and Conv2D layers to int8 for serving, calibrated on sample inputs",
		Long: `quantize writes a copy of the artifact in --model to --out whose model.json
records an int8 quantisation (per-output-channel symmetric weights, per-tensor
input scales fitted on --calibration, int32 sums): model.Load, shen predict,
evaluate and serve then run those layers in int8. The calibration file is
read as evaluate reads its data (IDX or image files for image models, a
table for table models); its first --samples rows are used. --float names
layers (as quantize lists them) to leave in float32, for layers too thin to
gain from int8 or too sensitive to lose precision; --float auto keeps every
layer that runs slower in int8 than in float32 on this machine. Each layer
is listed with its time in both, measured on a batch of the calibration
inputs. With --eval, the float and the int8 model are both evaluated on
that labelled file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" || calib == "" || out == "" {
				return fmt.Errorf("quantize: --model, --calibration and --out are required")
			}
			if samples <= 0 {
				return fmt.Errorf("quantize: --samples must be positive, got %d", samples)
			}
			return quantize(cmd.OutOrStdout(), dir, calib, out, eval, samples, keep)
		},
	}
	c.Flags().StringVar(&dir, "model", "", "model artifact folder (float32)")
	c.Flags().StringVar(&calib, "calibration", "", "inputs to fit the activation scales on")
	c.Flags().StringVar(&out, "out", "", "folder for the quantised artifact")
	c.Flags().StringVar(&eval, "eval", "", "labelled data to evaluate the float and the int8 model on (optional)")
	c.Flags().IntVar(&samples, "samples", 1000, "calibration samples to use")
	c.Flags().StringSliceVar(&keep, "float", nil, "layers to keep in float32 (comma-separated names, e.g. 0,3), or auto: those slower in int8 here")
	return c
}

func quantize(w io.Writer, dir, calib, out, eval string, samples int, keep []string) error {
	m, err := model.Load(dir)
	if err != nil {
		return err
	}
	if m.Spec.Quantization != nil {
		return fmt.Errorf("quantize: %s is already quantised (%s)", dir, m.Spec.Quantization.Scheme)
	}
	p, err := predict.New(m)
	if err != nil {
		return err
	}
	x, n, err := calibrationInputs(p, calib)
	if err != nil {
		return fmt.Errorf("quantize: %s: %w", calib, err)
	}
	n = min(n, samples)
	in := append([]int{n}, p.InputShape()...)
	spec, err := quant.Calibrate(m.Net, tensor.FromSlice(x[:n*p.InputSize()], in...), 256)
	if err != nil {
		return fmt.Errorf("quantize: %s: %w", dir, err)
	}
	// Each layer timed on up to one batch of 64 calibration inputs.
	tb := min(n, 64)
	times, err := quant.TimeLayers(m.Net, spec, tensor.FromSlice(x[:tb*p.InputSize()], append([]int{tb}, p.InputShape()...)...))
	if err != nil {
		return fmt.Errorf("quantize: %s: %w", dir, err)
	}
	timeOf := map[string]quant.LayerTime{}
	for _, t := range times {
		timeOf[t.Name] = t
	}
	if len(keep) == 1 && keep[0] == "auto" {
		keep = nil
		for _, t := range times {
			if t.Slower() {
				keep = append(keep, t.Name)
			}
		}
		if len(keep) == len(spec.Layers) {
			return fmt.Errorf("quantize: --float auto: every layer runs slower in int8 than in float32 on this CPU (int8 kernel %s); nothing to quantise", kernel.Int8Name())
		}
	}
	all := spec.Layers
	if spec.Layers, err = dropLayers(spec.Layers, keep); err != nil {
		return fmt.Errorf("quantize: --float: %w", err)
	}
	m.Spec.Quantization = spec
	if err := m.Save(out); err != nil {
		return err
	}
	q, err := predict.Load(out) // what serving will run
	if err != nil {
		return err
	}
	noun := "layers"
	if len(spec.Layers) == 1 {
		noun = "layer"
	}
	fmt.Fprintf(w, "quantised %d %s of %s to int8 (%s, %s calibration on %d samples of %s) -> %s\n",
		len(spec.Layers), noun, m.Spec.Name, spec.Scheme, spec.Calibration, spec.Samples, calib, out)
	kept := map[string]bool{}
	for _, l := range spec.Layers {
		kept[l.Name] = true
	}
	fmt.Fprintf(w, "  %-10s %-7s %-10s %-10s %-10s %-10s %s\n", "layer", "kind", "input max", "scale", "float32", "int8", "runs in")
	for _, l := range all {
		t, runs := timeOf[l.Name], "int8"
		if !kept[l.Name] {
			runs = "float32 (--float)"
		}
		fmt.Fprintf(w, "  %-10s %-7s %-10.4g %-10.4g %-10s %-10s %s\n", l.Name, l.Kind, l.InputMax, l.InputScale,
			micros(t.Float), micros(t.Int8), runs)
	}
	fmt.Fprintf(w, "  (times: best of %d forward passes of each layer on %d calibration inputs, int8 kernel %s)\n", quant.TimingRuns, tb, kernel.Int8Name())
	if eval == "" {
		return nil
	}
	for _, e := range []struct {
		name string
		p    *predict.Predictor
	}{{"float32", p}, {"int8", q}} {
		ev, err := evaluateFile(e.p, eval)
		if err != nil {
			return fmt.Errorf("quantize: --eval %s: %w", eval, err)
		}
		fmt.Fprintf(w, "%-8s on %s (%d samples):", e.name, eval, ev.Samples)
		for _, k := range sortedKeys(ev.Metrics) {
			fmt.Fprintf(w, " %s %.4f", k, ev.Metrics[k])
		}
		fmt.Fprintln(w)
	}
	return nil
}

// micros writes d in microseconds with two decimals ("12.34µs"), a form
// time.ParseDuration reads back.
func micros(d time.Duration) string { return fmt.Sprintf("%.2fµs", float64(d)/1e3) }

// calibrationInputs reads path as model inputs: n samples, sample-major.
func calibrationInputs(p *predict.Predictor, path string) ([]float32, int, error) {
	switch p.Kind() {
	case predict.Image:
		s, err := p.ReadImages(path, "")
		if err != nil {
			return nil, 0, err
		}
		return s.X, s.N, nil
	case predict.Table, predict.Tensor:
		f, err := predict.ReadTable(path)
		if err != nil {
			return nil, 0, err
		}
		x, _, err := p.FrameFeatures(f, p.LabelColumn(f))
		if err != nil {
			return nil, 0, err
		}
		return x, len(x) / p.InputSize(), nil
	}
	return nil, 0, fmt.Errorf("quantize takes image and table models; this one takes %s", p.Kind())
}

// evaluateFile evaluates p on a labelled file as shen evaluate does.
func evaluateFile(p *predict.Predictor, path string) (*metrics.Evaluation, error) {
	if p.Kind() == predict.Image {
		s, err := p.ReadImages(path, "")
		if err != nil {
			return nil, err
		}
		return p.EvaluateImages(s)
	}
	f, err := predict.ReadTable(path)
	if err != nil {
		return nil, err
	}
	return p.EvaluateFrame(f, p.LabelColumn(f))
}

// dropLayers removes the named layers from the quantised ones; a name that
// is not among them is an error listing those that are.
func dropLayers(layers []quant.Layer, names []string) ([]quant.Layer, error) {
	drop := map[string]bool{}
	for _, n := range names {
		drop[n] = true
	}
	var kept []quant.Layer
	var all []string
	for _, l := range layers {
		all = append(all, l.Name)
		if drop[l.Name] {
			delete(drop, l.Name)
			continue
		}
		kept = append(kept, l)
	}
	for n := range drop {
		return nil, fmt.Errorf("layer %q is not a Linear or Conv2D layer of the model (those are %s)", n, strings.Join(all, ", "))
	}
	if len(kept) == 0 {
		return nil, fmt.Errorf("every quantisable layer would stay float32")
	}
	return kept, nil
}
