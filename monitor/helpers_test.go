package monitor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/model"
)

// traffic draws table rows like the synthetic training data of
// testProfile, optionally shifted: x1 ~ N(0,1) (shift adds to it), x2 ~
// Uniform(0, 10) (scale multiplies it), x3 ~ Exp(1) (missing: share of
// NaN), cat in a/b/c at 50/30/20% (newCat: share replaced by "z"), and
// the label y (1 when x1 + noise > 0; imbalance: share forced to 1).
type traffic struct {
	shift, scale, missing, newCat float64
}

func (t traffic) rows(rng *rand.Rand, n int) []map[string]any {
	scale := t.scale
	if scale == 0 {
		scale = 1
	}
	out := make([]map[string]any, n)
	for i := range out {
		x1 := rng.NormFloat64() + t.shift
		x3 := any(rng.ExpFloat64())
		if rng.Float64() < t.missing {
			x3 = nil
		}
		var cat string
		switch u := rng.Float64(); {
		case u < 0.5:
			cat = "a"
		case u < 0.8:
			cat = "b"
		default:
			cat = "c"
		}
		if rng.Float64() < t.newCat {
			cat = "z"
		}
		out[i] = map[string]any{"x1": x1, "x2": rng.Float64() * 10 * scale, "x3": x3, "cat": cat}
	}
	return out
}

// truth is the label of a row: "yes" when x1 plus noise is positive.
func truth(rng *rand.Rand, row map[string]any) string {
	if row["x1"].(float64)+0.3*rng.NormFloat64() > 0 {
		return "yes"
	}
	return "no"
}

// testArtifact is a classifier's spec and the profile of 5000 training
// rows from traffic{}.
func testArtifact() (model.Spec, *data.Profile) {
	rng := rand.New(rand.NewPCG(7, 7))
	rows := traffic{}.rows(rng, 5000)
	f := &data.Frame{}
	for _, name := range []string{"x1", "x2", "x3"} {
		v := make([]float64, len(rows))
		for i, r := range rows {
			v[i] = numberOf(r[name])
		}
		if err := f.AddNumeric(name, v); err != nil {
			panic(err)
		}
	}
	cat := make([]string, len(rows))
	for i, r := range rows {
		cat[i] = r["cat"].(string)
	}
	if err := f.AddCategorical("cat", cat); err != nil {
		panic(err)
	}
	spec := model.Spec{Name: "toy", Task: "classification", Labels: []string{"no", "yes"},
		Training: model.Training{Metrics: map[string]float64{"val_accuracy": 0.9, "val_f1": 0.9}}}
	return spec, data.NewProfile(f, 10)
}

// toyPredict is the toy model: "yes" when x1 > 0 (the class index).
func toyPredict(rows []map[string]any) []int {
	out := make([]int, len(rows))
	for i, r := range rows {
		if numberOf(r["x1"]) > 0 {
			out[i] = 1
		}
	}
	return out
}

func drifted(c []FeatureDrift) map[string]bool {
	m := map[string]bool{}
	for _, f := range c {
		if f.Any() {
			m[f.Feature] = true
		}
	}
	return m
}

func describe(c []FeatureDrift) string {
	s := ""
	for _, f := range c {
		s += fmt.Sprintf("\n  %s %s stat %.4g p %.3g psi %.3g drifted %v missing %.3f(%v) unseen %.3f(%v)", f.Feature, f.Method, f.Statistic, f.PValue, f.PSI, f.Drifted, f.MissingRate, f.MissingDrifted, f.UnseenRate, f.UnseenDrifted)
	}
	return s
}

var _ = math.NaN

var testTime = time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
