package optim

import "github.com/shenml/shen/tensor"

// RMSpropConfig holds the hyperparameters of torch.optim.RMSprop.
type RMSpropConfig struct {
	LR          float64 // learning rate, >= 0
	Alpha       float64 // smoothing constant of the squared-gradient average, >= 0
	Eps         float64 // added to the denominator, > 0
	WeightDecay float64 // L2 penalty added to the gradient, >= 0
	Momentum    float64 // momentum factor, >= 0
	Centered    bool    // normalise by the estimated variance instead of the second moment
}

// DefaultRMSpropConfig returns torch.optim.RMSprop's defaults: LR 1e-2,
// alpha 0.99, eps 1e-8, no weight decay or momentum, not centered.
func DefaultRMSpropConfig() RMSpropConfig {
	return RMSpropConfig{LR: 1e-2, Alpha: 0.99, Eps: 1e-8}
}

// Group returns a parameter group of params with c's hyperparameters, for
// NewRMSpropGroups.
func (c RMSpropConfig) Group(params []*tensor.Tensor) *Group {
	return &Group{Params: params, Hyper: Hyper{LR: c.LR, Alpha: c.Alpha, Eps: c.Eps,
		WeightDecay: c.WeightDecay, Momentum: c.Momentum, Centered: c.Centered}}
}

func checkRMSprop(h *Hyper) error {
	if err := nonNeg("learning rate", h.LR); err != nil {
		return err
	}
	// torch accepts eps == 0; see checkAdam for why we do not.
	if err := positive("epsilon", h.Eps, " (start from DefaultRMSpropConfig)"); err != nil {
		return err
	}
	if err := nonNeg("momentum", h.Momentum); err != nil {
		return err
	}
	if err := nonNeg("weight_decay", h.WeightDecay); err != nil {
		return err
	}
	return nonNeg("alpha", h.Alpha)
}

// RMSprop is torch.optim.RMSprop. State: square_avg per parameter, plus
// momentum_buffer with Momentum > 0 and grad_avg when Centered (4 to 12
// bytes per parameter element), and a step count.
type RMSprop struct {
	base
	job rmsJob
	run func(lo, hi int)
}

// NewRMSprop returns RMSprop over params, one group with cfg's
// hyperparameters. It returns an error for an invalid config or parameter list.
func NewRMSprop(params []*tensor.Tensor, cfg RMSpropConfig) (*RMSprop, error) {
	return NewRMSpropGroups(cfg.Group(params))
}

// NewRMSpropGroups returns RMSprop over parameter groups, each with its own
// hyperparameters (build them with RMSpropConfig.Group).
func NewRMSpropGroups(groups ...*Group) (*RMSprop, error) {
	o := &RMSprop{}
	if err := o.init("rmsprop", groups, []string{"square_avg", "momentum_buffer", "grad_avg"}, true, checkRMSprop); err != nil {
		return nil, err
	}
	o.run = o.job.run
	return o, nil
}

// Step applies one RMSprop update (see Optimizer). Per element, in torch's
// order: g += wd*w; s = alpha*s + (1-alpha)*g*g; avg = sqrt(s - ga*ga) with
// ga = alpha*ga + (1-alpha)*g when centered, else sqrt(s); avg += eps;
// buf = mom*buf + g/avg and w -= lr*buf with momentum, else w -= lr*g/avg.
func (o *RMSprop) Step() {
	o.each(func(i int, h *Hyper, w, g []float32) {
		o.steps[i]++
		j := &o.job
		*j = rmsJob{w: w, g: g, wd: float32(h.WeightDecay), l2: h.WeightDecay != 0,
			a: float32(h.Alpha), c: float32(1 - h.Alpha), eps: float32(h.Eps),
			mom: float32(h.Momentum), lr: float32(-h.LR)}
		j.sq, _ = o.buf(0, i, len(w))
		if h.Momentum > 0 {
			j.buf, _ = o.buf(1, i, len(w))
		}
		if h.Centered {
			j.ga, _ = o.buf(2, i, len(w))
		}
		forRange(len(w), o.run)
		*j = rmsJob{}
	})
}

type rmsJob struct {
	w, g, sq, buf, ga      []float32
	wd, a, c, eps, mom, lr float32
	l2                     bool
}

func (j *rmsJob) run(lo, hi int) {
	w := j.w[lo:hi]
	g, sq := j.g[lo:hi], j.sq[lo:hi]
	g, sq = g[:len(w)], sq[:len(w)]
	for i := range w {
		gi := g[i]
		if j.l2 {
			gi = fma(j.wd, w[i], gi)
		}
		s := fma(float32(j.c*gi), gi, float32(sq[i]*j.a))
		sq[i] = s
		var avg float32
		if j.ga != nil {
			ga := fma(j.c, gi, float32(j.ga[lo+i]*j.a))
			j.ga[lo+i] = ga
			avg = sqrt32(fma(-ga, ga, s)) // addcmul(ga, ga, value=-1)
		} else {
			avg = sqrt32(s)
		}
		avg += j.eps
		if j.buf != nil {
			b := float32(j.buf[lo+i]*j.mom) + float32(gi/avg)
			j.buf[lo+i] = b
			w[i] = fma(j.lr, b, w[i])
		} else {
			w[i] += float32(float32(j.lr*gi) / avg)
		}
	}
}
