package nn

import (
	"fmt"
	"math"
	"sync"

	"github.com/shenml/shen/tensor"
)

// The default generator draws every layer's initial weights, as torch's
// global generator does, so that SetSeed at the start of a program makes a
// run reproducible without threading a generator through every
// constructor. It is guarded because models may be built on several
// goroutines.
var (
	rngMu sync.Mutex
	rng   = tensor.NewRNG(0)
)

// SetSeed reseeds the generator that initialises new layers (torch.manual_seed).
func SetSeed(seed uint64) {
	rngMu.Lock()
	rng = tensor.NewRNG(seed)
	rngMu.Unlock()
}

// withRNG runs fn holding the default generator.
func withRNG(fn func(g *tensor.RNG)) {
	rngMu.Lock()
	defer rngMu.Unlock()
	fn(rng)
}

// Fans returns fan_in and fan_out of a weight shaped like torch's
// ([out, in, k...]), as torch.nn.init._calculate_fan_in_and_fan_out.
func Fans(shape []int) (fanIn, fanOut int) {
	if len(shape) < 2 {
		panic(fmt.Sprintf("nn: fan in and fan out need a weight of at least 2 dimensions, got %v", shape))
	}
	recept := 1
	for _, d := range shape[2:] {
		recept *= d
	}
	return shape[1] * recept, shape[0] * recept
}

// Uniform fills t with values uniform in [lo, hi) from the default generator.
func Uniform(t *tensor.Tensor, lo, hi float64) {
	withRNG(func(g *tensor.RNG) {
		d := t.Data()
		for i := range d {
			d[i] = float32(lo + (hi-lo)*float64(g.Float32()))
		}
	})
}

// Normal fills t with values from N(mean, std²).
func Normal(t *tensor.Tensor, mean, std float64) {
	withRNG(func(g *tensor.RNG) {
		d := t.Data()
		for i := range d {
			d[i] = float32(mean + std*float64(g.NormFloat32()))
		}
	})
}

// Constant fills t with v.
func Constant(t *tensor.Tensor, v float32) {
	d := t.Data()
	for i := range d {
		d[i] = v
	}
}

// Gain returns the recommended gain for a nonlinearity, as
// torch.nn.init.calculate_gain ("linear", "sigmoid", "tanh", "relu",
// "leaky_relu" with param as the slope, "selu").
func Gain(nonlinearity string, param float64) float64 {
	switch nonlinearity {
	case "linear", "conv1d", "conv2d", "sigmoid":
		return 1
	case "tanh":
		return 5.0 / 3
	case "relu":
		return math.Sqrt2
	case "leaky_relu":
		return math.Sqrt(2 / (1 + param*param))
	case "selu":
		return 0.75
	}
	panic(fmt.Sprintf("nn: Gain: unknown nonlinearity %q", nonlinearity))
}

// KaimingUniform fills t as torch.nn.init.kaiming_uniform_(t, a, mode="fan_in", nonlinearity="leaky_relu").
func KaimingUniform(t *tensor.Tensor, a float64) {
	fanIn, _ := Fans(t.Shape())
	bound := Gain("leaky_relu", a) * math.Sqrt(3/float64(fanIn))
	Uniform(t, -bound, bound)
}

// KaimingNormal fills t as torch.nn.init.kaiming_normal_(t, a, mode="fan_in").
func KaimingNormal(t *tensor.Tensor, a float64) {
	fanIn, _ := Fans(t.Shape())
	Normal(t, 0, Gain("leaky_relu", a)/math.Sqrt(float64(fanIn)))
}

// XavierUniform fills t as torch.nn.init.xavier_uniform_(t, gain).
func XavierUniform(t *tensor.Tensor, gain float64) {
	fi, fo := Fans(t.Shape())
	bound := gain * math.Sqrt(6/float64(fi+fo))
	Uniform(t, -bound, bound)
}

// XavierNormal fills t as torch.nn.init.xavier_normal_(t, gain).
func XavierNormal(t *tensor.Tensor, gain float64) {
	fi, fo := Fans(t.Shape())
	Normal(t, 0, gain*math.Sqrt(2/float64(fi+fo)))
}

// Orthogonal fills t (viewed as rows × the rest) with a (semi-)orthogonal
// matrix scaled by gain, as torch.nn.init.orthogonal_: Gram-Schmidt on a
// Gaussian matrix, with signs fixed so the result is uniformly distributed.
func Orthogonal(t *tensor.Tensor, gain float64) {
	shape := t.Shape()
	if len(shape) < 2 {
		panic(fmt.Sprintf("nn: Orthogonal needs at least 2 dimensions, got %v", shape))
	}
	rows := shape[0]
	cols := t.Numel() / rows
	// Orthonormalise the rows of the wider orientation, then transpose back.
	n, m := rows, cols
	transpose := rows > cols
	if transpose {
		n, m = cols, rows
	}
	q := make([][]float64, n)
	withRNG(func(g *tensor.RNG) {
		for i := range q {
			q[i] = make([]float64, m)
			for j := range q[i] {
				q[i][j] = float64(g.NormFloat32())
			}
		}
	})
	for i := range q {
		for k := 0; k < i; k++ {
			dot := 0.0
			for j := range q[i] {
				dot += q[i][j] * q[k][j]
			}
			for j := range q[i] {
				q[i][j] -= dot * q[k][j]
			}
		}
		norm := 0.0
		for _, v := range q[i] {
			norm += v * v
		}
		norm = math.Sqrt(norm)
		for j := range q[i] {
			q[i][j] /= norm
		}
	}
	d := t.Data()
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			v := 0.0
			if transpose {
				v = q[c][r]
			} else {
				v = q[r][c]
			}
			d[r*cols+c] = float32(gain * v)
		}
	}
}

// newParam returns a zeroed parameter.
func newParam(shape ...int) *tensor.Tensor { return NewParameter(tensor.Zeros(shape...)) }
