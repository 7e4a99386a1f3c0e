package tensor

import (
	"math"
	"strings"
	"testing"
)

// TestActivationsMatchTorch replays testdata/torch/activation.json: every
// activation forward and backward on odd sizes, extreme inputs (±30, ±90)
// and a transposed (strided) view.
func TestActivationsMatchTorch(t *testing.T) {
	for _, c := range loadFixtures(t, "activation") {
		t.Run(c.Name, func(t *testing.T) {
			var a struct{ Slope, Alpha, Beta, Threshold float32 }
			c.args(t, &a)
			op, strided := strings.CutSuffix(c.Op, "_t")
			var f func(*Tensor) *Tensor
			switch op {
			case "sigmoid":
				f = Sigmoid
			case "tanh":
				f = Tanh
			case "relu":
				f = ReLU
			case "leaky_relu":
				f = func(x *Tensor) *Tensor { return LeakyReLU(x, a.Slope) }
			case "elu":
				f = func(x *Tensor) *Tensor { return ELU(x, a.Alpha) }
			case "gelu":
				f = GELU
			case "gelu_tanh":
				f = GELUTanh
			case "silu":
				f = SiLU
			case "softplus", "softplus_beta":
				f = func(x *Tensor) *Tensor { return Softplus(x, a.Beta, a.Threshold) }
			default:
				t.Fatalf("no Go op for fixture op %q", c.Op)
			}
			checkCase(t, c, 1e-5, func(in []*Tensor) *Tensor {
				if strided {
					return f(in[0].T())
				}
				return f(in[0])
			})
		})
	}
}

// TestActivationStability checks the values where naive formulas overflow
// or lose all precision.
func TestActivationStability(t *testing.T) {
	x := FromSlice([]float32{-1000, -100, 0, 100, 1000})
	for _, tc := range []struct {
		name string
		got  *Tensor
		want []float32
	}{
		{"Sigmoid", Sigmoid(x), []float32{0, 3.7200760e-44, 0.5, 1, 1}},
		{"Softplus", Softplus(x, 1, 20), []float32{0, 3.7200760e-44, float32(math.Ln2), 100, 1000}},
		{"SiLU", SiLU(x), []float32{0, -3.7200760e-42, 0, 100, 1000}},
		{"Tanh", Tanh(x), []float32{-1, -1, 0, 1, 1}},
	} {
		for i, v := range tc.got.Data() {
			if v != tc.want[i] && math.Abs(float64(v-tc.want[i])) > 1e-6*math.Abs(float64(tc.want[i])) {
				t.Errorf("%s(%v) = %v, want %v", tc.name, x.Data()[i], v, tc.want[i])
			}
		}
	}
	if v := ReLU(FromSlice([]float32{float32(math.NaN())})).Item(); v == v {
		t.Errorf("ReLU(NaN) = %v, want NaN as torch.relu", v)
	}
}

// TestActivationParallel runs the activations on a tensor large enough to
// be split over cores and compares with the serial kernel element by element.
func TestActivationParallel(t *testing.T) {
	const n = 3*grainCheap + 17
	x := RandN(NewRNG(3), n).SetRequiresGrad(true)
	for _, tc := range []struct {
		name string
		f    func(*Tensor) *Tensor
		fwd  func(dst, src []float32)
	}{
		{"ReLU", ReLU, reluFwd}, {"Sigmoid", Sigmoid, sigmoidFwd}, {"Tanh", Tanh, tanhFwd}, {"GELU", GELU, geluFwd},
	} {
		y := tc.f(x)
		want := make([]float32, n)
		tc.fwd(want, x.Data())
		for i, v := range y.Data() {
			if v != want[i] {
				t.Fatalf("%s: element %d = %v, want %v", tc.name, i, v, want[i])
			}
		}
		y.BackwardWith(OnesLike(y), false)
		if x.Grad() == nil {
			t.Fatalf("%s: no gradient", tc.name)
		}
		x.SetGrad(nil)
		y.FreeGraph()
	}
}
