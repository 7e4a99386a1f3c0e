package optim

import (
	"fmt"

	"github.com/shenml/shen/tensor"
)

// AdagradConfig holds the hyperparameters of torch.optim.Adagrad.
type AdagradConfig struct {
	LR                      float64 // learning rate, >= 0
	LRDecay                 float64 // lr_t = LR / (1 + (t-1)*LRDecay), >= 0
	WeightDecay             float64 // L2 penalty added to the gradient, >= 0
	InitialAccumulatorValue float64 // starting value of the squared-gradient sum, >= 0
	Eps                     float64 // added to the denominator, > 0
}

// DefaultAdagradConfig returns torch.optim.Adagrad's defaults: LR 1e-2,
// eps 1e-10, no decay, zero initial accumulator.
func DefaultAdagradConfig() AdagradConfig { return AdagradConfig{LR: 1e-2, Eps: 1e-10} }

// Group returns a parameter group of params with c's hyperparameters, for
// NewAdagradGroups.
func (c AdagradConfig) Group(params []*tensor.Tensor) *Group {
	return &Group{Params: params, Hyper: Hyper{LR: c.LR, LRDecay: c.LRDecay, WeightDecay: c.WeightDecay,
		InitialAccumulatorValue: c.InitialAccumulatorValue, Eps: c.Eps}}
}

func checkAdagrad(h *Hyper) error {
	if err := nonNeg("learning rate", h.LR); err != nil {
		return err
	}
	if err := nonNeg("lr_decay", h.LRDecay); err != nil {
		return err
	}
	if err := nonNeg("weight_decay", h.WeightDecay); err != nil {
		return err
	}
	if err := nonNeg("initial_accumulator_value", h.InitialAccumulatorValue); err != nil {
		return err
	}
	// torch accepts eps == 0; see checkAdam for why we do not.
	return positive("epsilon", h.Eps, " (start from DefaultAdagradConfig)")
}

// Adagrad is torch.optim.Adagrad (dense gradients). State: the sum of
// squared gradients per parameter (4 bytes per element), made at
// construction as torch does, and a step count.
type Adagrad struct {
	base
	job adagradJob
	run func(lo, hi int)
}

// NewAdagrad returns Adagrad over params, one group with cfg's
// hyperparameters. It allocates the sum buffers at once, as torch does,
// and returns an error for an invalid config or parameter list.
func NewAdagrad(params []*tensor.Tensor, cfg AdagradConfig) (*Adagrad, error) {
	return NewAdagradGroups(cfg.Group(params))
}

// NewAdagradGroups returns Adagrad over parameter groups, each with its own
// hyperparameters (build them with AdagradConfig.Group).
func NewAdagradGroups(groups ...*Group) (*Adagrad, error) {
	o := &Adagrad{}
	if err := o.init("adagrad", groups, []string{"sum"}, true, checkAdagrad); err != nil {
		return nil, err
	}
	for gi, g := range o.groups {
		v := float32(g.InitialAccumulatorValue)
		for j, p := range g.Params {
			s, _ := o.buf(0, o.first[gi]+j, p.Numel())
			for k := range s {
				s[k] = v
			}
		}
	}
	o.run = o.job.run
	return o, nil
}

// Step applies one Adagrad update (see Optimizer). Per element, in torch's
// order: g += wd*w; sum += g*g; w -= clr*g/(sqrt(sum)+eps) with
// clr = lr/(1+(t-1)*lr_decay).
func (o *Adagrad) Step() {
	o.each(func(i int, h *Hyper, w, g []float32) {
		o.steps[i]++
		clr := h.LR / (1 + float64(o.steps[i]-1)*h.LRDecay)
		j := &o.job
		*j = adagradJob{w: w, g: g, wd: float32(h.WeightDecay), l2: h.WeightDecay != 0,
			eps: float32(h.Eps), nclr: float32(-clr)}
		j.sum, _ = o.buf(0, i, len(w))
		forRange(len(w), o.run)
		*j = adagradJob{}
	})
}

type adagradJob struct {
	w, g, sum     []float32
	wd, eps, nclr float32
	l2            bool
}

func (j *adagradJob) run(lo, hi int) {
	w := j.w[lo:hi]
	g, sum := j.g[lo:hi], j.sum[lo:hi]
	g, sum = g[:len(w)], sum[:len(w)]
	for i := range w {
		gi := g[i]
		if j.l2 {
			gi = fma(j.wd, w[i], gi)
		}
		s := fma(gi, gi, sum[i])
		sum[i] = s
		std := sqrt32(s) + j.eps
		w[i] += float32(float32(j.nclr*gi) / std)
	}
}

// LoadStateDict replaces the state with a copy of s (see Optimizer). Unlike
// the other optimizers, Adagrad's state always holds every parameter's sum
// (torch makes it at construction), so a state without one is an error.
func (o *Adagrad) LoadStateDict(s State) error {
	for i := range o.params {
		k := fmt.Sprintf("param%d.sum", i)
		if _, ok := s.Buffers[k]; !ok && s.Optimizer == "adagrad" {
			return fmt.Errorf("optim: adagrad: state has no buffer %s", k)
		}
	}
	return o.base.LoadStateDict(s)
}
