package optim

import (
	"fmt"

	"github.com/shenml/shen/tensor"
)

// SGDConfig holds the hyperparameters of torch.optim.SGD.
type SGDConfig struct {
	LR          float64 // learning rate, >= 0
	Momentum    float64 // momentum factor, >= 0
	Dampening   float64 // dampening for momentum
	WeightDecay float64 // L2 penalty added to the gradient, >= 0
	Nesterov    bool    // Nesterov momentum; needs Momentum > 0 and Dampening == 0
}

// DefaultSGDConfig returns torch's SGD defaults with the given learning rate
// (torch has no default LR): no momentum, dampening or weight decay.
func DefaultSGDConfig(lr float64) SGDConfig { return SGDConfig{LR: lr} }

// Group returns a parameter group of params with c's hyperparameters, for
// NewSGDGroups. It costs one small allocation.
func (c SGDConfig) Group(params []*tensor.Tensor) *Group {
	return &Group{Params: params, Hyper: Hyper{LR: c.LR, Momentum: c.Momentum, Dampening: c.Dampening,
		WeightDecay: c.WeightDecay, Nesterov: c.Nesterov}}
}

func checkSGD(h *Hyper) error {
	if err := nonNeg("learning rate", h.LR); err != nil {
		return err
	}
	if err := nonNeg("momentum", h.Momentum); err != nil {
		return err
	}
	if err := nonNeg("weight_decay", h.WeightDecay); err != nil {
		return err
	}
	if h.Nesterov && (h.Momentum <= 0 || h.Dampening != 0) {
		return fmt.Errorf("invalid Nesterov: needs a momentum > 0 and zero dampening (momentum %v, dampening %v)", h.Momentum, h.Dampening)
	}
	return nil
}

// SGD is stochastic gradient descent with optional momentum, Nesterov
// momentum and L2 weight decay, as torch.optim.SGD. State: one momentum
// buffer per parameter when Momentum > 0 (4 bytes per parameter element).
type SGD struct {
	base
	job sgdJob
	run func(lo, hi int)
}

// NewSGD returns SGD over params, one group with cfg's hyperparameters. It
// returns an error for an invalid config or parameter list.
func NewSGD(params []*tensor.Tensor, cfg SGDConfig) (*SGD, error) {
	return NewSGDGroups(cfg.Group(params))
}

// NewSGDGroups returns SGD over parameter groups, each with its own
// hyperparameters (build them with SGDConfig.Group).
func NewSGDGroups(groups ...*Group) (*SGD, error) {
	o := &SGD{}
	if err := o.init("sgd", groups, []string{"momentum_buffer"}, false, checkSGD); err != nil {
		return nil, err
	}
	o.run = o.job.run
	return o, nil
}

// Step applies one SGD update (see Optimizer). For each element, in
// torch's order: d = g + wd*w; buf = mom*buf + (1-dampening)*d (buf = d
// on the first step); d = d + mom*buf if Nesterov else buf; w -= lr*d.
func (o *SGD) Step() {
	o.each(func(i int, h *Hyper, w, g []float32) {
		j := &o.job
		*j = sgdJob{w: w, g: g, wd: float32(h.WeightDecay), hasWD: h.WeightDecay != 0,
			mom: float32(h.Momentum), damp1: float32(1 - h.Dampening), nesterov: h.Nesterov,
			nlr: float32(-h.LR)}
		if h.Momentum != 0 {
			j.buf, j.first = o.buf(0, i, len(w))
		}
		forRange(len(w), o.run)
		*j = sgdJob{}
	})
}

type sgdJob struct {
	w, g, buf              []float32
	wd, mom, damp1, nlr    float32
	hasWD, first, nesterov bool
}

func (j *sgdJob) run(lo, hi int) {
	w, g := j.w[lo:hi], j.g[lo:hi]
	g = g[:len(w)]
	p := sgdParams{damp1: j.damp1, mom: j.mom, nlr: j.nlr}
	if j.hasWD {
		p.wd = j.wd
	}
	if j.buf == nil {
		start := sgdVector(w, g, nil, &p)
		for i := start; i < len(w); i++ {
			d := g[i]
			if j.hasWD {
				d = fma(j.wd, w[i], d)
			}
			w[i] = fma(j.nlr, d, w[i])
		}
		return
	}
	buf := j.buf[lo:hi]
	buf = buf[:len(w)]
	start := 0
	if !j.first { // the first step only copies d into the buffer
		p.mode = 1
		if j.nesterov {
			p.mode = 2
		}
		start = sgdVector(w, g, buf, &p)
	}
	for i := start; i < len(w); i++ {
		d := g[i]
		if j.hasWD {
			d = fma(j.wd, w[i], d)
		}
		var b float32
		if j.first {
			b = d // torch clones d into the new buffer
		} else {
			b = fma(j.damp1, d, float32(buf[i]*j.mom))
		}
		buf[i] = b
		if j.nesterov {
			d = fma(j.mom, b, d)
		} else {
			d = b
		}
		w[i] = fma(j.nlr, d, w[i])
	}
}
