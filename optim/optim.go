package optim

import (
	"errors"
	"fmt"
	"math"

	"github.com/shenml/shen/tensor"
)

// Optimizer updates parameters from their gradients, as torch.optim.Optimizer.
type Optimizer interface {
	// Step applies one update to every parameter whose Grad is not nil,
	// as optimizer.step(). It costs one pass over each parameter, its
	// gradient and its state buffers, and allocates only the first time it
	// sees a parameter.
	Step()
	// ZeroGrad fills every parameter's gradient with zeros, keeping its
	// buffer, as optimizer.zero_grad(set_to_none=False). One pass over the
	// gradients.
	ZeroGrad()
	// Groups returns the parameter groups. Their hyperparameters (LR above
	// all, which schedules change) may be changed between steps; their
	// Params must not be changed after construction.
	Groups() []*Group
	// StateDict returns a deep copy of the optimizer's state, as
	// optimizer.state_dict(). It costs a copy of every state buffer.
	StateDict() State
	// LoadStateDict replaces the optimizer's state and the groups'
	// hyperparameters with a copy of s, as optimizer.load_state_dict. It
	// returns an error naming the mismatch when s was saved by another kind
	// of optimizer or for parameters of other sizes.
	LoadStateDict(s State) error
}

// Hyper is the set of hyperparameters of a parameter group: the union of
// what every optimizer in this package reads, as the keys of a torch
// param_group dict. Each optimizer reads only the fields it documents.
type Hyper struct {
	LR          float64 `json:"lr"`
	WeightDecay float64 `json:"weight_decay"`
	// Momentum is SGD's and RMSprop's momentum factor.
	Momentum float64 `json:"momentum,omitempty"`
	// Dampening and Nesterov are SGD's.
	Dampening float64 `json:"dampening,omitempty"`
	Nesterov  bool    `json:"nesterov,omitempty"`
	// Beta1, Beta2 and AMSGrad are Adam's and AdamW's.
	Beta1   float64 `json:"beta1,omitempty"`
	Beta2   float64 `json:"beta2,omitempty"`
	AMSGrad bool    `json:"amsgrad,omitempty"`
	// Eps is added to denominators (Adam, AdamW, RMSprop, Adagrad).
	Eps float64 `json:"eps,omitempty"`
	// Alpha and Centered are RMSprop's.
	Alpha    float64 `json:"alpha,omitempty"`
	Centered bool    `json:"centered,omitempty"`
	// LRDecay and InitialAccumulatorValue are Adagrad's.
	LRDecay                 float64 `json:"lr_decay,omitempty"`
	InitialAccumulatorValue float64 `json:"initial_accumulator_value,omitempty"`
}

// Group is a set of parameters sharing hyperparameters, as one entry of
// torch's optimizer.param_groups.
type Group struct {
	Params []*tensor.Tensor
	Hyper
}

// State is a serialisable snapshot of an optimizer, as torch's
// optimizer.state_dict(). Parameters are numbered in group order from 0, as
// torch numbers them; buffers are keyed "param<i>.<name>" with torch's
// state names (momentum_buffer, exp_avg, exp_avg_sq, max_exp_avg_sq,
// square_avg, grad_avg, sum). A parameter without an entry has no state
// yet. It marshals to JSON with encoding/json, float32 values exactly.
type State struct {
	// Optimizer names the kind: "sgd", "adam", "adamw", "rmsprop", "adagrad".
	Optimizer string `json:"optimizer"`
	// Groups holds each group's hyperparameters and parameter numbers.
	Groups []GroupState `json:"groups"`
	// Step holds each parameter's step count (0: no step taken); nil for SGD,
	// which keeps none.
	Step []int64 `json:"step,omitempty"`
	// Buffers holds the state buffers by "param<i>.<name>".
	Buffers map[string][]float32 `json:"buffers"`
}

// GroupState is one group in a State: its hyperparameters and the numbers
// of its parameters.
type GroupState struct {
	Params []int `json:"params"`
	Hyper
}

// base is what every optimizer shares: the groups, their parameters in one
// flat list, the step counts and the named state buffers.
type base struct {
	kind   string
	groups []*Group
	params []*tensor.Tensor
	first  []int // first[g] is the flat index of group g's first parameter
	steps  []int64
	names  []string
	bufs   [][][]float32 // bufs[k][i]: buffer names[k] of parameter i, nil until used
	check  func(h *Hyper) error
}

// init validates groups and lays out the flat parameter list.
func (b *base) init(kind string, groups []*Group, names []string, keepSteps bool, check func(h *Hyper) error) error {
	if len(groups) == 0 {
		return fmt.Errorf("optim: %s: no parameter groups", kind)
	}
	b.kind, b.names, b.check = kind, names, check
	seen := map[*tensor.Tensor]int{}
	for gi, g := range groups {
		if g == nil {
			return fmt.Errorf("optim: %s: group %d is nil", kind, gi)
		}
		if len(g.Params) == 0 {
			return fmt.Errorf("optim: %s: group %d has no parameters", kind, gi)
		}
		if err := check(&g.Hyper); err != nil {
			return fmt.Errorf("optim: %s: group %d: %w", kind, gi, err)
		}
		// Schedules may later take the rate to 0 (cosine to eta_min 0),
		// but an optimizer that starts at 0 or NaN is a typo: it would
		// never change a weight, or destroy them all.
		if !(g.LR > 0) || math.IsInf(g.LR, 1) {
			return fmt.Errorf("optim: %s: group %d: invalid learning rate %v: must be a finite number > 0", kind, gi, g.LR)
		}
		b.first = append(b.first, len(b.params))
		for pi, p := range g.Params {
			switch {
			case p == nil:
				return fmt.Errorf("optim: %s: group %d parameter %d is nil", kind, gi, pi)
			case !p.IsLeaf():
				return fmt.Errorf("optim: %s: group %d parameter %d is the output of an op, not a leaf", kind, gi, pi)
			case !p.IsContiguous():
				// Data() of a strided view is a copy: updates would be lost.
				return fmt.Errorf("optim: %s: group %d parameter %d (shape %v) is not contiguous", kind, gi, pi, p.Shape())
			case !p.RequiresGrad():
				// It would get no gradient and silently never change.
				return fmt.Errorf("optim: %s: group %d parameter %d (%s) does not require gradients, so it would never change: make it with nn.NewParameter, or leave frozen tensors out of the optimizer", kind, gi, pi, describe(p))
			}
			if g0, ok := seen[p]; ok {
				return fmt.Errorf("optim: %s: a parameter appears in groups %d and %d", kind, g0, gi)
			}
			seen[p] = gi
			b.params = append(b.params, p)
		}
	}
	b.groups = groups
	if keepSteps {
		b.steps = make([]int64, len(b.params))
	}
	b.bufs = make([][][]float32, len(names))
	for k := range names {
		b.bufs[k] = make([][]float32, len(b.params))
	}
	return nil
}

// Groups returns the parameter groups (see Optimizer).
func (b *base) Groups() []*Group { return b.groups }

// ZeroGrad zeroes every gradient in place (see Optimizer).
func (b *base) ZeroGrad() {
	for _, p := range b.params {
		p.ZeroGrad()
	}
}

// each calls fn for every parameter that has a gradient, with its flat
// index, its group, its storage and its gradient's storage.
func (b *base) each(fn func(i int, h *Hyper, w, g []float32)) {
	for gi, grp := range b.groups {
		if b.first[gi]+len(grp.Params) > len(b.params) || (gi+1 < len(b.first) && b.first[gi]+len(grp.Params) != b.first[gi+1]) {
			panic(fmt.Sprintf("optim: %s: the parameters of group %d changed after construction", b.kind, gi))
		}
		for j, p := range grp.Params {
			i := b.first[gi] + j
			if p != b.params[i] {
				panic(fmt.Sprintf("optim: %s: the parameters of group %d changed after construction", b.kind, gi))
			}
			gt := p.Grad()
			if gt == nil {
				continue // torch skips parameters whose grad is None
			}
			if !gt.IsContiguous() {
				gt = gt.Contiguous()
				p.SetGrad(gt)
			}
			w, g := p.Data(), gt.Data()
			if len(g) != len(w) {
				panic(fmt.Sprintf("optim: %s: gradient of %d elements for a parameter of shape %v", b.kind, len(g), p.Shape()))
			}
			fn(i, &grp.Hyper, w, g)
		}
	}
}

// buf returns buffer k of parameter i, allocating it zeroed the first
// time (reporting so): state is made lazily, as torch makes it.
func (b *base) buf(k, i, n int) ([]float32, bool) {
	if s := b.bufs[k][i]; s != nil {
		return s, false
	}
	s := make([]float32, n)
	b.bufs[k][i] = s
	return s, true
}

// StateDict returns a deep copy of the state (see Optimizer).
func (b *base) StateDict() State {
	s := State{Optimizer: b.kind, Buffers: map[string][]float32{}}
	for gi, g := range b.groups {
		gs := GroupState{Hyper: g.Hyper, Params: make([]int, len(g.Params))}
		for j := range g.Params {
			gs.Params[j] = b.first[gi] + j
		}
		s.Groups = append(s.Groups, gs)
	}
	if b.steps != nil {
		s.Step = append([]int64(nil), b.steps...)
	}
	for k, name := range b.names {
		for i, v := range b.bufs[k] {
			if v != nil {
				s.Buffers[fmt.Sprintf("param%d.%s", i, name)] = append([]float32(nil), v...)
			}
		}
	}
	return s
}

// LoadStateDict replaces the state with a copy of s (see Optimizer). On
// error the optimizer is unchanged.
func (b *base) LoadStateDict(s State) error {
	if s.Optimizer != b.kind {
		return fmt.Errorf("optim: %s: LoadStateDict of a %q state", b.kind, s.Optimizer)
	}
	if len(s.Groups) != len(b.groups) {
		return fmt.Errorf("optim: %s: state has %d groups, optimizer %d", b.kind, len(s.Groups), len(b.groups))
	}
	for gi, gs := range s.Groups {
		if len(gs.Params) != len(b.groups[gi].Params) {
			return fmt.Errorf("optim: %s: state group %d has %d parameters, optimizer %d", b.kind, gi, len(gs.Params), len(b.groups[gi].Params))
		}
		for j, idx := range gs.Params {
			if idx != b.first[gi]+j {
				return fmt.Errorf("optim: %s: state group %d numbers its parameter %d as %d, want %d", b.kind, gi, j, idx, b.first[gi]+j)
			}
		}
		h := gs.Hyper
		if err := b.check(&h); err != nil {
			return fmt.Errorf("optim: %s: state group %d: %w", b.kind, gi, err)
		}
	}
	if b.steps != nil && len(s.Step) != len(b.params) {
		return fmt.Errorf("optim: %s: state has %d step counts, optimizer %d parameters", b.kind, len(s.Step), len(b.params))
	}
	bufs := make([][][]float32, len(b.names))
	used := 0
	for k, name := range b.names {
		bufs[k] = make([][]float32, len(b.params))
		for i, p := range b.params {
			v, ok := s.Buffers[fmt.Sprintf("param%d.%s", i, name)]
			if !ok {
				continue
			}
			if len(v) != p.Numel() {
				return fmt.Errorf("optim: %s: state buffer param%d.%s has %d values, parameter shape %v", b.kind, i, name, len(v), p.Shape())
			}
			bufs[k][i] = append([]float32(nil), v...)
			used++
		}
	}
	if used != len(s.Buffers) {
		return fmt.Errorf("optim: %s: state has %d buffers this optimizer does not know", b.kind, len(s.Buffers)-used)
	}
	for gi, gs := range s.Groups {
		b.groups[gi].Hyper = gs.Hyper
	}
	if b.steps != nil {
		copy(b.steps, s.Step)
	}
	b.bufs = bufs
	return nil
}

// Validation helpers shared by the configs.

var errNaN = errors.New("hyperparameter is NaN")

// describe names p for errors: its state-dict path when nn listed it, and its shape.
func describe(p *tensor.Tensor) string {
	if n := p.Name(); n != "" {
		return fmt.Sprintf("%s, shape %v", n, p.Shape())
	}
	return fmt.Sprintf("shape %v", p.Shape())
}

func nonNeg(name string, v float64) error {
	if math.IsNaN(v) {
		return fmt.Errorf("%s: %w", name, errNaN)
	}
	if v < 0 {
		return fmt.Errorf("invalid %s %v: must be >= 0", name, v)
	}
	return nil
}

func positive(name string, v float64, hint string) error {
	if math.IsNaN(v) || v <= 0 {
		return fmt.Errorf("invalid %s %v: must be > 0%s", name, v, hint)
	}
	return nil
}

func unit(name string, v float64) error {
	if math.IsNaN(v) || v < 0 || v >= 1 {
		return fmt.Errorf("invalid %s %v: must be in [0, 1)", name, v)
	}
	return nil
}

// fma returns a*b+c rounded once, as torch's vectorised CPU kernels compute
// add(alpha) and addcmul. math.FMA is a single instruction where the CPU
// has FMA; the float32 inputs make the float64 product exact.
func fma(a, b, c float32) float32 {
	return float32(math.FMA(float64(a), float64(b), float64(c)))
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// The optimizers and schedulers satisfy their interfaces.
var (
	_ Optimizer = (*SGD)(nil)
	_ Optimizer = (*Adam)(nil)
	_ Optimizer = (*RMSprop)(nil)
	_ Optimizer = (*Adagrad)(nil)
	_ Scheduler = (*StepLR)(nil)
	_ Scheduler = (*MultiStepLR)(nil)
	_ Scheduler = (*ExponentialLR)(nil)
	_ Scheduler = (*CosineAnnealingLR)(nil)
	_ Scheduler = (*WarmupCosineLR)(nil)
	_ Scheduler = (*OneCycleLR)(nil)
)
