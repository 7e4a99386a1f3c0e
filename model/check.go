package model

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Tasks an artifact can hold.
const (
	TaskClassification = "classification"
	TaskRegression     = "regression"
	TaskLanguageModel  = "language_model"
)

// Bounds on image inputs: a side longer than MaxImageSide or an image of
// more than MaxImageValues values is refused, so that height × width can
// neither overflow nor ask the decoder for gigabytes.
const (
	MaxImageSide   = 1 << 14
	MaxImageValues = 1 << 26
)

// Check reports the first inconsistency of s as a whole: the task against
// the outputs and the labels, the image, window, preprocessing and
// vocabulary against the architecture's input and outputs, the decision
// threshold, and every number that must be finite. The error names the
// model.json field at fault. It does not build the network: Load does,
// and checks its output shape and the weights too.
func (s *Spec) Check() error {
	a := &s.Architecture
	if len(a.Input) == 0 {
		return fmt.Errorf("architecture.input: the input shape is missing")
	}
	for _, d := range a.Input {
		if d <= 0 || d > MaxActivations {
			return fmt.Errorf("architecture.input: %v has a dimension that is not in [1, %d]", a.Input, MaxActivations)
		}
	}
	if a.Outputs <= 0 {
		return fmt.Errorf("architecture.outputs must be positive, got %d", a.Outputs)
	}
	if err := checkLayerNumbers(*a); err != nil {
		return err
	}
	if b := bound(*a); b.check() != nil {
		return b.check()
	}
	if err := s.checkTask(); err != nil {
		return err
	}
	if err := s.checkDecision(); err != nil {
		return err
	}
	if s.Image != nil {
		if err := s.Image.check(); err != nil {
			return err
		}
		if n := prodChecked(a.Input); n != s.Image.values() {
			return fmt.Errorf("image: input %v holds %d values, the architecture's input %v takes %d", s.Image.Shape(), s.Image.values(), a.Input, n)
		}
	}
	if err := s.checkWindow(); err != nil {
		return err
	}
	if p := s.Preprocessing; p != nil {
		if !p.Fitted() {
			return fmt.Errorf("preprocessing: the pipeline is not fitted")
		}
		feat := prodChecked(a.Input)
		what := "the architecture's input " + fmt.Sprint(a.Input)
		if s.Window != nil {
			feat, what = a.Input[len(a.Input)-1], fmt.Sprintf("the features per step of the architecture's input %v", a.Input)
		}
		if p.Width() != feat {
			return fmt.Errorf("preprocessing: the pipeline makes %d features, %s takes %d", p.Width(), what, feat)
		}
	}
	return s.checkSignature()
}

// checkTask ties the task to the outputs, labels and vocabulary.
func (s *Spec) checkTask() error {
	a := &s.Architecture
	switch s.Task {
	case TaskClassification:
		if len(s.Labels) != a.Outputs {
			return fmt.Errorf("labels: %d labels for the architecture's %d outputs (classification has one output per label)", len(s.Labels), a.Outputs)
		}
		if a.Outputs < 2 {
			return fmt.Errorf("architecture.outputs: a classifier needs at least 2 classes, got %d", a.Outputs)
		}
		seen := make(map[string]bool, len(s.Labels))
		for i, l := range s.Labels {
			if seen[l] {
				return fmt.Errorf("labels[%d]: %q appears twice", i, l)
			}
			seen[l] = true
		}
	case TaskRegression:
		if len(s.Labels) > 0 {
			return fmt.Errorf("labels: a regression model has no labels, got %d", len(s.Labels))
		}
	case TaskLanguageModel:
		if s.Vocab == nil {
			return fmt.Errorf("vocab: a language model needs its vocabulary")
		}
		if s.Vocab.Len() != a.Outputs {
			return fmt.Errorf("vocab: %d tokens, the architecture's embedding and outputs are for %d", s.Vocab.Len(), a.Outputs)
		}
		if len(a.Input) != 1 || s.Preprocessing != nil || s.Image != nil || s.Window != nil {
			return fmt.Errorf("architecture.input: a language model takes [steps] token ids and no preprocessing, image or window; got input %v", a.Input)
		}
	default:
		return fmt.Errorf("task must be %s, %s or %s, got %q", TaskClassification, TaskRegression, TaskLanguageModel, s.Task)
	}
	if s.Task != TaskLanguageModel && s.Vocab != nil {
		return fmt.Errorf("vocab: only a language model has a vocabulary (task is %s)", s.Task)
	}
	return nil
}

// checkDecision checks the fields that change how outputs become
// predictions: the threshold and the window's target transform.
func (s *Spec) checkDecision() error {
	if t := s.Threshold; t != nil {
		if s.Task != TaskClassification || len(s.Labels) != 2 {
			return fmt.Errorf("threshold is for binary classifiers; the model is a %s with %d labels", s.Task, len(s.Labels))
		}
		if !(*t > 0 && *t < 1) {
			return fmt.Errorf("threshold must be in (0, 1), got %v", *t)
		}
	}
	if w := s.Window; w != nil && w.Transforms() {
		if s.Task != TaskRegression || w.Target != "next" {
			return fmt.Errorf("window.log and window.difference are for forecasters (task regression, window target next), got %s with target %q", s.Task, w.Target)
		}
		if s.Architecture.Outputs > 1 {
			return fmt.Errorf("window.log and window.difference need one output, the architecture has %d", s.Architecture.Outputs)
		}
	}
	return nil
}

// checkWindow ties a sequence model's window to its input.
func (s *Spec) checkWindow() error {
	w := s.Window
	if w == nil {
		return nil
	}
	in := s.Architecture.Input
	if w.Target != "last" && w.Target != "next" {
		return fmt.Errorf("window.target must be last or next, got %q", w.Target)
	}
	if strings.TrimSpace(w.Column) == "" {
		return fmt.Errorf("window.column: the target column is missing")
	}
	if len(in) != 2 {
		return fmt.Errorf("window: a windowed model takes [length, features], the architecture's input is %v", in)
	}
	if w.Length != in[0] {
		return fmt.Errorf("window.length is %d, the architecture's input %v takes %d steps", w.Length, in, in[0])
	}
	if s.Image != nil {
		return fmt.Errorf("window: a windowed model has no image input")
	}
	return nil
}

// checkSignature checks the published inputs and outputs are well formed
// and that the output matches the architecture.
func (s *Spec) checkSignature() error {
	for _, part := range []struct {
		name string
		ts   []Tensor
	}{{"signature.inputs", s.Signature.Inputs}, {"signature.outputs", s.Signature.Outputs}} {
		for i, t := range part.ts {
			if t.Name == "" {
				return fmt.Errorf("%s[%d]: the name is missing", part.name, i)
			}
			if !slices.Contains([]string{"FP32", "INT64", "BYTES"}, t.Datatype) {
				return fmt.Errorf("%s[%d] (%s): datatype must be FP32, INT64 or BYTES, got %q", part.name, i, t.Name, t.Datatype)
			}
			for _, d := range t.Shape {
				if d < -1 || d == 0 {
					return fmt.Errorf("%s[%d] (%s): shape %v has a dimension that is neither positive nor -1", part.name, i, t.Name, t.Shape)
				}
			}
		}
	}
	if o := s.Signature.Outputs; len(o) > 0 {
		sh := o[0].Shape
		if len(sh) == 0 || (sh[len(sh)-1] != -1 && sh[len(sh)-1] != s.Architecture.Outputs) {
			return fmt.Errorf("signature.outputs[0] (%s): shape %v does not end in the architecture's %d outputs", o[0].Name, sh, s.Architecture.Outputs)
		}
	}
	return nil
}

// values returns Channels × Height × Width (check bounds it first).
func (p *ImageInput) values() int { return p.Channels * p.Height * p.Width }

// prodChecked multiplies sizes already bounded by MaxActivations each,
// saturating at math.MaxInt instead of overflowing.
func prodChecked(s []int) int {
	n := 1
	for _, d := range s {
		if d > 0 && n > math.MaxInt/d {
			return math.MaxInt
		}
		n *= d
	}
	return n
}
