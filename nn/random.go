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

// dropoutInto writes src with each element zeroed with probability p and
// the rest scaled by 1/(1-p) into dst, from a PCG generator seeded with
// seed. Each 64-bit draw gives three 21-bit uniforms (p is resolved to
// 2⁻²¹), a third of the generator steps of one draw per element, and the
// keep test is a table lookup on the sign of u−threshold rather than a
// branch that mispredicts p of the time: about 1 ns per element, against
// 4 to 8 for a Float32 draw and a branch each.
func dropoutInto(dst, src []float32, p float32, seed uint64) {
	var g rand.PCG
	g.Seed(seed, 0x9e3779b97f4a7c15)
	const bits, mask = 21, 1<<21 - 1
	thr := uint64(float64(p) * (1 << bits))
	mul := [2]float32{1 / (1 - p), 0} // index 1 when u < thr: dropped
	src = src[:len(dst)]
	n := len(dst) / 3 * 3
	for i := 0; i < n; i += 3 {
		x := g.Uint64()
		dst[i] = src[i] * mul[(x&mask-thr)>>63]
		dst[i+1] = src[i+1] * mul[(x>>bits&mask-thr)>>63]
		dst[i+2] = src[i+2] * mul[(x>>(2*bits)&mask-thr)>>63]
	}
	if n < len(dst) {
		x := g.Uint64()
		for j := n; j < len(dst); j++ {
			dst[j] = src[j] * mul[(x&mask-thr)>>63]
			x >>= bits
		}
	}
}
