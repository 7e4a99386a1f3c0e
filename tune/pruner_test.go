package tune

import (
	"encoding/json"
	"os"
	"testing"
)

// TestPrunersMatchOptuna replays testdata/pruner_golden.py: 24 trials run
// one after another, each reporting a learning curve epoch by epoch, and
// checks that Median and ASHA stop each trial at the epoch Optuna 3.1's
// MedianPruner and SuccessiveHalvingPruner stopped it (or not at all).
func TestPrunersMatchOptuna(t *testing.T) {
	b, err := os.ReadFile("testdata/pruner_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Studies []struct {
			Name      string `json:"name"`
			Direction string `json:"direction"`
			Trials    []struct {
				Values   []float64 `json:"values"`
				PrunedAt *int      `json:"pruned_at"`
			} `json:"trials"`
		} `json:"studies"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Studies) != 4 {
		t.Fatalf("%d studies in the golden file", len(g.Studies))
	}
	for _, st := range g.Studies {
		max := st.Direction == "maximize"
		var p Pruner
		switch st.Name {
		case "median":
			p = &Median{StartupTrials: 5, Maximize: max}
		case "median_max":
			p = &Median{StartupTrials: 5, WarmupSteps: 2, Maximize: max}
		case "asha":
			p = &ASHA{MinResource: 1, ReductionFactor: 3, Maximize: max}
		case "asha_max":
			p = &ASHA{MinResource: 2, ReductionFactor: 3, Maximize: max}
		}
		var done []*Trial
		for i, gt := range st.Trials {
			tr := &Trial{Number: i, State: Running}
			stopped := 0
			for e, v := range gt.Values {
				tr.Steps = append(tr.Steps, Step{Epoch: e + 1, Value: v})
				if p.Prune(tr, done) {
					stopped = e + 1
					break
				}
			}
			want := 0
			if gt.PrunedAt != nil {
				want = *gt.PrunedAt
			}
			if stopped != want {
				t.Errorf("%s trial %d: pruned at epoch %d, Optuna at %d (0: never)", st.Name, i, stopped, want)
			}
			tr.State = Complete
			if stopped > 0 {
				tr.State = Pruned
			}
			tr.Value = tr.Steps[len(tr.Steps)-1].Value
			done = append(done, tr)
		}
	}
}

func TestASHARungs(t *testing.T) {
	a := &ASHA{MinResource: 2, ReductionFactor: 3}
	for r, want := range []int{2, 6, 18, 54} {
		if got := a.rungStep(r); got != want {
			t.Errorf("rung %d at epoch %d, want %d", r, got, want)
		}
	}
	// Three trials reached rung 0 (epoch 2) with 0.5, 0.2, 0.9; a fourth
	// with 0.4 competes among four values: it must be in the best
	// 4/3 -> 1, i.e. the lowest: 0.2 is lower, so it stops.
	others := []*Trial{
		{Number: 0, State: Complete, Steps: []Step{{1, 1}, {2, 0.5}}},
		{Number: 1, State: Pruned, Steps: []Step{{1, 1}, {2, 0.2}}},
		{Number: 2, State: Running, Steps: []Step{{1, 1}, {2, 0.9}}},
	}
	tr := &Trial{Number: 3, Steps: []Step{{1, 0.1}}}
	if a.Prune(tr, others) {
		t.Fatal("pruned before the first rung")
	}
	tr.Steps = append(tr.Steps, Step{2, 0.4})
	if !a.Prune(tr, others) {
		t.Error("0.4 is not the best of 0.5, 0.2, 0.9, 0.4 at rung 0, yet it went on")
	}
	tr.Steps[1].Value = 0.1
	if a.Prune(tr, others) {
		t.Error("the best value at rung 0 was stopped")
	}
}
