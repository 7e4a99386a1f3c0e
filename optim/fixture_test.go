package optim

import (
	"math"
	"testing"

	"github.com/shenml/shen/internal/golden"
	"github.com/shenml/shen/tensor"
)

// The golden fixtures come from testdata/torch/gen_optim.py (PyTorch 1.13).

type optCase struct {
	Name    string         `json:"name"`
	Kind    string         `json:"kind"`
	Config  map[string]any `json:"config"`
	Shapes  [][]int        `json:"shapes"`
	Params0 [][]float32    `json:"params0"`
	Grads   [][][]float32  `json:"grads"`
	Params  [][][]float32  `json:"params"`
	Groups  []struct {
		Params    []int          `json:"params"`
		Overrides map[string]any `json:"overrides"`
	} `json:"groups"`
}

type schedCase struct {
	Name     string         `json:"name"`
	Kind     string         `json:"kind"`
	Args     map[string]any `json:"args"`
	BaseLRs  []float64      `json:"base_lrs"`
	LRs      [][]float64    `json:"lrs"`
	Momentum [][]float64    `json:"momentum"`
	Metrics  []float64      `json:"metrics"`
}

type clipCase struct {
	Name      string      `json:"name"`
	MaxNorm   float64     `json:"max_norm"`
	NormType  any         `json:"norm_type"`
	ClipValue float64     `json:"clip_value"`
	Shapes    [][]int     `json:"shapes"`
	Grads0    [][]float32 `json:"grads0"`
	Total     float64     `json:"total_norm"`
	Grads     [][]float32 `json:"grads"`
}

type fixtures struct {
	Torch      string      `json:"torch"`
	Optimizers []optCase   `json:"optimizers"`
	Schedules  []schedCase `json:"schedules"`
	Clip       []clipCase  `json:"clip"`
}

func loadFixtures(t testing.TB) *fixtures {
	t.Helper()
	var f fixtures
	if err := golden.LoadInto("optim", &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

func num(m map[string]any, k string, def float64) float64 {
	if v, ok := m[k]; ok {
		return v.(float64)
	}
	return def
}

func flag(m map[string]any, k string) bool {
	v, ok := m[k]
	return ok && v.(bool)
}

// hyperFor applies a torch config dict (plus overrides) over torch's
// defaults for kind.
func hyperFor(kind string, cfgs ...map[string]any) Hyper {
	m := map[string]any{}
	for _, c := range cfgs {
		for k, v := range c {
			m[k] = v
		}
	}
	h := Hyper{LR: num(m, "lr", 0), WeightDecay: num(m, "weight_decay", 0)}
	switch kind {
	case "sgd":
		h.Momentum, h.Dampening, h.Nesterov = num(m, "momentum", 0), num(m, "dampening", 0), flag(m, "nesterov")
	case "adam", "adamw":
		h.Beta1, h.Beta2, h.Eps, h.AMSGrad = 0.9, 0.999, num(m, "eps", 1e-8), flag(m, "amsgrad")
		if b, ok := m["betas"].([]any); ok {
			h.Beta1, h.Beta2 = b[0].(float64), b[1].(float64)
		}
		if kind == "adamw" {
			h.WeightDecay = num(m, "weight_decay", 1e-2)
		}
	case "rmsprop":
		h.Alpha, h.Eps, h.Momentum, h.Centered = num(m, "alpha", 0.99), num(m, "eps", 1e-8), num(m, "momentum", 0), flag(m, "centered")
	case "adagrad":
		h.LRDecay, h.InitialAccumulatorValue, h.Eps = num(m, "lr_decay", 0), num(m, "initial_accumulator_value", 0), num(m, "eps", 1e-10)
	}
	return h
}

func newOpt(kind string, groups []*Group) (Optimizer, error) {
	switch kind {
	case "sgd":
		return NewSGDGroups(groups...)
	case "adam":
		return NewAdamGroups(groups...)
	case "adamw":
		return NewAdamWGroups(groups...)
	case "rmsprop":
		return NewRMSpropGroups(groups...)
	case "adagrad":
		return NewAdagradGroups(groups...)
	}
	panic(kind)
}

func params(shapes [][]int, data [][]float32) []*tensor.Tensor {
	ps := make([]*tensor.Tensor, len(shapes))
	for i, s := range shapes {
		ps[i] = tensor.FromSlice(append([]float32(nil), data[i]...), s...).SetRequiresGrad(true)
	}
	return ps
}

func setGrads(ps []*tensor.Tensor, gs [][]float32) {
	for i, p := range ps {
		if p.Grad() == nil {
			p.SetGrad(tensor.Zeros(p.Shape()...))
		}
		copy(p.Grad().Data(), gs[i])
	}
}

func buildCase(t testing.TB, c *optCase) ([]*tensor.Tensor, Optimizer) {
	ps := params(c.Shapes, c.Params0)
	var groups []*Group
	if c.Groups == nil {
		groups = []*Group{{Params: ps, Hyper: hyperFor(c.Kind, c.Config)}}
	} else {
		for _, g := range c.Groups {
			grp := &Group{Hyper: hyperFor(c.Kind, c.Config, g.Overrides)}
			for _, i := range g.Params {
				grp.Params = append(grp.Params, ps[i])
			}
			groups = append(groups, grp)
		}
	}
	opt, err := newOpt(c.Kind, groups)
	if err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	return ps, opt
}

// close32 reports whether got is within rel of want, relative to
// max(|want|, 1e-3): values near zero are compared on the scale of the
// parameters rather than of their own last bits.
func close32(got, want float32, rel float64) bool {
	d := math.Abs(float64(got) - float64(want))
	return d <= rel*math.Max(math.Abs(float64(want)), 1e-3)
}

func TestOptimizersMatchTorch(t *testing.T) {
	f := loadFixtures(t)
	for i := range f.Optimizers {
		c := &f.Optimizers[i]
		t.Run(c.Name, func(t *testing.T) {
			ps, opt := buildCase(t, c)
			exact, total := 0, 0
			for s := range c.Grads {
				setGrads(ps, c.Grads[s])
				opt.Step()
				for k, p := range ps {
					for e, got := range p.Data() {
						want := c.Params[s][k][e]
						total++
						if got == want {
							exact++
						}
						if !close32(got, want, 1e-6) {
							t.Fatalf("step %d param %d[%d] = %v, torch %v", s+1, k, e, got, want)
						}
					}
				}
			}
			t.Logf("%d/%d values bit-identical to torch", exact, total)
		})
	}
}

func TestSchedulesMatchTorch(t *testing.T) {
	f := loadFixtures(t)
	for i := range f.Schedules {
		c := &f.Schedules[i]
		t.Run(c.Name, func(t *testing.T) {
			p0 := tensor.Zeros(2).SetRequiresGrad(true)
			p1 := tensor.Zeros(3).SetRequiresGrad(true)
			cfg := SGDConfig{LR: c.BaseLRs[0], Momentum: 0.9}
			cfg1 := cfg
			cfg1.LR = c.BaseLRs[1]
			opt, err := NewSGDGroups(cfg.Group([]*tensor.Tensor{p0}), cfg1.Group([]*tensor.Tensor{p1}))
			if err != nil {
				t.Fatal(err)
			}
			var step func(i int)
			a := c.Args
			switch c.Kind {
			case "step":
				s, err := NewStepLR(opt, int(a["step_size"].(float64)), a["gamma"].(float64))
				must(t, err)
				step = func(int) { s.Step() }
			case "multistep":
				var ms []int
				for _, m := range a["milestones"].([]any) {
					ms = append(ms, int(m.(float64)))
				}
				s, err := NewMultiStepLR(opt, ms, a["gamma"].(float64))
				must(t, err)
				step = func(int) { s.Step() }
			case "exponential":
				s, err := NewExponentialLR(opt, a["gamma"].(float64))
				must(t, err)
				step = func(int) { s.Step() }
			case "cosine":
				s, err := NewCosineAnnealingLR(opt, int(a["t_max"].(float64)), a["eta_min"].(float64))
				must(t, err)
				step = func(int) { s.Step() }
			case "warmup_cosine":
				s, err := NewWarmupCosine(opt, WarmupCosine{WarmupSteps: int(a["warmup"].(float64)),
					TotalSteps: int(a["total"].(float64)), MinLR: a["min_lr"].(float64)})
				must(t, err)
				step = func(int) { s.Step() }
			case "onecycle":
				oc := OneCycle{TotalSteps: int(a["total_steps"].(float64)), PctStart: num(a, "pct_start", 0),
					DivFactor: num(a, "div_factor", 0), FinalDivFactor: num(a, "final_div_factor", 0),
					CycleMomentum: flag(a, "cycle_momentum"), BaseMomentum: num(a, "base_momentum", 0),
					MaxMomentum: num(a, "max_momentum", 0), ThreePhase: flag(a, "three_phase"),
					AnnealLinear: a["anneal"] == "linear"}
				for _, m := range a["max_lr"].([]any) {
					oc.MaxLR = append(oc.MaxLR, m.(float64))
				}
				s, err := NewOneCycleLR(opt, oc)
				must(t, err)
				step = func(int) { s.Step() }
			case "plateau":
				s, err := NewReduceLROnPlateau(opt, Plateau{Mode: a["mode"].(string), Factor: a["factor"].(float64),
					Patience: int(a["patience"].(float64)), Threshold: a["threshold"].(float64),
					Cooldown: int(a["cooldown"].(float64)), MinLR: a["min_lr"].(float64), Eps: 1e-8})
				must(t, err)
				step = func(i int) { s.StepMetric(c.Metrics[i]) }
			default:
				t.Fatalf("unknown kind %q", c.Kind)
			}
			exact := 0
			for i, want := range c.LRs {
				if i > 0 {
					step(i - 1)
				}
				for g, grp := range opt.Groups() {
					if grp.LR == want[g] {
						exact++
					} else if math.Abs(grp.LR-want[g]) > 1e-12*math.Abs(want[g]) {
						t.Fatalf("step %d group %d: lr %v, torch %v", i, g, grp.LR, want[g])
					}
					if c.Momentum != nil && math.Abs(grp.Momentum-c.Momentum[i][g]) > 1e-12 {
						t.Fatalf("step %d group %d: momentum %v, torch %v", i, g, grp.Momentum, c.Momentum[i][g])
					}
				}
			}
			t.Logf("%d/%d LRs bit-identical to torch", exact, 2*len(c.LRs))
		})
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestClipMatchesTorch(t *testing.T) {
	f := loadFixtures(t)
	for _, c := range f.Clip {
		t.Run(c.Name, func(t *testing.T) {
			ps := params(c.Shapes, c.Grads0) // values unused; only the grads matter
			setGrads(ps, c.Grads0)
			if c.Name == "value" {
				ClipGradValue(ps, c.ClipValue)
			} else {
				nt := math.Inf(1)
				if v, ok := c.NormType.(float64); ok {
					nt = v
				}
				total := ClipGradNorm(ps, c.MaxNorm, nt)
				if !close32(float32(total), float32(c.Total), 1e-6) {
					t.Fatalf("total norm %v, torch %v", total, c.Total)
				}
			}
			for k, p := range ps {
				for e, got := range p.Grad().Data() {
					if !close32(got, c.Grads[k][e], 1e-6) {
						t.Fatalf("grad %d[%d] = %v, torch %v", k, e, got, c.Grads[k][e])
					}
				}
			}
		})
	}
}
