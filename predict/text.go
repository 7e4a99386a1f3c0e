package predict

import (
	"errors"
	"fmt"
	"math"

	"github.com/shenml/shen/tensor"
)

// MaxGenerate bounds the tokens one Generate call writes: a request
// cannot hold a server for long.
const MaxGenerate = 100_000

// Generate continues prompt with length tokens of a language model,
// sampled at temperature (0: greedy) with the given seed, and returns the
// prompt and its continuation. The same seed gives the same text.
func (p *Predictor) Generate(prompt string, length int, temperature float64, seed uint64) (string, error) {
	if p.kind != Text {
		return "", fmt.Errorf("predict: the model takes %s; only language models continue prompts", p.kind)
	}
	if length < 0 || length > MaxGenerate {
		return "", fmt.Errorf("predict: length %d is outside [0, %d]", length, MaxGenerate)
	}
	if math.IsNaN(temperature) || math.IsInf(temperature, 0) || temperature < 0 {
		return "", fmt.Errorf("predict: temperature %v must be a finite number >= 0", temperature)
	}
	v := p.m.Spec.Vocab
	ids := v.Encode(prompt)
	if len(ids) == 0 {
		return "", errors.New("predict: the prompt has no tokens the model knows")
	}
	gen := p.lm.Generate(ids, length, float32(temperature), tensor.NewRNG(seed))
	return prompt + v.Decode(gen), nil
}
