package optim

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/shenml/shen/tensor"
)

func TestConfigErrors(t *testing.T) {
	p := []*tensor.Tensor{tensor.Zeros(3).SetRequiresGrad(true)}
	adam := func(f func(*AdamConfig)) error {
		c := DefaultAdamConfig()
		f(&c)
		_, err := NewAdam(p, c)
		return err
	}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"sgd negative lr", second(NewSGD(p, SGDConfig{LR: -1})), "learning rate"},
		{"sgd nan lr", second(NewSGD(p, SGDConfig{LR: math.NaN()})), "NaN"},
		{"sgd negative momentum", second(NewSGD(p, SGDConfig{LR: 1, Momentum: -0.1})), "momentum"},
		{"sgd negative decay", second(NewSGD(p, SGDConfig{LR: 1, WeightDecay: -1})), "weight_decay"},
		{"sgd nesterov without momentum", second(NewSGD(p, SGDConfig{LR: 1, Nesterov: true})), "Nesterov"},
		{"sgd nesterov with dampening", second(NewSGD(p, SGDConfig{LR: 1, Momentum: 0.9, Dampening: 0.1, Nesterov: true})), "Nesterov"},
		{"adam negative lr", adam(func(c *AdamConfig) { c.LR = -1e-3 }), "learning rate"},
		{"adam beta1", adam(func(c *AdamConfig) { c.Beta1 = 1 }), "beta1"},
		{"adam beta2", adam(func(c *AdamConfig) { c.Beta2 = -0.1 }), "beta2"},
		{"adam zero eps", second(NewAdam(p, AdamConfig{LR: 1e-3})), "DefaultAdamConfig"},
		{"adamw decay", second(NewAdamW(p, AdamConfig{LR: 1, Eps: 1, WeightDecay: -1})), "weight_decay"},
		{"rmsprop alpha", second(NewRMSprop(p, RMSpropConfig{LR: 1, Eps: 1, Alpha: -1})), "alpha"},
		{"rmsprop eps", second(NewRMSprop(p, RMSpropConfig{LR: 1, Alpha: 0.9})), "epsilon"},
		{"adagrad lr decay", second(NewAdagrad(p, AdagradConfig{LR: 1, Eps: 1, LRDecay: -1})), "lr_decay"},
		{"adagrad init", second(NewAdagrad(p, AdagradConfig{LR: 1, Eps: 1, InitialAccumulatorValue: -1})), "initial_accumulator"},
		{"no params", second(NewSGD(nil, SGDConfig{LR: 1})), "no parameters"},
		{"no groups", second(NewSGDGroups()), "no parameter groups"},
		{"nil param", second(NewSGD([]*tensor.Tensor{nil}, SGDConfig{LR: 1})), "nil"},
		{"duplicate", second(NewSGDGroups(SGDConfig{LR: 1}.Group(p), SGDConfig{LR: 2}.Group(p))), "groups 0 and 1"},
		{"strided", second(NewSGD([]*tensor.Tensor{tensor.Zeros(2, 3).Transpose(0, 1)}, SGDConfig{LR: 1})), "not contiguous"},
		{"second group bad", second(NewSGDGroups(SGDConfig{LR: 1}.Group(p), SGDConfig{LR: -1}.Group([]*tensor.Tensor{tensor.Zeros(1)}))), "group 1"},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, c.err, c.want)
		}
	}
	opt, _ := NewSGD(p, SGDConfig{LR: 1, Momentum: 0.9})
	sched := []struct {
		name string
		err  error
		want string
	}{
		{"step size", second(NewStepLR(opt, 0, 0.1)), "step size"},
		{"step gamma", second(NewStepLR(opt, 1, -1)), "gamma"},
		{"multistep milestone", second(NewMultiStepLR(opt, []int{-1}, 0.1)), "milestone"},
		{"exp gamma", second(NewExponentialLR(opt, 0)), "gamma"},
		{"cosine tmax", second(NewCosineAnnealingLR(opt, 0, 0)), "T_max"},
		{"cosine eta", second(NewCosineAnnealingLR(opt, 5, -1)), "eta_min"},
		{"warmup order", second(NewWarmupCosine(opt, WarmupCosine{WarmupSteps: 10, TotalSteps: 5})), "WarmupSteps"},
		{"warmup min", second(NewWarmupCosine(opt, WarmupCosine{TotalSteps: 5, MinLR: 2})), "MinLR"},
		{"onecycle steps", second(NewOneCycleLR(opt, OneCycle{MaxLR: []float64{1}})), "TotalSteps"},
		{"onecycle maxlr", second(NewOneCycleLR(opt, OneCycle{MaxLR: []float64{-1}, TotalSteps: 10})), "MaxLR"},
		{"onecycle groups", second(NewOneCycleLR(opt, OneCycle{MaxLR: []float64{1, 2}, TotalSteps: 10})), "2 MaxLR"},
		{"onecycle pct", second(NewOneCycleLR(opt, OneCycle{MaxLR: []float64{1}, TotalSteps: 10, PctStart: 2})), "PctStart"},
		{"plateau factor", second(NewReduceLROnPlateau(opt, Plateau{})), "factor"},
		{"plateau mode", second(NewReduceLROnPlateau(opt, Plateau{Mode: "up", Factor: 0.5})), "mode"},
		{"plateau patience", second(NewReduceLROnPlateau(opt, Plateau{Factor: 0.5, Patience: -1})), "patience"},
	}
	for _, c := range sched {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, c.err, c.want)
		}
	}
	ada, _ := NewAdagrad(p, DefaultAdagradConfig())
	if _, err := NewOneCycleLR(ada, OneCycle{MaxLR: []float64{1}, TotalSteps: 10, CycleMomentum: true}); err == nil {
		t.Error("OneCycleLR cycling momentum on Adagrad: no error")
	}
}

func second[T any](_ T, err error) error { return err }

// kinds builds one optimizer of each kind over params.
var kinds = map[string]func(ps []*tensor.Tensor) (Optimizer, error){
	"sgd": func(ps []*tensor.Tensor) (Optimizer, error) {
		return NewSGD(ps, SGDConfig{LR: 0.05, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-3})
	},
	"adam": func(ps []*tensor.Tensor) (Optimizer, error) {
		c := DefaultAdamConfig()
		c.AMSGrad, c.WeightDecay = true, 1e-3
		return NewAdam(ps, c)
	},
	"adamw": func(ps []*tensor.Tensor) (Optimizer, error) { return NewAdamW(ps, DefaultAdamWConfig()) },
	"rmsprop": func(ps []*tensor.Tensor) (Optimizer, error) {
		c := DefaultRMSpropConfig()
		c.Centered, c.Momentum = true, 0.5
		return NewRMSprop(ps, c)
	},
	"adagrad": func(ps []*tensor.Tensor) (Optimizer, error) {
		c := DefaultAdagradConfig()
		c.LRDecay, c.InitialAccumulatorValue = 0.01, 0.1
		return NewAdagrad(ps, c)
	},
}

// gradFor returns a deterministic gradient for step s of parameter k:
// the gradient of a quadratic plus a step-dependent wobble, so the run is
// not trivially periodic.
func gradFor(ps []*tensor.Tensor, s int) {
	for k, p := range ps {
		if p.Grad() == nil {
			p.SetGrad(tensor.Zeros(p.Shape()...))
		}
		g, w := p.Grad().Data(), p.Data()
		for i := range g {
			g[i] = w[i] - float32(i%5)*0.1 + float32(math.Sin(float64(s*7+k*3+i)))*0.3
		}
	}
}

// TestResume trains N steps, saves optimizer and scheduler state through
// JSON, loads it into fresh ones and continues: the parameters must equal
// those of an uninterrupted run bit for bit.
func TestResume(t *testing.T) {
	const n, total = 4, 9
	init := [][]float32{{0.5, -1, 2, 0, 3, -0.25, 1}, {1, 2, 3, 4, 5, 6}}
	shapes := [][]int{{7}, {2, 3}}
	for name, mk := range kinds {
		t.Run(name, func(t *testing.T) {
			run := func(ps []*tensor.Tensor, opt Optimizer, sch Scheduler, from, to int) {
				for s := from; s < to; s++ {
					opt.ZeroGrad()
					gradFor(ps, s)
					opt.Step()
					sch.Step()
				}
			}
			mkSched := func(o Optimizer) Scheduler {
				s, err := NewWarmupCosine(o, WarmupCosine{WarmupSteps: 2, TotalSteps: total, MinLR: 1e-4})
				must(t, err)
				return s
			}
			ref := params(shapes, init)
			refOpt, err := mk(ref)
			must(t, err)
			run(ref, refOpt, mkSched(refOpt), 0, total)

			ps := params(shapes, init)
			opt, err := mk(ps)
			must(t, err)
			sch := mkSched(opt)
			run(ps, opt, sch, 0, n)
			ob, err := json.Marshal(opt.StateDict())
			must(t, err)
			sb, err := json.Marshal(sch.StateDict())
			must(t, err)

			// A fresh process: new parameters holding the saved values.
			saved := [][]float32{ps[0].Data(), ps[1].Data()}
			ps2 := params(shapes, saved)
			opt2, err := mk(ps2)
			must(t, err)
			sch2 := mkSched(opt2)
			var os State
			var ss SchedulerState
			must(t, json.Unmarshal(ob, &os))
			must(t, json.Unmarshal(sb, &ss))
			must(t, opt2.LoadStateDict(os))
			must(t, sch2.LoadStateDict(ss))
			run(ps2, opt2, sch2, n, total)
			for k := range ref {
				for i, want := range ref[k].Data() {
					if got := ps2[k].Data()[i]; got != want {
						t.Fatalf("param %d[%d]: resumed %v, uninterrupted %v", k, i, got, want)
					}
				}
			}
		})
	}
}

func TestLoadStateDictErrors(t *testing.T) {
	ps := params([][]int{{3}}, [][]float32{{1, 2, 3}})
	adam, _ := NewAdam(ps, DefaultAdamConfig())
	gradFor(ps, 0)
	adam.Step()
	good := adam.StateDict()
	sgd, _ := NewSGD(ps, SGDConfig{LR: 1})
	if err := sgd.LoadStateDict(good); err == nil || !strings.Contains(err.Error(), `"adam"`) {
		t.Errorf("SGD loading an Adam state: %v", err)
	}
	bad := adam.StateDict()
	bad.Buffers["param0.exp_avg"] = []float32{1}
	if err := adam.LoadStateDict(bad); err == nil || !strings.Contains(err.Error(), "param0.exp_avg") {
		t.Errorf("short buffer: %v", err)
	}
	bad = adam.StateDict()
	bad.Groups[0].LR = -1
	if err := adam.LoadStateDict(bad); err == nil || !strings.Contains(err.Error(), "learning rate") {
		t.Errorf("negative LR in state: %v", err)
	}
	bad = adam.StateDict()
	bad.Buffers["param5.exp_avg"] = []float32{1}
	if err := adam.LoadStateDict(bad); err == nil {
		t.Error("unknown buffer: no error")
	}
	if err := adam.LoadStateDict(good); err != nil {
		t.Error(err)
	}
}

// TestGroupsOwnLR checks that groups keep their own LR and that a param
// without a gradient is left alone, as torch skips grad None.
func TestGroupsOwnLR(t *testing.T) {
	a := tensor.FromSlice([]float32{1, 1}).SetRequiresGrad(true)
	b := tensor.FromSlice([]float32{1, 1}).SetRequiresGrad(true)
	c := tensor.FromSlice([]float32{1, 1}).SetRequiresGrad(true)
	cfg := SGDConfig{LR: 0.5}
	slow := cfg
	slow.LR = 0.1
	opt, err := NewSGDGroups(cfg.Group([]*tensor.Tensor{a, c}), slow.Group([]*tensor.Tensor{b}))
	must(t, err)
	a.SetGrad(tensor.Ones(2))
	b.SetGrad(tensor.Ones(2))
	opt.Step()
	if a.Data()[0] != 0.5 || b.Data()[0] != 0.9 || c.Data()[0] != 1 {
		t.Fatalf("after step: a %v b %v c %v", a.Data(), b.Data(), c.Data())
	}
	opt.ZeroGrad()
	if a.Grad().Data()[0] != 0 || b.Grad().Data()[1] != 0 {
		t.Fatal("ZeroGrad left gradients")
	}
	opt.Groups()[1].LR = 1
	b.Grad().Data()[0] = 1
	opt.Step()
	if b.Data()[0] != float32(0.9)-1 {
		t.Fatalf("changed group LR not used: %v", b.Data())
	}
}

// TestAutogradIntegration trains w to minimise sum((w-3)^2) through the
// tape, as a user would.
func TestAutogradIntegration(t *testing.T) {
	w := tensor.Zeros(4).SetRequiresGrad(true)
	opt, err := NewAdam([]*tensor.Tensor{w}, AdamConfig{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	must(t, err)
	three := tensor.Full(3, 4)
	for range 300 {
		opt.ZeroGrad()
		d := tensor.Sub(w, three)
		loss := tensor.Sum(tensor.Mul(d, d), false)
		loss.Backward()
		opt.Step()
		loss.FreeGraph()
	}
	for _, v := range w.Data() {
		if math.Abs(float64(v)-3) > 1e-2 {
			t.Fatalf("w = %v, want 3", w.Data())
		}
	}
}

func TestStepAllocatesNothing(t *testing.T) {
	for name, mk := range kinds {
		ps := params([][]int{{1 << 17}, {33}}, [][]float32{make([]float32, 1<<17), make([]float32, 33)})
		opt, err := mk(ps)
		must(t, err)
		gradFor(ps, 0)
		opt.Step() // allocates the state
		if n := testing.AllocsPerRun(10, opt.Step); n != 0 {
			t.Errorf("%s: Step allocates %v times", name, n)
		}
	}
	ps := params([][]int{{100}}, [][]float32{make([]float32, 100)})
	gradFor(ps, 0)
	if n := testing.AllocsPerRun(10, func() { ClipGradNorm(ps, 1, 2) }); n != 0 {
		t.Errorf("ClipGradNorm allocates %v times", n)
	}
}

func TestClipEdgeCases(t *testing.T) {
	p := tensor.Zeros(3).SetRequiresGrad(true)
	if n := ClipGradNorm([]*tensor.Tensor{p}, 1, 2); n != 0 {
		t.Errorf("no gradients: norm %v", n)
	}
	p.SetGrad(tensor.FromSlice([]float32{3, -4, 0}))
	if n := ClipGradNorm([]*tensor.Tensor{p}, 1, 1); n != 7 {
		t.Errorf("1-norm %v, want 7", n)
	}
	p.SetGrad(tensor.FromSlice([]float32{3, 4, 0}))
	if n := ClipGradNorm([]*tensor.Tensor{p}, 1, 3); math.Abs(n-math.Cbrt(91)) > 1e-5 {
		t.Errorf("3-norm %v, want %v", n, math.Cbrt(91))
	}
}

func TestPlateauStateRoundTrip(t *testing.T) {
	ps := params([][]int{{1}}, [][]float32{{0}})
	opt, _ := NewSGD(ps, SGDConfig{LR: 1})
	cfg := DefaultPlateau()
	cfg.Patience = 1
	s, err := NewReduceLROnPlateau(opt, cfg)
	must(t, err)
	st := s.StateDict()
	if st.Best != nil {
		t.Fatal("fresh plateau has a best metric")
	}
	b, _ := json.Marshal(st)
	must(t, json.Unmarshal(b, &st))
	s.StepMetric(1)
	s.StepMetric(2)
	st = s.StateDict()
	opt2, _ := NewSGD(params([][]int{{1}}, [][]float32{{0}}), SGDConfig{LR: 5})
	s2, _ := NewReduceLROnPlateau(opt2, cfg)
	must(t, s2.LoadStateDict(st))
	s.StepMetric(3)
	s2.StepMetric(3)
	if s.LR()[0] != 0.1 || s2.LR()[0] != 0.1 {
		t.Fatalf("after plateau: %v %v, want 0.1", s.LR(), s2.LR())
	}
}
