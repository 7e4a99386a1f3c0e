package nn

import (
	"math/rand/v2"

	"github.com/shenml/shen/tensor"
)

// RandomState is the position of a module's random stream (dropout
// masks). The numbers of training-mode call k are drawn from a PCG
// generator seeded with (Seed, k), and Calls counts the calls made so
// far, so the stream is a pure function of the two numbers: saving them
// with the weights and restoring them resumes the exact same masks. Seed
// is drawn from the default generator (SetSeed) when the module is built.
type RandomState struct {
	Seed  uint64 `json:"seed"`
	Calls uint64 `json:"calls"`
}

// Random is implemented by modules that draw random numbers in training
// mode (Dropout, MultiHeadAttention, RNN, LSTM and GRU with dropout).
// RandomStream returns the module's own state, which callers may read or
// overwrite.
type Random interface {
	RandomStream() *RandomState
}

// RandomStream returns s itself.
func (s *RandomState) RandomStream() *RandomState { return s }

// next returns the generator of the next call and advances Calls.
func (s *RandomState) next() *rand.Rand {
	k := s.Calls
	s.Calls++
	return rand.New(rand.NewPCG(s.Seed, k))
}

// newRandomState draws a stream seed from the default generator.
func newRandomState() RandomState {
	var seed uint64
	withRNG(func(g *tensor.RNG) { seed = uint64(g.IntN(1 << 62)) })
	return RandomState{Seed: seed}
}

// RandomStates returns the random stream position of every module of m
// that has one, keyed by its dotted name ("" for m itself).
func RandomStates(m Module) map[string]RandomState {
	out := map[string]RandomState{}
	Walk(m, func(prefix string, sub Module) {
		if r, ok := sub.(Random); ok {
			out[prefix] = *r.RandomStream()
		}
	})
	return out
}

// SetRandomStates restores positions saved by RandomStates; modules
// missing from s keep theirs. It reports the names in s that m lacks.
func SetRandomStates(m Module, s map[string]RandomState) (unknown []string) {
	seen := map[string]bool{}
	Walk(m, func(prefix string, sub Module) {
		if r, ok := sub.(Random); ok {
			if v, ok := s[prefix]; ok {
				*r.RandomStream() = v
				seen[prefix] = true
			}
		}
	})
	for k := range s {
		if !seen[k] {
			unknown = append(unknown, k)
		}
	}
	return unknown
}
