package quant

import (
	"fmt"
	"math"
)

// Scheme names the quantisation this package implements, as recorded in
// an artifact's Spec.
const Scheme = "int8-symmetric"

// Spec records how a network is quantised: what model.json holds under
// "quantization".
type Spec struct {
	// Scheme is Scheme: per-output-channel symmetric int8 weights
	// (scale max|w|/127), per-tensor symmetric int8 inputs, int32 sums.
	Scheme string `json:"scheme"`
	// Calibration says how the input scales were fitted ("max-abs").
	Calibration string `json:"calibration"`
	// Samples is how many calibration inputs were run.
	Samples int `json:"samples"`
	// Layers lists every quantised layer.
	Layers []Layer `json:"layers"`
}

// Layer is one quantised layer.
type Layer struct {
	// Name is the layer's state-dict prefix ("0", "3", "block.1"): its
	// parameters are Name+".weight" and Name+".bias".
	Name string `json:"name"`
	// Kind is "linear" or "conv2d".
	Kind string `json:"kind"`
	// InputScale is the step of the input's int8 code: x ≈ code·InputScale.
	InputScale float32 `json:"input_scale"`
	// InputMax is the largest |input| calibration saw (for audit).
	InputMax float32 `json:"input_max"`
}

// Check reports the first thing wrong with s, naming the layer at fault.
func (s *Spec) Check() error {
	if s.Scheme != Scheme {
		return fmt.Errorf("quantization: scheme %q is not supported (this Shen knows %q)", s.Scheme, Scheme)
	}
	if len(s.Layers) == 0 {
		return fmt.Errorf("quantization: no layers")
	}
	seen := map[string]bool{}
	for i, l := range s.Layers {
		if l.Kind != "linear" && l.Kind != "conv2d" {
			return fmt.Errorf("quantization: layers[%d] (%q): kind %q, want linear or conv2d", i, l.Name, l.Kind)
		}
		sc := float64(l.InputScale)
		if !(sc > 0) || math.IsInf(sc, 0) {
			return fmt.Errorf("quantization: layers[%d] (%q): input_scale must be positive and finite, got %v", i, l.Name, l.InputScale)
		}
		if seen[l.Name] {
			return fmt.Errorf("quantization: layers[%d]: layer %q listed twice", i, l.Name)
		}
		seen[l.Name] = true
	}
	return nil
}
