package tune

import (
	"math"
	"testing"
)

// synthetic is the objective of bench/tpe_synthetic.py: a bowl in x and
// log10(lr), a preferred choice and a preferred integer.
func synthetic(v []float64) float64 {
	cat := []float64{0.5, 0, 0.3, 0.8}[int(v[2])]
	return (v[0]-0.3)*(v[0]-0.3) + math.Pow(math.Log10(v[1])+2, 2) + cat + math.Pow((v[3]-7)/10, 2)
}

var syntheticSpace = []Param{
	{Key: "x", Kind: Float, Low: -1, High: 1},
	{Key: "lr", Kind: Float, Low: 1e-5, High: 1, Log: true},
	{Key: "c", Kind: Categorical, Choices: []any{"a", "b", "c", "d"}},
	{Key: "n", Kind: Int, Low: 1, High: 20, Step: 1},
}

// BenchmarkSamplerSynthetic reports the mean best value each sampler
// reaches in 40 trials over 20 seeds on the synthetic objective (lower is
// better; bench/tpe_synthetic.py runs Optuna 3.1 on the same one).
//
//	go test ./tune -run - -bench SamplerSynthetic -benchtime 1x
func BenchmarkSamplerSynthetic(b *testing.B) {
	const trials, seeds = 40, 100
	for _, name := range []string{"tpe", "random"} {
		b.Run(name, func(b *testing.B) {
			mean := 0.0
			for range b.N {
				mean = 0
				for seed := range uint64(seeds) {
					var s Sampler = NewTPE(syntheticSpace, seed, false)
					if name == "random" {
						s = &Random{Params: syntheticSpace, Seed: seed}
					}
					var ts []*Trial
					best := math.Inf(1)
					for n := range trials {
						v := s.Sample(n, ts)
						y := synthetic(v)
						ts = append(ts, &Trial{Number: n, State: Complete, Values: v, Value: y})
						best = math.Min(best, y)
					}
					mean += best / seeds
				}
			}
			b.ReportMetric(mean, "mean_best")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*seeds*trials), "µs/trial")
		})
	}
}
