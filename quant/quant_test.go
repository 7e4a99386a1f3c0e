package quant

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
)

func randTensor(r *rand.Rand, scale float32, shape ...int) *tensor.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	d := make([]float32, n)
	for i := range d {
		d[i] = (r.Float32()*2 - 1) * scale
	}
	return tensor.FromSlice(d, shape...)
}

func absMax(x []float32) float32 {
	var m float32
	for _, v := range x {
		m = max(m, float32(math.Abs(float64(v))))
	}
	return m
}

// code is the reference quantiser: v·(1/scale) in float32, clamped to
// ±127, rounded half to even.
func code(v, scale float32) float64 {
	y := float64(float32(v * (1 / scale)))
	return math.RoundToEven(math.Max(-127, math.Min(127, y)))
}

// TestLinearExact checks the quantised Linear against a float64 emulation
// of the scheme (the same codes, exact integer sums, one dequantisation):
// they may differ only by float32 rounding of the result, |d| <= 1e-6·|y|
// + 1e-6.
func TestLinearExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][3]int{{1, 784, 512}, {5, 30, 7}, {64, 100, 10}} {
		n, in, out := sz[0], sz[1], sz[2]
		l := nn.NewLinear(in, out)
		x := randTensor(r, 2, n, in)
		inScale := absMax(x.Data()) / 127
		q := NewLinear(l, inScale)
		y := q.Forward(x).Data()
		w, b, xd := l.Weight.Data(), l.Bias.Data(), x.Data()
		for o := 0; o < out; o++ {
			ws := absMax(w[o*in:(o+1)*in]) / 127
			for i := 0; i < n; i++ {
				var s float64
				for p := 0; p < in; p++ {
					s += code(xd[i*in+p], inScale) * code(w[o*in+p], ws)
				}
				want := float64(float32(s)*(inScale*ws)) + float64(b[o])
				if d := math.Abs(float64(y[i*out+o]) - want); d > 1e-6*math.Abs(want)+1e-6 {
					t.Fatalf("%v: y[%d][%d]=%v, emulation %v", sz, i, o, y[i*out+o], want)
				}
			}
		}
	}
}

// boundCheck asserts |got - want| <= the worst case of int8 rounding for
// one output: Σ_p (|x_p|·sw/2 + |w_p|·sx/2 + sx·sw/4), over the products
// of the output, plus float32 slack of 1e-5·Σ|x_p·w_p|.
func boundCheck(t *testing.T, what string, got, want, bound, mag float64) {
	t.Helper()
	if d := math.Abs(got - want); d > bound+1e-5*mag+1e-6 {
		t.Fatalf("%s: int8 %v, float %v: error %v over the bound %v", what, got, want, d, bound)
	}
}

// TestLinearBound is the parity of the quantised Linear with the float
// one, per output, against the analytic bound of int8 rounding.
func TestLinearBound(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n, in, out := 16, 200, 33
	l := nn.NewLinear(in, out)
	x := randTensor(r, 3, n, in)
	sx := absMax(x.Data()) / 127
	yq := NewLinear(l, sx).Forward(x).Data()
	yf := l.Forward(x).Data()
	w, xd := l.Weight.Data(), x.Data()
	for o := 0; o < out; o++ {
		sw := float64(absMax(w[o*in:(o+1)*in]) / 127)
		for i := 0; i < n; i++ {
			var bound, mag float64
			for p := 0; p < in; p++ {
				xv, wv := math.Abs(float64(xd[i*in+p])), math.Abs(float64(w[o*in+p]))
				bound += xv*sw/2 + wv*float64(sx)/2 + float64(sx)*sw/4
				mag += xv * wv
			}
			boundCheck(t, "linear", float64(yq[i*out+o]), float64(yf[i*out+o]), bound, mag)
		}
	}
}

// TestConv2DBound is the same parity for convolutions with padding,
// stride and dilation, against nn.Conv2D, plus the exact emulation on one
// output position.
func TestConv2DBound(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct {
		c, o, k, h, w int
		opts          []nn.ConvOption
	}{
		{1, 6, 5, 28, 28, []nn.ConvOption{nn.Padding(2)}},
		{6, 16, 5, 14, 14, nil},
		{3, 4, 3, 9, 11, []nn.ConvOption{nn.Stride(2), nn.Padding(1), nn.Dilation(2)}},
		{2, 3, 4, 8, 8, []nn.ConvOption{nn.PaddingSame()}},
	} {
		conv := nn.NewConv2D(tc.c, tc.o, tc.k, tc.opts...)
		x := randTensor(r, 1.5, 3, tc.c, tc.h, tc.w)
		sx := absMax(x.Data()) / 127
		q, err := NewConv2D(conv, sx)
		if err != nil {
			t.Fatal(err)
		}
		yq, yf := q.Forward(x), conv.Forward(x)
		if !equalShape(yq.Shape(), yf.Shape()) {
			t.Fatalf("conv %+v: shape %v, float %v", tc, yq.Shape(), yf.Shape())
		}
		// The bound with every input at its largest magnitude is loose
		// but safe for any output position.
		k := tc.c * tc.k * tc.k
		xm := float64(absMax(x.Data()))
		w := conv.Weight.Data()
		yqd, yfd := yq.Data(), yf.Data()
		hw := yq.Shape()[2] * yq.Shape()[3]
		for i := range yqd {
			o := i / hw % tc.o
			wr := w[o*k : (o+1)*k]
			sw := float64(absMax(wr) / 127)
			var bound, mag float64
			for _, wv := range wr {
				a := math.Abs(float64(wv))
				bound += xm*sw/2 + a*float64(sx)/2 + float64(sx)*sw/4
				mag += xm * a
			}
			boundCheck(t, "conv2d", float64(yqd[i]), float64(yfd[i]), bound, mag)
		}
	}
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func lenet() *nn.Sequential {
	return nn.NewSequential(
		nn.NewConv2D(1, 6, 5, nn.Padding(2)), nn.ReLU{}, nn.NewMaxPool2D(2),
		nn.NewConv2D(6, 16, 5), nn.ReLU{}, nn.NewMaxPool2D(2),
		nn.NewFlatten(), nn.NewSequential(nn.NewLinear(16*5*5, 120), nn.ReLU{}), nn.NewLinear(120, 10),
	)
}

func TestCalibrateApply(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	net := lenet()
	x := randTensor(r, 1, 20, 1, 28, 28)
	s, err := Calibrate(net, x, 8)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range s.Layers {
		names = append(names, l.Name+":"+l.Kind)
		if !(l.InputScale > 0) || l.InputScale != l.InputMax/127 {
			t.Errorf("layer %s: scale %v for max %v", l.Name, l.InputScale, l.InputMax)
		}
	}
	if got := strings.Join(names, " "); got != "0:conv2d 3:conv2d 7.0:linear 8:linear" || s.Samples != 20 {
		t.Fatalf("calibrated %q on %d samples", got, s.Samples)
	}
	if want := absMax(x.Data()); s.Layers[0].InputMax != want {
		t.Fatalf("first layer's input max %v, want %v", s.Layers[0].InputMax, want)
	}
	qnet, err := Apply(net, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := qnet.(*nn.Sequential).Layers[7].(*nn.Sequential).Layers[0].(*Linear); !ok {
		t.Fatalf("nested linear not replaced: %T", qnet.(*nn.Sequential).Layers[7])
	}
	if _, ok := net.Layers[0].(*nn.Conv2D); !ok {
		t.Fatal("Apply changed the float network")
	}
	// The quantised network has the float one's state dict.
	fd, qd := nn.StateDict(net), nn.StateDict(qnet.(nn.Module))
	if len(fd) != len(qd) {
		t.Fatalf("state dict %d entries, float %d", len(qd), len(fd))
	}
	for i := range fd {
		if fd[i].Name != qd[i].Name || fd[i].Value != qd[i].Value {
			t.Fatalf("state dict entry %d: %s, float %s", i, qd[i].Name, fd[i].Name)
		}
	}
	yq, yf := qnet.Forward(x).Data(), net.Forward(x).Data()
	for i := range yf {
		if d := math.Abs(float64(yq[i] - yf[i])); d > 0.05*float64(absMax(yf))+1e-3 {
			t.Fatalf("logit %d: int8 %v, float %v", i, yq[i], yf[i])
		}
	}
}

func TestSpecErrors(t *testing.T) {
	net := lenet()
	good := Layer{Name: "0", Kind: "conv2d", InputScale: 0.01}
	for _, tc := range []struct {
		spec Spec
		want string
	}{
		{Spec{Scheme: "fp8", Layers: []Layer{good}}, `scheme "fp8"`},
		{Spec{Scheme: Scheme}, "no layers"},
		{Spec{Scheme: Scheme, Layers: []Layer{{Name: "0", Kind: "lstm", InputScale: 1}}}, `kind "lstm"`},
		{Spec{Scheme: Scheme, Layers: []Layer{{Name: "0", Kind: "conv2d", InputScale: 0}}}, "input_scale"},
		{Spec{Scheme: Scheme, Layers: []Layer{{Name: "0", Kind: "conv2d", InputScale: float32(math.Inf(1))}}}, "input_scale"},
		{Spec{Scheme: Scheme, Layers: []Layer{good, good}}, "listed twice"},
		{Spec{Scheme: Scheme, Layers: []Layer{{Name: "1", Kind: "linear", InputScale: 1}}}, `layer "1" is a nn.ReLU`},
		{Spec{Scheme: Scheme, Layers: []Layer{{Name: "0", Kind: "linear", InputScale: 1}}}, "the spec says linear"},
		{Spec{Scheme: Scheme, Layers: []Layer{{Name: "42", Kind: "linear", InputScale: 1}}}, `"42" is not a layer`},
	} {
		_, err := Apply(net, &tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("spec %+v: error %v, want one containing %q", tc.spec, err, tc.want)
		}
	}
	if _, err := Calibrate(nn.ReLU{}, tensor.Zeros(2, 3), 0); err == nil || !strings.Contains(err.Error(), "only Sequential") {
		t.Errorf("Calibrate of a ReLU: %v", err)
	}
	if _, err := Calibrate(nn.NewSequential(nn.ReLU{}), tensor.Zeros(2, 3), 0); err == nil || !strings.Contains(err.Error(), "no Linear or Conv2D") {
		t.Errorf("Calibrate without linear layers: %v", err)
	}
	if _, err := NewConv2D(nn.NewConv2D(4, 4, 3, nn.Groups(2)), 1); err == nil {
		t.Error("grouped convolution accepted")
	}
}
