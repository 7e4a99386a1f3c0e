package optim

import (
	"fmt"
	"math"
	"sort"
)

// Scheduler changes the learning rate of every group of an optimizer over
// time, as torch.optim.lr_scheduler's schedulers. A new scheduler sets the
// LR for step 0 at once, as torch's constructors do; call Step after each
// optimizer Step, once per epoch or once per batch as the schedule's
// lengths are counted (each constructor says which it assumes). Step costs
// O(groups) and allocates nothing.
//
// ReduceLROnPlateau is not a Scheduler: it steps on a metric (StepMetric).
type Scheduler interface {
	// Step advances the schedule by one and writes the new LR into every group.
	Step()
	// LR returns the current learning rate of each group, as
	// get_last_lr(). The slice is reused; do not modify it.
	LR() []float64
	// StateDict returns the schedule's position, as state_dict().
	StateDict() SchedulerState
	// LoadStateDict restores a position saved by StateDict of a scheduler
	// built with the same arguments, and writes its LRs into the groups.
	LoadStateDict(s SchedulerState) error
}

// SchedulerState is a serialisable snapshot of a scheduler (JSON with
// encoding/json).
type SchedulerState struct {
	Kind      string    `json:"kind"`
	LastEpoch int       `json:"last_epoch"`
	BaseLRs   []float64 `json:"base_lrs"`
	LastLRs   []float64 `json:"last_lrs"`
	// ReduceLROnPlateau only. Best is nil while no metric has been seen
	// (torch's ±inf, which JSON cannot hold).
	Best            *float64 `json:"best,omitempty"`
	NumBadEpochs    int      `json:"num_bad_epochs,omitempty"`
	CooldownCounter int      `json:"cooldown_counter,omitempty"`
}

// schedule is what the epoch-counting schedulers share. next computes the
// LR of group g at s.last from its current LR, as torch's get_lr does:
// several schedules are recursive in the current LR, and following that
// recursion is what makes them agree with torch to the bit.
type schedule struct {
	kind string
	opt  Optimizer
	base []float64
	lr   []float64
	last int
	next func(g int, cur float64) float64
}

func (s *schedule) init(kind string, opt Optimizer, next func(g int, cur float64) float64) {
	s.kind, s.opt, s.next = kind, opt, next
	gs := opt.Groups()
	s.base = make([]float64, len(gs))
	s.lr = make([]float64, len(gs))
	for i, g := range gs {
		s.base[i] = g.LR
	}
	s.last = -1
	s.Step() // torch's _initial_step: the LR for epoch 0
}

// Step advances the schedule (see Scheduler).
func (s *schedule) Step() {
	s.last++
	for i, g := range s.opt.Groups() {
		g.LR = s.next(i, g.LR)
	}
	s.sync()
}

func (s *schedule) sync() {
	for i, g := range s.opt.Groups() {
		s.lr[i] = g.LR
	}
}

// LR returns each group's current learning rate (see Scheduler).
func (s *schedule) LR() []float64 { return s.lr }

// StateDict returns the schedule's position (see Scheduler).
func (s *schedule) StateDict() SchedulerState {
	return SchedulerState{Kind: s.kind, LastEpoch: s.last,
		BaseLRs: append([]float64(nil), s.base...), LastLRs: append([]float64(nil), s.lr...)}
}

// LoadStateDict restores a saved position (see Scheduler).
func (s *schedule) LoadStateDict(st SchedulerState) error {
	if st.Kind != s.kind {
		return fmt.Errorf("optim: %s scheduler: LoadStateDict of a %q state", s.kind, st.Kind)
	}
	gs := s.opt.Groups()
	if len(st.BaseLRs) != len(gs) || len(st.LastLRs) != len(gs) {
		return fmt.Errorf("optim: %s scheduler: state for %d groups, optimizer has %d", s.kind, len(st.BaseLRs), len(gs))
	}
	if st.LastEpoch < 0 {
		return fmt.Errorf("optim: %s scheduler: negative last epoch %d", s.kind, st.LastEpoch)
	}
	s.last = st.LastEpoch
	copy(s.base, st.BaseLRs)
	for i, g := range gs {
		g.LR = st.LastLRs[i]
	}
	s.sync()
	return nil
}

func finitePositive(what string, v float64) error {
	if !(v > 0) || math.IsInf(v, 1) {
		return fmt.Errorf("optim: %s must be a finite number > 0, got %v", what, v)
	}
	return nil
}

// StepLR multiplies every group's LR by Gamma every StepSize steps, as
// torch.optim.lr_scheduler.StepLR. Steps are usually epochs.
type StepLR struct {
	schedule
	stepSize int
	gamma    float64
}

// NewStepLR returns a StepLR over opt's groups, starting from their
// current LRs. It returns an error unless stepSize >= 1 and gamma > 0.
func NewStepLR(opt Optimizer, stepSize int, gamma float64) (*StepLR, error) {
	if stepSize < 1 {
		return nil, fmt.Errorf("optim: StepLR: step size must be >= 1, got %d", stepSize)
	}
	if err := finitePositive("StepLR gamma", gamma); err != nil {
		return nil, err
	}
	s := &StepLR{stepSize: stepSize, gamma: gamma}
	s.init("step", opt, s.at)
	return s, nil
}

func (s *StepLR) at(_ int, cur float64) float64 {
	if s.last == 0 || s.last%s.stepSize != 0 {
		return cur
	}
	return cur * s.gamma
}

// MultiStepLR multiplies every group's LR by Gamma at each milestone step
// (a milestone listed k times multiplies by Gamma^k), as
// torch.optim.lr_scheduler.MultiStepLR. Steps are usually epochs.
type MultiStepLR struct {
	schedule
	count map[int]int
	gamma float64
}

// NewMultiStepLR returns a MultiStepLR over opt's groups. It returns an
// error for a negative milestone or gamma <= 0.
func NewMultiStepLR(opt Optimizer, milestones []int, gamma float64) (*MultiStepLR, error) {
	if err := finitePositive("MultiStepLR gamma", gamma); err != nil {
		return nil, err
	}
	s := &MultiStepLR{count: map[int]int{}, gamma: gamma}
	ms := append([]int(nil), milestones...)
	sort.Ints(ms)
	for _, m := range ms {
		if m < 0 {
			return nil, fmt.Errorf("optim: MultiStepLR: negative milestone %d", m)
		}
		s.count[m]++
	}
	s.init("multistep", opt, s.at)
	return s, nil
}

func (s *MultiStepLR) at(_ int, cur float64) float64 {
	c := s.count[s.last]
	if c == 0 {
		return cur
	}
	return cur * math.Pow(s.gamma, float64(c))
}

// ExponentialLR multiplies every group's LR by Gamma each step, as
// torch.optim.lr_scheduler.ExponentialLR.
type ExponentialLR struct {
	schedule
	gamma float64
}

// NewExponentialLR returns an ExponentialLR over opt's groups. It returns
// an error unless gamma > 0.
func NewExponentialLR(opt Optimizer, gamma float64) (*ExponentialLR, error) {
	if err := finitePositive("ExponentialLR gamma", gamma); err != nil {
		return nil, err
	}
	s := &ExponentialLR{gamma: gamma}
	s.init("exponential", opt, s.at)
	return s, nil
}

func (s *ExponentialLR) at(_ int, cur float64) float64 {
	if s.last == 0 {
		return cur
	}
	return cur * s.gamma
}

// CosineAnnealingLR anneals every group's LR from its initial value to
// EtaMin along half a cosine over TMax steps, then back up over the next
// TMax and so on, as torch.optim.lr_scheduler.CosineAnnealingLR, with
// torch's recursive update so values match it to the last bit.
type CosineAnnealingLR struct {
	schedule
	tMax   int
	etaMin float64
}

// NewCosineAnnealingLR returns a CosineAnnealingLR over opt's groups. It
// returns an error unless tMax >= 1 and etaMin >= 0.
func NewCosineAnnealingLR(opt Optimizer, tMax int, etaMin float64) (*CosineAnnealingLR, error) {
	if tMax < 1 {
		return nil, fmt.Errorf("optim: CosineAnnealingLR: T_max must be >= 1, got %d", tMax)
	}
	if !(etaMin >= 0) {
		return nil, fmt.Errorf("optim: CosineAnnealingLR: eta_min must be >= 0, got %v", etaMin)
	}
	s := &CosineAnnealingLR{tMax: tMax, etaMin: etaMin}
	s.init("cosine", opt, s.at)
	return s, nil
}

func (s *CosineAnnealingLR) at(g int, cur float64) float64 {
	t, T := float64(s.last), float64(s.tMax)
	switch {
	case s.last == 0:
		return cur
	case mod(s.last-1-s.tMax, 2*s.tMax) == 0:
		return cur + (s.base[g]-s.etaMin)*(1-math.Cos(math.Pi/T))/2
	}
	return (1+math.Cos(math.Pi*t/T))/(1+math.Cos(math.Pi*(t-1)/T))*(cur-s.etaMin) + s.etaMin
}

// mod is Python's %: the result has the sign of m.
func mod(a, m int) int { return ((a % m) + m) % m }

// WarmupCosine configures a WarmupCosineLR.
type WarmupCosine struct {
	WarmupSteps int     // steps of linear warmup from 0 to each group's LR
	TotalSteps  int     // steps at which the cosine reaches MinLR
	MinLR       float64 // the floor of the cosine, for every group
}

// WarmupCosineLR is linear warmup followed by cosine decay, the schedule of
// Hugging Face transformers' get_cosine_schedule_with_warmup (a
// torch LambdaLR); with MinLR > 0 the decay ends at MinLR as
// get_cosine_with_min_lr_schedule_with_warmup does (there with
// min_lr_rate = MinLR / the group's LR). Steps are batches. Past TotalSteps
// the LR stays at MinLR, where transformers' cosine would rise again.
type WarmupCosineLR struct {
	schedule
	cfg WarmupCosine
}

// NewWarmupCosine returns a WarmupCosineLR over opt's groups, whose current
// LRs are the peak. It returns an error unless 0 <= WarmupSteps <=
// TotalSteps, TotalSteps > 0, and 0 <= MinLR <= every group's LR.
func NewWarmupCosine(opt Optimizer, cfg WarmupCosine) (*WarmupCosineLR, error) {
	if cfg.WarmupSteps < 0 || cfg.TotalSteps <= 0 || cfg.WarmupSteps > cfg.TotalSteps {
		return nil, fmt.Errorf("optim: WarmupCosine: need 0 <= WarmupSteps <= TotalSteps and TotalSteps > 0, got %d and %d", cfg.WarmupSteps, cfg.TotalSteps)
	}
	for i, g := range opt.Groups() {
		if !(cfg.MinLR >= 0) || cfg.MinLR > g.LR {
			return nil, fmt.Errorf("optim: WarmupCosine: MinLR %v must be in [0, LR] (group %d has LR %v)", cfg.MinLR, i, g.LR)
		}
	}
	s := &WarmupCosineLR{cfg: cfg}
	s.init("warmup_cosine", opt, s.at)
	return s, nil
}

func (s *WarmupCosineLR) at(g int, _ float64) float64 {
	base, step := s.base[g], s.last
	if step < s.cfg.WarmupSteps {
		return base * (float64(step) / float64(max(1, s.cfg.WarmupSteps)))
	}
	step = min(step, s.cfg.TotalSteps)
	progress := float64(step-s.cfg.WarmupSteps) / float64(max(1, s.cfg.TotalSteps-s.cfg.WarmupSteps))
	factor := 0.5 * (1.0 + math.Cos(math.Pi*0.5*2.0*progress))
	if s.cfg.MinLR > 0 {
		rate := s.cfg.MinLR / base
		factor = factor*(1-rate) + rate
	}
	return base * max(0, factor)
}

// OneCycle configures a OneCycleLR. Zero fields take torch's defaults,
// given in brackets (none of them can usefully be zero).
type OneCycle struct {
	// MaxLR is the peak LR: one value for every group or one per group.
	MaxLR []float64
	// TotalSteps is the length of the cycle, in batches.
	TotalSteps int
	// PctStart is the fraction of the cycle spent rising [0.3].
	PctStart float64
	// AnnealLinear anneals linearly instead of along a cosine.
	AnnealLinear bool
	// DivFactor sets the initial LR = MaxLR/DivFactor [25].
	DivFactor float64
	// FinalDivFactor sets the final LR = initial/FinalDivFactor [1e4].
	FinalDivFactor float64
	// ThreePhase falls back to the initial LR before the final annealing,
	// as torch's three_phase.
	ThreePhase bool
	// CycleMomentum cycles momentum inversely to the LR between
	// MaxMomentum [0.95] and BaseMomentum [0.85]: SGD's and RMSprop's
	// Momentum or Adam's Beta1. Off unless asked (torch's default is on).
	CycleMomentum             bool
	BaseMomentum, MaxMomentum float64
}

// OneCycleLR is the 1cycle policy, as torch.optim.lr_scheduler.OneCycleLR:
// the LR rises from MaxLR/DivFactor to MaxLR over PctStart of the cycle,
// then anneals to the initial LR/FinalDivFactor. Step once per batch.
// As in torch, step TotalSteps (one past the cycle, reached by the last
// Step of a loop that steps once per batch) extrapolates the anneal; later
// steps, where torch raises an error, hold the cycle's final LR.
type OneCycleLR struct {
	schedule
	cfg            OneCycle
	initial, maxLR []float64
	minLR          []float64
	phases         []cyclePhase
	beta1          bool // cycle Adam's Beta1 rather than Momentum
}

type cyclePhase struct {
	end              float64
	startLR, endLR   int // 0 initial, 1 max, 2 min
	startMom, endMom int // 0 max momentum, 1 base momentum
}

// NewOneCycleLR returns a OneCycleLR over opt's groups; it overwrites their
// LRs (and momentum, with CycleMomentum). It returns an error for a
// non-positive TotalSteps or MaxLR, PctStart outside [0, 1], or
// CycleMomentum with an optimizer that has no momentum.
func NewOneCycleLR(opt Optimizer, cfg OneCycle) (*OneCycleLR, error) {
	gs := opt.Groups()
	if cfg.TotalSteps <= 0 {
		return nil, fmt.Errorf("optim: OneCycleLR: TotalSteps must be > 0, got %d", cfg.TotalSteps)
	}
	if len(cfg.MaxLR) != 1 && len(cfg.MaxLR) != len(gs) {
		return nil, fmt.Errorf("optim: OneCycleLR: %d MaxLR values for %d groups", len(cfg.MaxLR), len(gs))
	}
	if cfg.PctStart == 0 {
		cfg.PctStart = 0.3
	}
	if cfg.DivFactor == 0 {
		cfg.DivFactor = 25
	}
	if cfg.FinalDivFactor == 0 {
		cfg.FinalDivFactor = 1e4
	}
	if cfg.BaseMomentum == 0 {
		cfg.BaseMomentum = 0.85
	}
	if cfg.MaxMomentum == 0 {
		cfg.MaxMomentum = 0.95
	}
	if !(cfg.PctStart >= 0 && cfg.PctStart <= 1) {
		return nil, fmt.Errorf("optim: OneCycleLR: PctStart must be in [0, 1], got %v", cfg.PctStart)
	}
	for _, v := range []float64{cfg.DivFactor, cfg.FinalDivFactor} {
		if err := finitePositive("OneCycleLR div factor", v); err != nil {
			return nil, err
		}
	}
	s := &OneCycleLR{cfg: cfg}
	for i := range gs {
		m := cfg.MaxLR[min(i, len(cfg.MaxLR)-1)]
		if err := finitePositive("OneCycleLR MaxLR", m); err != nil {
			return nil, err
		}
		init := m / cfg.DivFactor
		s.initial = append(s.initial, init)
		s.maxLR = append(s.maxLR, m)
		s.minLR = append(s.minLR, init/cfg.FinalDivFactor)
	}
	total := float64(cfg.TotalSteps)
	if cfg.ThreePhase {
		s.phases = []cyclePhase{
			{cfg.PctStart*total - 1, 0, 1, 0, 1},
			{2*cfg.PctStart*total - 2, 1, 0, 1, 0},
			{total - 1, 0, 2, 0, 0},
		}
	} else {
		s.phases = []cyclePhase{
			{cfg.PctStart*total - 1, 0, 1, 0, 1},
			{total - 1, 1, 2, 1, 0},
		}
	}
	if cfg.CycleMomentum {
		switch opt.(type) {
		case *Adam:
			s.beta1 = true
		case *SGD, *RMSprop:
		default:
			return nil, fmt.Errorf("optim: OneCycleLR: CycleMomentum needs an optimizer with momentum (SGD, RMSprop, Adam), got %T", opt)
		}
		for _, g := range gs {
			s.setMomentum(g, cfg.MaxMomentum)
		}
	}
	for i, g := range gs {
		g.LR = s.initial[i] // torch's base LR is initial_lr
	}
	s.init("onecycle", opt, s.at)
	return s, nil
}

func (s *OneCycleLR) setMomentum(g *Group, m float64) {
	if s.beta1 {
		g.Beta1 = m
	} else {
		g.Momentum = m
	}
}

func (s *OneCycleLR) anneal(start, end, pct float64) float64 {
	if s.cfg.AnnealLinear {
		return (end-start)*pct + start
	}
	cosOut := math.Cos(math.Pi*pct) + 1
	return end + (start-end)/2.0*cosOut
}

func (s *OneCycleLR) at(g int, _ float64) float64 {
	step := float64(s.last)
	if s.last > s.cfg.TotalSteps {
		step = float64(s.cfg.TotalSteps - 1) // hold the final LR
	}
	lrs := [3]float64{s.initial[g], s.maxLR[g], s.minLR[g]}
	moms := [2]float64{s.cfg.MaxMomentum, s.cfg.BaseMomentum}
	start := 0.0
	for i, ph := range s.phases {
		if step <= ph.end || i == len(s.phases)-1 {
			pct := (step - start) / (ph.end - start)
			if s.cfg.CycleMomentum {
				s.setMomentum(s.opt.Groups()[g], s.anneal(moms[ph.startMom], moms[ph.endMom], pct))
			}
			return s.anneal(lrs[ph.startLR], lrs[ph.endLR], pct)
		}
		start = ph.end
	}
	panic("unreachable")
}
