package tune

import (
	"math"
	"slices"
)

// Pruner decides, after each epoch of a trial, whether to stop it.
type Pruner interface {
	// Prune reports whether t, whose Steps end with the epoch just
	// finished, should stop now; others are the study's other trials.
	Prune(t *Trial, others []*Trial) bool
}

// NewPruner returns the pruner a spec names (nil for none).
func NewPruner(s *Spec) Pruner {
	switch s.Pruner {
	case "asha":
		return &ASHA{MinResource: s.MinResource, ReductionFactor: s.ReductionFactor, Maximize: s.Maximize}
	case "median":
		return &Median{StartupTrials: 5, WarmupSteps: 0, Maximize: s.Maximize}
	}
	return nil
}

// Median is the median stopping rule as Optuna's MedianPruner: once
// StartupTrials trials are complete, a trial is stopped after an epoch at
// or past WarmupSteps when its best value so far is worse than the
// median of the complete trials' values at that epoch.
type Median struct {
	StartupTrials, WarmupSteps int
	Maximize                   bool
}

// Prune applies the rule at t's last epoch.
func (m *Median) Prune(t *Trial, others []*Trial) bool {
	if len(t.Steps) == 0 {
		return false
	}
	var complete []*Trial
	for _, o := range others {
		if o.State == Complete && o.Number != t.Number {
			complete = append(complete, o)
		}
	}
	if len(complete) == 0 || len(complete) < m.StartupTrials {
		return false
	}
	step := t.Steps[len(t.Steps)-1].Epoch
	if step < m.WarmupSteps {
		return false
	}
	best := math.NaN()
	for _, s := range t.Steps {
		switch {
		case math.IsNaN(s.Value):
		case math.IsNaN(best), m.Maximize && s.Value > best, !m.Maximize && s.Value < best:
			best = s.Value
		}
	}
	if math.IsNaN(best) {
		return true
	}
	var at []float64
	for _, o := range complete {
		if v, ok := o.valueAt(step); ok && !math.IsNaN(v) {
			at = append(at, v)
		}
	}
	if len(at) == 0 {
		return false
	}
	med := percentile(at, 50)
	if m.Maximize {
		return best < med
	}
	return best > med
}

// percentile is numpy's percentile with linear interpolation.
func percentile(v []float64, q float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	pos := q / 100 * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	return s[lo] + (pos-float64(lo))*(s[hi]-s[lo])
}

// ASHA is asynchronous successive halving as Optuna's
// SuccessiveHalvingPruner (min_early_stopping_rate 0, bootstrap_count 0):
// rung r is reached at epoch MinResource·ReductionFactor^r; a trial
// reaching a rung continues only if its value there is in the best
// 1/ReductionFactor of the values every trial reached that rung with
// (while fewer than ReductionFactor trials have, only if it is the best).
type ASHA struct {
	MinResource, ReductionFactor int
	Maximize                     bool
}

// rungStep is the epoch at which rung r is reached.
func (a *ASHA) rungStep(r int) int {
	s := a.MinResource
	for range r {
		s *= a.ReductionFactor
	}
	return s
}

// rungValue is the value trial t reached rung r with: its value at the
// first epoch at or past the rung's (the epoch at which it was checked).
func (a *ASHA) rungValue(t *Trial, r int) (float64, bool) {
	step := a.rungStep(r)
	for _, s := range t.Steps {
		if s.Epoch >= step {
			return s.Value, true
		}
	}
	return 0, false
}

// Prune checks every rung t's last epoch has reached and not yet passed.
func (a *ASHA) Prune(t *Trial, others []*Trial) bool {
	if len(t.Steps) == 0 {
		return false
	}
	last := t.Steps[len(t.Steps)-1]
	step, value := last.Epoch, last.Value
	rung := 0
	if len(t.Steps) > 1 { // rungs already passed at earlier epochs
		prev := t.Steps[len(t.Steps)-2].Epoch
		for a.rungStep(rung) <= prev {
			rung++
		}
	}
	for ; step >= a.rungStep(rung); rung++ {
		if math.IsNaN(value) {
			return true
		}
		competing := []float64{value}
		for _, o := range others {
			if o.Number == t.Number {
				continue
			}
			if v, ok := a.rungValue(o, rung); ok {
				competing = append(competing, v)
			}
		}
		idx := len(competing)/a.ReductionFactor - 1
		if idx < 0 {
			idx = 0
		}
		slices.Sort(competing)
		if a.Maximize && value < competing[len(competing)-1-idx] || !a.Maximize && value > competing[idx] {
			return true
		}
	}
	return false
}
