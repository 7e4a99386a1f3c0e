package optim

import (
	"math"

	"github.com/shenml/shen/tensor"
)

// AdamConfig holds the hyperparameters of torch.optim.Adam and AdamW.
type AdamConfig struct {
	LR          float64 // learning rate, >= 0
	Beta1       float64 // decay of the first moment, in [0, 1)
	Beta2       float64 // decay of the second moment, in [0, 1)
	Eps         float64 // added to the denominator, > 0
	WeightDecay float64 // Adam: L2 penalty added to the gradient; AdamW: decoupled decay; >= 0
	AMSGrad     bool    // use the running maximum of the second moment
}

// DefaultAdamConfig returns torch.optim.Adam's defaults: LR 1e-3, betas
// (0.9, 0.999), eps 1e-8, no weight decay.
func DefaultAdamConfig() AdamConfig {
	return AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// DefaultAdamWConfig returns torch.optim.AdamW's defaults: Adam's with
// weight decay 1e-2.
func DefaultAdamWConfig() AdamConfig {
	c := DefaultAdamConfig()
	c.WeightDecay = 1e-2
	return c
}

// Group returns a parameter group of params with c's hyperparameters, for
// NewAdamGroups and NewAdamWGroups.
func (c AdamConfig) Group(params []*tensor.Tensor) *Group {
	return &Group{Params: params, Hyper: Hyper{LR: c.LR, Beta1: c.Beta1, Beta2: c.Beta2, Eps: c.Eps,
		WeightDecay: c.WeightDecay, AMSGrad: c.AMSGrad}}
}

func checkAdam(h *Hyper) error {
	if err := nonNeg("learning rate", h.LR); err != nil {
		return err
	}
	// torch accepts eps == 0; we do not, because it turns a zero gradient
	// into 0/0 and because a zero Eps is the mark of a config that was not
	// started from DefaultAdamConfig.
	if err := positive("epsilon", h.Eps, " (start from DefaultAdamConfig)"); err != nil {
		return err
	}
	if err := unit("beta1", h.Beta1); err != nil {
		return err
	}
	if err := unit("beta2", h.Beta2); err != nil {
		return err
	}
	return nonNeg("weight_decay", h.WeightDecay)
}

// Adam is the Adam optimizer (torch.optim.Adam), or AdamW
// (torch.optim.AdamW) with decoupled weight decay when made by NewAdamW.
// State: exp_avg and exp_avg_sq per parameter, plus max_exp_avg_sq with
// AMSGrad (8 or 12 bytes per parameter element), and a step count.
type Adam struct {
	base
	decoupled bool
	job       adamJob
	run       func(lo, hi int)
}

// NewAdam returns Adam over params, one group with cfg's hyperparameters.
// It returns an error for an invalid config or parameter list.
func NewAdam(params []*tensor.Tensor, cfg AdamConfig) (*Adam, error) {
	return newAdam("adam", false, []*Group{cfg.Group(params)})
}

// NewAdamGroups returns Adam over parameter groups, each with its own
// hyperparameters (build them with AdamConfig.Group).
func NewAdamGroups(groups ...*Group) (*Adam, error) { return newAdam("adam", false, groups) }

// NewAdamW returns AdamW over params: Adam whose weight decay shrinks the
// parameters directly (w *= 1 - lr*wd) instead of adding to the gradient.
// Start from DefaultAdamWConfig for torch's decay of 1e-2.
func NewAdamW(params []*tensor.Tensor, cfg AdamConfig) (*Adam, error) {
	return newAdam("adamw", true, []*Group{cfg.Group(params)})
}

// NewAdamWGroups returns AdamW over parameter groups, each with its own
// hyperparameters.
func NewAdamWGroups(groups ...*Group) (*Adam, error) { return newAdam("adamw", true, groups) }

func newAdam(kind string, decoupled bool, groups []*Group) (*Adam, error) {
	o := &Adam{decoupled: decoupled}
	if err := o.init(kind, groups, []string{"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}, true, checkAdam); err != nil {
		return nil, err
	}
	o.run = o.job.run
	return o, nil
}

// Step applies one Adam (or AdamW) update (see Optimizer). Per element, in
// torch's order: g += wd*w (Adam) or w *= 1-lr*wd (AdamW);
// m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g; w -= step_size*m/denom with
// denom = sqrt(v)/sqrt(1-b2^t) + eps and step_size = lr/(1-b1^t).
func (o *Adam) Step() {
	o.each(func(i int, h *Hyper, w, g []float32) {
		o.steps[i]++
		t := float64(o.steps[i])
		bc1 := 1 - math.Pow(h.Beta1, t)
		bc2 := 1 - math.Pow(h.Beta2, t)
		stepSize := h.LR / bc1
		j := &o.job
		*j = adamJob{w: w, g: g,
			b1: float32(h.Beta1), c1: float32(1 - h.Beta1),
			b2: float32(h.Beta2), c2: float32(1 - h.Beta2),
			nss: float32(-stepSize), bc2s: float32(math.Sqrt(bc2)), eps: float32(h.Eps),
			wd: float32(h.WeightDecay), decay: float32(1 - h.LR*h.WeightDecay)}
		j.l2 = !o.decoupled && h.WeightDecay != 0
		j.decoupled = o.decoupled
		j.m, _ = o.buf(0, i, len(w))
		j.v, _ = o.buf(1, i, len(w))
		if h.AMSGrad {
			j.vmax, _ = o.buf(2, i, len(w))
		}
		forRange(len(w), o.run)
		*j = adamJob{}
	})
}

type adamJob struct {
	w, g, m, v, vmax               []float32
	b1, c1, b2, c2, nss, bc2s, eps float32
	wd, decay                      float32
	l2, decoupled                  bool
}

func (j *adamJob) run(lo, hi int) {
	w := j.w[lo:hi]
	g, m, v := j.g[lo:hi], j.m[lo:hi], j.v[lo:hi]
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	var vmax []float32
	if j.vmax != nil {
		vmax = j.vmax[lo:hi]
		vmax = vmax[:len(w)]
	}
	start := 0
	if vmax == nil {
		wd := float32(0)
		if j.l2 {
			wd = j.wd
		}
		decay := float32(1)
		if j.decoupled {
			decay = j.decay
		}
		p := adamParams{b1: j.b1, c1: j.c1, b2: j.b2, c2: j.c2, nss: j.nss, bc2s: j.bc2s, eps: j.eps, wd: wd, decay: decay}
		start = adamVector(w, g, m, v, &p)
	}
	for i := start; i < len(w); i++ {
		gi := g[i]
		wi := w[i]
		if j.l2 {
			gi = fma(j.wd, wi, gi)
		} else if j.decoupled {
			wi = float32(wi * j.decay)
		}
		mi := fma(j.c1, gi, float32(m[i]*j.b1))
		vi := fma(float32(j.c2*gi), gi, float32(v[i]*j.b2))
		m[i], v[i] = mi, vi
		if vmax != nil {
			vi = max(vmax[i], vi)
			vmax[i] = vi
		}
		den := float32(sqrt32(vi)/j.bc2s) + j.eps
		w[i] = wi + float32(float32(j.nss*mi)/den)
	}
}
