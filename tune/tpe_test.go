package tune

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/goccy/go-yaml/parser"
)

type goldenCase struct {
	Name         string         `json:"name"`
	Space        map[string]any `json:"space"`
	Observations []float64      `json:"observations"`
	Weights      []float64      `json:"weights"`
	Mus          []float64      `json:"mus"`
	Sigmas       []float64      `json:"sigmas"`
	Low          float64        `json:"low"`
	High         float64        `json:"high"`
	Categorical  [][]float64    `json:"categorical"`
	Points       []float64      `json:"points"`
	LogPDF       []float64      `json:"log_pdf"`
}

func near(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b))
}

func nearAll(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !near(a[i], b[i], tol) {
			return false
		}
	}
	return true
}

// TestParzenMatchesOptuna checks the Parzen estimator's components and
// log density against Optuna 3.1's (testdata/tpe_golden.py), and the
// continuous densities also against the mixture written out by hand from
// the components.
func TestParzenMatchesOptuna(t *testing.T) {
	b, err := os.ReadFile("testdata/tpe_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	for _, c := range g.Cases {
		sb, _ := json.Marshal(c.Space) // JSON is YAML
		f, err := parser.ParseBytes(sb, 0)
		if err != nil {
			t.Fatal(err)
		}
		p, err := parseParam("x", f.Docs[0].Body)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		z := newParzen(&p, c.Observations, 1)
		if !nearAll(z.weights, c.Weights, 1e-12) {
			t.Errorf("%s: weights %v, Optuna %v", c.Name, z.weights, c.Weights)
		}
		if c.Categorical != nil {
			for i := range c.Categorical {
				if !nearAll(z.cat[i], c.Categorical[i], 1e-12) {
					t.Errorf("%s: component %d %v, Optuna %v", c.Name, i, z.cat[i], c.Categorical[i])
				}
			}
		} else {
			if !nearAll(z.mus, c.Mus, 1e-12) || !nearAll(z.sigmas, c.Sigmas, 1e-12) || !near(z.low, c.Low, 1e-12) || !near(z.high, c.High, 1e-12) {
				t.Errorf("%s: mus %v sigmas %v [%g, %g], Optuna %v %v [%g, %g]", c.Name, z.mus, z.sigmas, z.low, z.high, c.Mus, c.Sigmas, c.Low, c.High)
			}
		}
		for i, x := range c.Points {
			got := z.logPDF(x)
			if !near(got, c.LogPDF[i], 1e-9) {
				t.Errorf("%s: log density at %g = %.12g, Optuna %.12g", c.Name, x, got, c.LogPDF[i])
			}
			if c.Mus != nil && p.Kind == Float && p.Step == 0 {
				if h := handMixture(c, p.Log, x); !near(got, h, 1e-9) {
					t.Errorf("%s: log density at %g = %.12g, by hand %.12g", c.Name, x, got, h)
				}
			}
		}
	}
}

// handMixture is log Σ w_k φ((x-μ_k)/σ_k) / (Φ((hi-μ_k)/σ_k) - Φ((lo-μ_k)/σ_k))
// written out with math.Erf, in log space for log parameters: the
// truncated-normal mixture as Optuna 3.1 evaluates it, without the 1/σ_k
// of each component's density.
func handMixture(c goldenCase, logSpace bool, x float64) float64 {
	if logSpace {
		x = math.Log(x)
	}
	cdf := func(z float64) float64 { return 0.5 * (1 + math.Erf(z/math.Sqrt2)) }
	s := 0.0
	for k, w := range c.Weights {
		mu, sd := c.Mus[k], c.Sigmas[k]
		pdf := math.Exp(-(x-mu)*(x-mu)/(2*sd*sd)) / math.Sqrt(2*math.Pi)
		s += w * pdf / (cdf((c.High-mu)/sd) - cdf((c.Low-mu)/sd))
	}
	return math.Log(s)
}

// TestParzenByHand spells out one estimator: observations 0.05, 0.2,
// 0.11 in [0, 0.3]. Sorted with the prior mean 0.15 they are 0.05, 0.11,
// 0.15, 0.2 between the bounds 0 and 0.3; the larger neighbour gaps are
// 0.06, 0.06, 0.05, 0.1, the outer two replaced by their inner gaps (0.06
// and 0.05); the magic clip raises all to at least 0.3/min(100, 5) =
// 0.06; the prior takes 0.3. Weights are 1/4 each.
func TestParzenByHand(t *testing.T) {
	p := Param{Key: "x", Kind: Float, Low: 0, High: 0.3}
	z := newParzen(&p, []float64{0.05, 0.2, 0.11}, 1)
	if !nearAll(z.sigmas, []float64{0.06, 0.06, 0.06, 0.3}, 1e-12) || !nearAll(z.weights, []float64{0.25, 0.25, 0.25, 0.25}, 1e-15) {
		t.Fatalf("sigmas %v weights %v", z.sigmas, z.weights)
	}
	// At x = 0.05 the first component contributes φ(0) / (Φ(4.1667) - Φ(-0.8333))
	// (Optuna 3.1 leaves out the 1/σ of each component).
	x := 0.05
	want := 0.0
	for k, mu := range []float64{0.05, 0.2, 0.11, 0.15} {
		sd := z.sigmas[k]
		mass := ndtr((0.3-mu)/sd) - ndtr((0-mu)/sd)
		want += 0.25 * math.Exp(-0.5*math.Pow((x-mu)/sd, 2)) / math.Sqrt(2*math.Pi) / mass
	}
	if got := z.logPDF(x); !near(got, math.Log(want), 1e-12) {
		t.Errorf("log density %g, want %g", got, math.Log(want))
	}
	// Choices: 2 observations of choice 1 out of 3, prior weight 1: each
	// observation's component is (1/3, 1+1/3, 1/3)/2, the prior's uniform.
	c := Param{Key: "c", Kind: Categorical, Choices: []any{"a", "b", "c"}}
	zc := newParzen(&c, []float64{1, 1}, 1)
	p1 := (2.0/3)*((1+1.0/3)/2) + (1.0/3)*(1.0/3)
	if got := zc.logPDF(1); !near(got, math.Log(p1), 1e-12) {
		t.Errorf("choice mass %g, want %g", math.Exp(got), p1)
	}
}

func TestTPEGammaAndWeights(t *testing.T) {
	for n, want := range map[int]int{1: 1, 10: 1, 11: 2, 100: 10, 250: 25, 1000: 25} {
		if g := tpeGamma(n); g != want {
			t.Errorf("gamma(%d) = %d, want %d", n, g, want)
		}
	}
	w := tpeWeights(27) // ramp of 2: linspace(1/27, 1, 2)
	if !near(w[0], 1.0/27, 1e-15) || w[1] != 1 || w[2] != 1 || len(w) != 27 {
		t.Errorf("weights(27) = %v", w[:3])
	}
}

// quadratic is a test objective with its minimum at x = 0.3 (and lr 1e-2).
func quadratic(v []float64) float64 {
	return (v[0]-0.3)*(v[0]-0.3) + math.Pow(math.Log10(v[1])+2, 2)
}

func runSampler(s Sampler, n int) ([]*Trial, float64) {
	var trials []*Trial
	best := math.Inf(1)
	for i := range n {
		v := s.Sample(i, trials)
		t := &Trial{Number: i, State: Complete, Values: v, Value: quadratic(v)}
		trials = append(trials, t)
		best = math.Min(best, t.Value)
	}
	return trials, best
}

var testParams = []Param{
	{Key: "x", Kind: Float, Low: -1, High: 1},
	{Key: "lr", Kind: Float, Low: 1e-5, High: 1, Log: true},
}

func TestTPEReproducibleAndBetterThanRandom(t *testing.T) {
	a, _ := runSampler(NewTPE(testParams, 5, false), 30)
	b, _ := runSampler(NewTPE(testParams, 5, false), 30)
	for i := range a {
		if !slices.Equal(a[i].Values, b[i].Values) {
			t.Fatalf("trial %d differs between two runs with one seed: %v %v", i, a[i].Values, b[i].Values)
		}
		for k, p := range testParams {
			if v := a[i].Values[k]; v < p.Low || v > p.High {
				t.Fatalf("trial %d: %s = %g outside [%g, %g]", i, p.Key, v, p.Low, p.High)
			}
		}
	}
	tpe, rnd := 0.0, 0.0
	for seed := range uint64(8) {
		_, bt := runSampler(NewTPE(testParams, seed, false), 40)
		_, br := runSampler(&Random{Params: testParams, Seed: seed}, 40)
		tpe += bt
		rnd += br
	}
	if tpe >= rnd {
		t.Errorf("TPE mean best %g is not below random's %g over 8 seeds", tpe/8, rnd/8)
	}
	t.Logf("mean best of 40 trials over 8 seeds: TPE %.4g, random %.4g", tpe/8, rnd/8)
}

func TestTPEDiscreteStaysOnGrid(t *testing.T) {
	params := []Param{
		{Key: "n", Kind: Int, Low: 5, High: 29, Step: 1},
		{Key: "q", Kind: Float, Low: 0, High: 1, Step: 0.25},
		{Key: "b", Kind: Int, Low: 1, High: 63, Step: 1, Log: true},
		{Key: "c", Kind: Categorical, Choices: []any{16, 32, 64}},
	}
	s := NewTPE(params, 2, true)
	var trials []*Trial
	for i := range 30 {
		v := s.Sample(i, trials)
		if v[0] != math.Trunc(v[0]) || v[0] < 5 || v[0] > 29 || math.Mod(v[1], 0.25) != 0 || v[2] != math.Trunc(v[2]) || v[2] < 1 || v[2] > 63 || v[3] < 0 || v[3] > 2 || v[3] != math.Trunc(v[3]) {
			t.Fatalf("trial %d off the grid: %v", i, v)
		}
		state := Complete
		if i%4 == 3 {
			state = Pruned
		}
		trials = append(trials, &Trial{Number: i, State: state, Values: v, Value: v[0] + v[1], Steps: []Step{{1, v[0]}}})
	}
}

func TestGridCoversOnce(t *testing.T) {
	params := []Param{
		{Key: "a", Kind: Int, Low: 1, High: 3, Step: 1},
		{Key: "b", Kind: Categorical, Choices: []any{[]any{32}, []any{64, 32}}},
		{Key: "c", Kind: Float, Low: 0, High: 0.2, Step: 0.1},
	}
	g := NewGrid(params, 9)
	if g.Size() != 18 {
		t.Fatalf("grid size %d, want 3*2*3", g.Size())
	}
	seen := map[[3]float64]bool{}
	for i := range g.Size() {
		v := g.Sample(i, nil)
		k := [3]float64{v[0], v[1], math.Round(v[2] * 10)}
		if seen[k] {
			t.Fatalf("point %v twice", v)
		}
		seen[k] = true
	}
	if len(seen) != 18 {
		t.Errorf("covered %d points", len(seen))
	}
	if h := NewGrid(params, 9); !slices.Equal(h.Sample(5, nil), g.Sample(5, nil)) {
		t.Error("grid order is not a function of the seed")
	}
}

func TestTruncnormPPF(t *testing.T) {
	for _, c := range [][2]float64{{-1, 2}, {0.5, 3}, {-4, -2}, {2, 9}} {
		a, b := c[0], c[1]
		for _, q := range []float64{0.01, 0.3, 0.5, 0.97} {
			x := truncnormPPF(q, a, b)
			got := (ndtr(x) - ndtr(a)) / (ndtr(b) - ndtr(a))
			if x < a || x > b || !near(got, q, 1e-7) {
				t.Errorf("ppf(%g; %g, %g) = %g, cdf there %g", q, a, b, x, got)
			}
		}
	}
}
