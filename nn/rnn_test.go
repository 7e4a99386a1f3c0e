package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/shenml/shen/internal/golden"
	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/tensor"
)

// rnnFxCase mirrors testdata/torch/rnn.json, written by
// testdata/torch/gen_rnn.py with PyTorch 1.13.
type rnnFxCase struct {
	Name          string                    `json:"name"`
	Mode          string                    `json:"mode"`
	Nonlinearity  string                    `json:"nonlinearity"`
	InputSize     int                       `json:"input_size"`
	HiddenSize    int                       `json:"hidden_size"`
	NumLayers     int                       `json:"num_layers"`
	Bidirectional bool                      `json:"bidirectional"`
	BatchFirst    bool                      `json:"batch_first"`
	Lengths       []int                     `json:"lengths"`
	Params        map[string]*golden.Tensor `json:"params"`
	X             *golden.Tensor            `json:"x"`
	H0, C0        *golden.Tensor
	Out           *golden.Tensor `json:"out"`
	HN            *golden.Tensor `json:"h_n"`
	CN            *golden.Tensor `json:"c_n"`
	U1, U2, U3    *golden.Tensor
	Grads         map[string]*golden.Tensor `json:"grads"`
}

func loadRNNFixtures(t *testing.T) []rnnFxCase {
	t.Helper()
	var f struct {
		Cases []rnnFxCase `json:"cases"`
	}
	if err := golden.LoadInto("rnn", &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) == 0 {
		t.Fatal("rnn.json: no cases")
	}
	return f.Cases
}

// newRNNFor builds the Shen layer a fixture case describes.
func newRNNFor(c *rnnFxCase) *RNNBase {
	cfg := RNNConfig{NumLayers: c.NumLayers, Bidirectional: c.Bidirectional, BatchFirst: c.BatchFirst}
	switch c.Mode {
	case "lstm":
		return &NewLSTM(c.InputSize, c.HiddenSize, cfg).RNNBase
	case "gru":
		return &NewGRU(c.InputSize, c.HiddenSize, cfg).RNNBase
	}
	cfg.Nonlinearity = c.Nonlinearity
	return &NewRNN(c.InputSize, c.HiddenSize, cfg).RNNBase
}

// rnnClose compares got with want within tol relative to max(1, |want|).
func rnnClose(t *testing.T, what string, got *tensor.Tensor, want *golden.Tensor, tol float64) {
	t.Helper()
	expectGolden(t, what, got, *want, tol)
}

// TestRNNMatchesTorch replays the PyTorch fixtures: weights loaded by
// state dict name, forward outputs and final states, and the gradients of
// sum(out*U1) + sum(h_n*U2) (+ sum(c_n*U3)) with respect to the input, the
// initial states and every weight.
func TestRNNMatchesTorch(t *testing.T) {
	for _, c := range loadRNNFixtures(t) {
		t.Run(c.Name, func(t *testing.T) {
			m := newRNNFor(&c)
			vals := map[string]*tensor.Tensor{}
			for k, v := range c.Params {
				vals[k] = goldenTensor(*v)
			}
			if err := LoadStateDict(m, vals); err != nil {
				t.Fatal(err)
			}
			// 1e-5 for every case, long sequences included: the worst
			// error seen is 2.2e-6, float32 rounding accumulated over nine
			// steps in a different summation order than torch's.
			const tol = 1e-5
			x := goldenTensor(*c.X).SetRequiresGrad(true)
			var st *RNNState
			if c.H0 != nil {
				st = &RNNState{H: goldenTensor(*c.H0).SetRequiresGrad(true)}
				if c.C0 != nil {
					st.C = goldenTensor(*c.C0).SetRequiresGrad(true)
				}
			}
			out, fin := m.Forward(x, st, c.Lengths)
			rnnClose(t, "out", out, c.Out, tol)
			rnnClose(t, "h_n", fin.H, c.HN, tol)
			loss := tensor.Add(tensor.Sum(tensor.Mul(out, goldenTensor(*c.U1)), false), tensor.Sum(tensor.Mul(fin.H, goldenTensor(*c.U2)), false))
			if c.CN != nil {
				rnnClose(t, "c_n", fin.C, c.CN, tol)
				loss = tensor.Add(loss, tensor.Sum(tensor.Mul(fin.C, goldenTensor(*c.U3)), false))
			}
			loss.Backward()
			rnnClose(t, "grad x", x.Grad(), c.Grads["x"], tol)
			if st != nil {
				rnnClose(t, "grad h0", st.H.Grad(), c.Grads["h0"], tol)
				if st.C != nil {
					rnnClose(t, "grad c0", st.C.Grad(), c.Grads["c0"], tol)
				}
			}
			for _, p := range NamedParameters(m) {
				want, ok := c.Grads[p.Name]
				if !ok {
					t.Errorf("no torch gradient for %s", p.Name)
					continue
				}
				rnnClose(t, "grad "+p.Name, p.Value.Grad(), want, tol)
			}
			loss.FreeGraph()
		})
	}
}

// TestRNNNames checks the state dict keys and shapes against torch's for a
// stacked bidirectional LSTM and a bias-free GRU.
func TestRNNNames(t *testing.T) {
	lstm := NewLSTM(3, 4, RNNConfig{NumLayers: 2, Bidirectional: true})
	var got []string
	for _, e := range StateDict(lstm) {
		got = append(got, fmt.Sprintf("%s%v", e.Name, e.Value.Shape()))
	}
	want := []string{
		"weight_ih_l0[16 3]", "weight_hh_l0[16 4]", "bias_ih_l0[16]", "bias_hh_l0[16]",
		"weight_ih_l0_reverse[16 3]", "weight_hh_l0_reverse[16 4]", "bias_ih_l0_reverse[16]", "bias_hh_l0_reverse[16]",
		"weight_ih_l1[16 8]", "weight_hh_l1[16 4]", "bias_ih_l1[16]", "bias_hh_l1[16]",
		"weight_ih_l1_reverse[16 8]", "weight_hh_l1_reverse[16 4]", "bias_ih_l1_reverse[16]", "bias_hh_l1_reverse[16]",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("LSTM state dict:\n got %v\nwant %v", got, want)
	}
	gru := NewGRU(3, 4, RNNConfig{NoBias: true})
	got = got[:0]
	for _, e := range StateDict(gru) {
		got = append(got, fmt.Sprintf("%s%v", e.Name, e.Value.Shape()))
	}
	if want := "[weight_ih_l0[12 3] weight_hh_l0[12 4]]"; fmt.Sprint(got) != want {
		t.Errorf("GRU(bias=False) state dict %v, want %v", got, want)
	}
	// Initialisation: uniform in ±1/√hidden, as torch.
	for _, p := range Parameters(NewRNN(5, 16, RNNConfig{})) {
		lo, hi := float32(1), float32(-1)
		for _, v := range p.Data() {
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo < -0.25 || hi > 0.25 || hi-lo < 0.3 {
			t.Errorf("init range [%v, %v], want about ±0.25", lo, hi)
		}
	}
}

// rnnFiniteDiff checks every gradient of loss(m, x, h0, c0) against
// central differences. The loss is a fixed random weighting of all
// outputs and final states, accumulated in float64.
func rnnFiniteDiff(t *testing.T, m *RNNBase, x *tensor.Tensor, st *RNNState, lengths []int, seed uint64) {
	t.Helper()
	g := tensor.NewRNG(seed)
	var u []*tensor.Tensor // weightings, drawn on first use
	loss64 := func() float64 {
		m.RandomState = RandomState{Seed: seed} // the same dropout masks every pass
		var out *tensor.Tensor
		var fin *RNNState
		NoGrad(m, func() { out, fin = m.Forward(x, st, lengths) })
		outs := []*tensor.Tensor{out, fin.H, fin.C}
		s := 0.0
		for i, o := range outs {
			if o == nil {
				continue
			}
			for len(u) <= i {
				u = append(u, nil)
			}
			if u[i] == nil {
				u[i] = tensor.RandN(g, o.Shape()...)
			}
			od, ud := o.Data(), u[i].Data()
			for j := range od {
				s += float64(od[j]) * float64(ud[j])
			}
		}
		return s
	}
	loss64() // draw the weightings
	m.RandomState = RandomState{Seed: seed}
	out, fin := m.Forward(x, st, lengths)
	loss := tensor.Sum(tensor.Mul(out, u[0]), false)
	loss = tensor.Add(loss, tensor.Sum(tensor.Mul(fin.H, u[1]), false))
	if fin.C != nil {
		loss = tensor.Add(loss, tensor.Sum(tensor.Mul(fin.C, u[2]), false))
	}
	loss.Backward()

	check := func(name string, p *tensor.Tensor) {
		d := p.Data()
		grad := p.Grad().Data()
		// With float32 forward passes, a step of 1e-2 balances truncation
		// error (O(eps²·f''') ≈ 1e-4 here: the gates are smooth and the
		// weights small) against rounding (float32 ulp·|loss|/eps ≈
		// 1e-7·10/1e-2 = 1e-4). Errors beyond about 1e-3 relative to the
		// largest gradient would mean a wrong formula, not rounding.
		const eps = 1e-2
		scale := 0.0
		for _, v := range grad {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
		for i := range d {
			old := d[i]
			d[i] = old + eps
			lp := loss64()
			d[i] = old - eps
			lm := loss64()
			d[i] = old
			num := (lp - lm) / (2 * eps)
			if diff := math.Abs(num - float64(grad[i])); diff > 2e-3*math.Max(1, scale) {
				t.Errorf("%s[%d]: analytic %v, numeric %v", name, i, grad[i], num)
				return
			}
		}
	}
	check("x", x)
	if st != nil {
		check("h0", st.H)
		if st.C != nil {
			check("c0", st.C)
		}
	}
	for _, p := range NamedParameters(m) {
		check(p.Name, p.Value)
	}
}

func TestRNNFiniteDifference(t *testing.T) {
	SetSeed(11)
	g := tensor.NewRNG(5)
	cases := []struct {
		name    string
		m       *RNNBase
		bf      bool
		lengths []int
		state   bool
	}{
		{"lstm", &NewLSTM(3, 4, RNNConfig{}).RNNBase, false, nil, true},
		{"gru", &NewGRU(3, 4, RNNConfig{}).RNNBase, false, nil, true},
		{"lstm_bidir_2layer_dropout_lengths", &NewLSTM(3, 4, RNNConfig{NumLayers: 2, Bidirectional: true, BatchFirst: true, Dropout: 0.3}).RNNBase, true, []int{2, 5}, true},
		{"gru_bidir_2layer_dropout_lengths", &NewGRU(3, 4, RNNConfig{NumLayers: 2, Bidirectional: true, Dropout: 0.3}).RNNBase, false, []int{5, 3}, false},
		// tanh, not relu: central differences straddle relu's kinks. The
		// relu RNN is covered by the torch fixtures.
		{"rnn_tanh_nobias", &NewRNN(3, 4, RNNConfig{NoBias: true, NumLayers: 2}).RNNBase, false, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			T, B := 5, 2
			shape := []int{T, B, 3}
			if c.bf {
				shape = []int{B, T, 3}
			}
			x := tensor.RandN(g, shape...).SetRequiresGrad(true)
			var st *RNNState
			if c.state {
				n := c.m.NumLayers() * c.m.NumDirections()
				st = &RNNState{H: tensor.RandN(g, n, B, 4).SetRequiresGrad(true)}
				if c.m.kind == rnnKindLSTM {
					st.C = tensor.RandN(g, n, B, 4).SetRequiresGrad(true)
				}
			}
			rnnFiniteDiff(t, c.m, x, st, c.lengths, 9)
		})
	}
}

// TestRNNDropoutModes checks that dropout acts only in training mode and
// that evaluation is deterministic.
func TestRNNDropoutModes(t *testing.T) {
	m := NewLSTM(3, 8, RNNConfig{NumLayers: 2, Dropout: 0.5})
	x := tensor.RandN(tensor.NewRNG(1), 4, 2, 3)
	a, _ := m.Forward(x, nil, nil)
	b, _ := m.Forward(x, nil, nil)
	if fmt.Sprint(a.Data()) == fmt.Sprint(b.Data()) {
		t.Error("training-mode passes with dropout gave identical outputs")
	}
	Train(m, false)
	a, _ = m.Forward(x, nil, nil)
	b, _ = m.Forward(x, nil, nil)
	if fmt.Sprint(a.Data()) != fmt.Sprint(b.Data()) {
		t.Error("evaluation-mode passes differ")
	}
}

// TestRNNLayers checks the Layer adapters, LastHidden and that the model
// trains inside a Sequential with FreeGraph releasing the step.
func TestRNNLayers(t *testing.T) {
	m := NewGRU(3, 4, RNNConfig{Bidirectional: true, BatchFirst: true, NumLayers: 2})
	x := tensor.RandN(tensor.NewRNG(2), 2, 5, 3)
	out, fin := m.Forward(x, nil, nil)
	last := m.LastHidden(fin)
	if !tensor.SameShape(last.Shape(), []int{2, 8}) {
		t.Fatalf("LastHidden shape %v", last.Shape())
	}
	// Forward direction's final state is the output at the last step; the
	// reverse direction's is the output at the first step.
	for b := 0; b < 2; b++ {
		for j := 0; j < 4; j++ {
			if last.At(b, j) != out.At(b, 4, j) || last.At(b, 4+j) != out.At(b, 0, 4+j) {
				t.Fatalf("LastHidden[%d] disagrees with the output sequence", b)
			}
		}
	}
	var seq Layer = m.SequenceLayer()
	if got := seq.Forward(x); fmt.Sprint(got.Data()) != fmt.Sprint(out.Data()) {
		t.Error("SequenceLayer output differs from Forward")
	}
	net := NewSequential(m.LastHiddenLayer(), NewLinear(8, 2))
	if got := NamedParameters(net)[0].Name; got != "0.weight_ih_l0" {
		t.Errorf("first parameter in a Sequential is %q, want 0.weight_ih_l0", got)
	}
	y := net.Forward(x)
	loss := tensor.Sum(tensor.Mul(y, y), false)
	loss.Backward()
	for _, p := range NamedParameters(net) {
		if p.Value.Grad() == nil {
			t.Errorf("%s has no gradient", p.Name)
		}
	}
	loss.FreeGraph()
}

// TestRNNMath checks the float32 transcendentals of the gate loops (the
// kernel package's vector Sigmoid and Tanh) against float64 on the range
// gate pre-activations take.
func TestRNNMath(t *testing.T) {
	var xs []float32
	for i := -200000; i <= 200000; i++ {
		x := float32(i) * 1e-4 * 2 // [-40, 40]
		if i%3 == 0 {
			x = float32(i) * 1e-7 // tiny arguments
		}
		xs = append(xs, x)
	}
	sg, th := make([]float32, len(xs)), make([]float32, len(xs))
	kernel.Sigmoid(sg, xs)
	kernel.Tanh(th, xs)
	worst := [2]float64{}
	for i, x := range xs {
		// Sigmoid is held to absolute error: relative to max(want, 0.5).
		want := 1 / (1 + math.Exp(-float64(x)))
		worst[0] = math.Max(worst[0], math.Abs(float64(sg[i])-want)/math.Max(want, 0.5))
		if want := math.Tanh(float64(x)); want != 0 {
			worst[1] = math.Max(worst[1], math.Abs(float64(th[i])-want)/math.Abs(want))
		}
	}
	for i, name := range []string{"sigmoid", "tanh"} {
		if worst[i] > 4e-7 { // about 3 float32 ulps
			t.Errorf("%s: worst relative error %.3g", name, worst[i])
		}
	}
	t.Logf("worst relative errors: sigmoid %.3g tanh %.3g", worst[0], worst[1])
	big := []float32{-1000, 1000}
	kernel.Sigmoid(sg[:2], big)
	kernel.Tanh(th[:2], big)
	if sg[0] != 0 || sg[1] != 1 || th[0] != -1 || th[1] != 1 {
		t.Errorf("saturation: sigmoid(∓1000) = %v, tanh(∓1000) = %v", sg[:2], th[:2])
	}
}

// TestRNNAllocsIndependentOfLength checks that a training step's
// allocations (tape nodes and headers) do not grow with the sequence:
// every per-step buffer comes from the pool.
func TestRNNAllocsIndependentOfLength(t *testing.T) {
	m := NewLSTM(8, 16, RNNConfig{NumLayers: 2, Bidirectional: true})
	allocs := func(T int) float64 {
		x := tensor.RandN(tensor.NewRNG(1), T, 4, 8)
		step := func() {
			_, fin := m.Forward(x, nil, nil)
			loss := tensor.Sum(m.LastHidden(fin), false)
			loss.Backward()
			loss.FreeGraph()
		}
		step()
		return testing.AllocsPerRun(5, step)
	}
	short, long := allocs(4), allocs(64)
	if long > short {
		t.Errorf("allocations per step grow with the sequence: %v at 4 steps, %v at 64", short, long)
	}
}
