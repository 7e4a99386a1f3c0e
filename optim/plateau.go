package optim

import (
	"fmt"
	"math"
)

// Plateau configures a ReduceLROnPlateau. Its fields are taken literally
// except the two strings, whose empty value means torch's default; start
// from DefaultPlateau for torch's numbers.
type Plateau struct {
	Mode          string  // "min" (default): lower is better; "max": higher is better
	Factor        float64 // multiply the LR by this on a plateau, in (0, 1)
	Patience      int     // bad steps tolerated before reducing, >= 0
	Threshold     float64 // the least change that counts as better, >= 0
	ThresholdMode string  // "rel" (default): relative to the best; "abs"
	Cooldown      int     // steps to wait after a reduction before counting again
	MinLR         float64 // no group's LR is reduced below this
	Eps           float64 // reductions smaller than this are skipped
}

// DefaultPlateau returns torch's ReduceLROnPlateau defaults: mode min,
// factor 0.1, patience 10, threshold 1e-4 relative, no cooldown, min LR 0,
// eps 1e-8.
func DefaultPlateau() Plateau {
	return Plateau{Mode: "min", Factor: 0.1, Patience: 10, Threshold: 1e-4, ThresholdMode: "rel", Eps: 1e-8}
}

// ReduceLROnPlateau multiplies every group's LR by Factor when a metric
// has stopped improving for more than Patience steps, as
// torch.optim.lr_scheduler.ReduceLROnPlateau. It is not a Scheduler:
// call StepMetric with the validation metric once per epoch. O(groups).
type ReduceLROnPlateau struct {
	cfg      Plateau
	opt      Optimizer
	lr       []float64
	last     int
	best     float64
	bad      int
	cooldown int
}

// NewReduceLROnPlateau returns a ReduceLROnPlateau over opt's groups. It
// returns an error for an unknown mode, a factor outside (0, 1) or a
// negative count, threshold or MinLR.
func NewReduceLROnPlateau(opt Optimizer, cfg Plateau) (*ReduceLROnPlateau, error) {
	if cfg.Mode == "" {
		cfg.Mode = "min"
	}
	if cfg.ThresholdMode == "" {
		cfg.ThresholdMode = "rel"
	}
	switch {
	case cfg.Mode != "min" && cfg.Mode != "max":
		return nil, fmt.Errorf("optim: ReduceLROnPlateau: mode %q is unknown (want min or max)", cfg.Mode)
	case cfg.ThresholdMode != "rel" && cfg.ThresholdMode != "abs":
		return nil, fmt.Errorf("optim: ReduceLROnPlateau: threshold mode %q is unknown (want rel or abs)", cfg.ThresholdMode)
	case !(cfg.Factor > 0 && cfg.Factor < 1):
		return nil, fmt.Errorf("optim: ReduceLROnPlateau: factor must be in (0, 1), got %v (start from DefaultPlateau)", cfg.Factor)
	case cfg.Patience < 0 || cfg.Cooldown < 0:
		return nil, fmt.Errorf("optim: ReduceLROnPlateau: patience %d and cooldown %d must be >= 0", cfg.Patience, cfg.Cooldown)
	case !(cfg.Threshold >= 0) || !(cfg.MinLR >= 0) || !(cfg.Eps >= 0):
		return nil, fmt.Errorf("optim: ReduceLROnPlateau: threshold %v, MinLR %v and Eps %v must be >= 0", cfg.Threshold, cfg.MinLR, cfg.Eps)
	}
	s := &ReduceLROnPlateau{cfg: cfg, opt: opt, lr: make([]float64, len(opt.Groups()))}
	s.reset()
	s.sync()
	return s, nil
}

func (s *ReduceLROnPlateau) worst() float64 {
	if s.cfg.Mode == "min" {
		return math.Inf(1)
	}
	return math.Inf(-1)
}

func (s *ReduceLROnPlateau) reset() { s.best, s.cooldown, s.bad = s.worst(), 0, 0 }

func (s *ReduceLROnPlateau) sync() {
	for i, g := range s.opt.Groups() {
		s.lr[i] = g.LR
	}
}

func (s *ReduceLROnPlateau) better(a float64) bool {
	switch {
	case s.cfg.Mode == "min" && s.cfg.ThresholdMode == "rel":
		return a < s.best*(1-s.cfg.Threshold)
	case s.cfg.Mode == "min":
		return a < s.best-s.cfg.Threshold
	case s.cfg.ThresholdMode == "rel":
		return a > s.best*(s.cfg.Threshold+1)
	}
	return a > s.best+s.cfg.Threshold
}

// StepMetric records one epoch's metric and reduces the LRs if it has not
// improved for more than Patience epochs (outside a cooldown), as
// scheduler.step(metric).
func (s *ReduceLROnPlateau) StepMetric(v float64) {
	s.last++
	if s.better(v) {
		s.best, s.bad = v, 0
	} else {
		s.bad++
	}
	if s.cooldown > 0 {
		s.cooldown--
		s.bad = 0 // bad epochs in cooldown do not count
	}
	if s.bad > s.cfg.Patience {
		for _, g := range s.opt.Groups() {
			nl := max(g.LR*s.cfg.Factor, s.cfg.MinLR)
			if g.LR-nl > s.cfg.Eps {
				g.LR = nl
			}
		}
		s.cooldown, s.bad = s.cfg.Cooldown, 0
	}
	s.sync()
}

// LR returns each group's current learning rate. The slice is reused.
func (s *ReduceLROnPlateau) LR() []float64 { return s.lr }

// StateDict returns the scheduler's counters and best metric.
func (s *ReduceLROnPlateau) StateDict() SchedulerState {
	st := SchedulerState{Kind: "plateau", LastEpoch: s.last, LastLRs: append([]float64(nil), s.lr...),
		NumBadEpochs: s.bad, CooldownCounter: s.cooldown}
	if !math.IsInf(s.best, 0) {
		b := s.best
		st.Best = &b
	}
	return st
}

// LoadStateDict restores counters saved by StateDict and writes the saved
// LRs into the groups.
func (s *ReduceLROnPlateau) LoadStateDict(st SchedulerState) error {
	gs := s.opt.Groups()
	if st.Kind != "plateau" {
		return fmt.Errorf("optim: ReduceLROnPlateau: LoadStateDict of a %q state", st.Kind)
	}
	if len(st.LastLRs) != len(gs) {
		return fmt.Errorf("optim: ReduceLROnPlateau: state for %d groups, optimizer has %d", len(st.LastLRs), len(gs))
	}
	s.last, s.bad, s.cooldown = st.LastEpoch, st.NumBadEpochs, st.CooldownCounter
	s.best = s.worst()
	if st.Best != nil {
		s.best = *st.Best
	}
	for i, g := range gs {
		g.LR = st.LastLRs[i]
	}
	s.sync()
	return nil
}
