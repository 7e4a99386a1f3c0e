package tune

import (
	"math"
	"math/rand/v2"
)

// State is where a trial stands.
type State string

// Trial states, as the journal writes them.
const (
	Running  State = "running"
	Complete State = "complete"
	Pruned   State = "pruned"
	Failed   State = "failed"
)

// Step is one intermediate value: the metric after an epoch.
type Step struct {
	Epoch int     `json:"epoch"`
	Value float64 `json:"value"`
}

// Trial is one configuration tried, as samplers and pruners see it.
type Trial struct {
	Number int
	State  State
	// Values holds one number per parameter of the space, in order (a
	// categorical parameter's choice index).
	Values []float64
	// Value is the objective of a complete trial.
	Value float64
	// Steps are the per-epoch values of the metric, in epoch order.
	Steps []Step
}

// valueAt returns the intermediate value at epoch.
func (t *Trial) valueAt(epoch int) (float64, bool) {
	for _, s := range t.Steps {
		if s.Epoch == epoch {
			return s.Value, true
		}
	}
	return 0, false
}

// Sampler chooses the values of the next trial.
type Sampler interface {
	// Sample returns the values of trial number n given the trials so far
	// (in number order; running ones included). It must depend only on n,
	// the sampler's seed and trials, so that a resumed study samples the
	// same values.
	Sample(n int, trials []*Trial) []float64
}

// NewSampler returns the sampler a spec names.
func NewSampler(s *Spec) Sampler {
	switch s.Sampler {
	case "grid":
		return NewGrid(s.Params, s.Seed)
	case "random":
		return &Random{Params: s.Params, Seed: s.Seed}
	}
	return NewTPE(s.Params, s.Seed, s.Maximize)
}

// trialRNG is the random stream of trial n: a pure function of (seed, n).
func trialRNG(seed uint64, n int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(n)*0x9E3779B97F4A7C15+0x632BE59BD9B4E019))
}

// Random samples every parameter independently from its space (Optuna's
// RandomSampler): uniform, log-uniform in [log low, log high], quantised
// spaces uniform over their grid, choices uniform.
type Random struct {
	Params []Param
	Seed   uint64
}

// Sample draws trial n's values.
func (r *Random) Sample(n int, _ []*Trial) []float64 {
	rng := trialRNG(r.Seed, n)
	out := make([]float64, len(r.Params))
	for i := range r.Params {
		out[i] = sampleRandom(&r.Params[i], rng)
	}
	return out
}

// sampleRandom draws one value of p.
func sampleRandom(p *Param, rng *rand.Rand) float64 {
	switch {
	case p.Kind == Categorical:
		return float64(rng.IntN(len(p.Choices)))
	case p.Kind == Int && p.Log:
		// Optuna: log-uniform over [low-0.5, high+0.5], rounded.
		v := math.Round(math.Exp(math.Log(p.Low-0.5) + rng.Float64()*(math.Log(p.High+0.5)-math.Log(p.Low-0.5))))
		return min(max(v, p.Low), p.High)
	case p.Log:
		return math.Exp(math.Log(p.Low) + rng.Float64()*(math.Log(p.High)-math.Log(p.Low)))
	case p.Step > 0:
		k := int(math.Round((p.High - p.Low) / p.Step))
		return p.Low + float64(rng.IntN(k+1))*p.Step
	}
	return p.Low + rng.Float64()*(p.High-p.Low)
}

// Grid visits every point of the product of the parameters' finite
// spaces exactly once, in an order shuffled by the seed (as Optuna's
// GridSampler picks unvisited points at random). Float parameters need a
// step; ints take every step; choices every choice.
type Grid struct {
	points [][]float64
}

// NewGrid lists the grid of params and shuffles it with seed.
func NewGrid(params []Param, seed uint64) *Grid {
	axes := make([][]float64, len(params))
	for i, p := range params {
		switch {
		case p.Kind == Categorical:
			for c := range p.Choices {
				axes[i] = append(axes[i], float64(c))
			}
		default:
			n := int(math.Round((p.High-p.Low)/p.Step)) + 1
			for k := range n {
				axes[i] = append(axes[i], p.Low+float64(k)*p.Step)
			}
		}
	}
	points := [][]float64{{}}
	for _, ax := range axes {
		next := make([][]float64, 0, len(points)*len(ax))
		for _, pt := range points {
			for _, v := range ax {
				next = append(next, append(append([]float64(nil), pt...), v))
			}
		}
		points = next
	}
	rng := trialRNG(seed, -1)
	rng.Shuffle(len(points), func(i, j int) { points[i], points[j] = points[j], points[i] })
	return &Grid{points: points}
}

// Size is the number of grid points: the most trials a grid study runs.
func (g *Grid) Size() int { return len(g.points) }

// Sample returns point n of the shuffled grid (wrapping past the end).
func (g *Grid) Sample(n int, _ []*Trial) []float64 {
	return append([]float64(nil), g.points[n%len(g.points)]...)
}
