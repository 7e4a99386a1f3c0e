package tensor

import (
	"math"

	"github.com/shenml/shen/internal/kernel"
)

// Activations. Each is written as two slice kernels, a forward
// dst = f(src) and a backward dx = g * f'(x) (given x and y = f(x)), that
// run over contiguous chunks: the loops are tight, with no function call
// per element, and large tensors are split over the cores with
// kernel.Parallel. Strided inputs are gathered into a contiguous temporary
// first. Sigmoid, Tanh, SiLU and GELUTanh use the kernel package's vector
// float32 transcendentals (within 1-2 ulps of the correctly rounded value,
// about what PyTorch's own vectorised kernels give); the rest do their
// arithmetic in float64 so that results match PyTorch's to within a float32
// rounding.

// Grains are the smallest chunk worth handing to another core: a parallel
// call costs a few microseconds, so memory-bound kernels (ReLU) need far
// more elements per chunk than those that evaluate exp or erf per element.
const (
	grainCheap = 1 << 15
	grainTrans = 1 << 12
)

// actRun runs fn over [0, n) in parallel chunks of at least grain elements.
func actRun(n, grain int, fn func(lo, hi int)) {
	if n <= grain {
		fn(0, n)
		return
	}
	kernel.Parallel(n, grain, fn)
}

// contigData returns t's elements in row-major order and, when it had to
// copy them, the temporary holding the copy (to Release after use; nil
// otherwise). It records no history.
func contigData(t *Tensor) ([]float32, *Tensor) {
	t.live("an activation")
	if t.IsContiguous() {
		return t.Data(), nil
	}
	tmp := newTensor(t.shape, false)
	copyInto(tmp, t)
	return tmp.st.data, tmp
}

// activation applies a forward kernel to t and records a backward that
// calls bwd. needX says whether bwd reads x (otherwise it gets nil and
// works from y alone, which saves gathering a strided input again).
func activation(name string, t *Tensor, grain int, needX bool,
	fwd func(dst, src []float32), bwd func(dx, g, x, y []float32)) *Tensor {
	src, tmp := contigData(t)
	out := newTensor(t.shape, false)
	od := out.st.data
	actRun(len(od), grain, func(lo, hi int) { fwd(od[lo:hi], src[lo:hi]) })
	tmp.releaseOwned()
	return record(out, name, []*Tensor{t}, func(g *Tensor, grads []*Tensor) {
		gd, gtmp := contigData(g)
		var xd []float32
		var xtmp *Tensor
		if needX {
			xd, xtmp = contigData(t)
		}
		yd := out.Data()
		dx := newTensor(t.shape, false)
		dd := dx.st.data
		actRun(len(dd), grain, func(lo, hi int) {
			var xs []float32
			if xd != nil {
				xs = xd[lo:hi]
			}
			bwd(dd[lo:hi], gd[lo:hi], xs, yd[lo:hi])
		})
		gtmp.releaseOwned()
		xtmp.releaseOwned()
		grads[0] = dx
	})
}

// ReLU returns max(x, 0) elementwise, like torch.relu (NaN propagates). Its
// gradient is 0 where the output is <= 0, as in PyTorch.
func ReLU(t *Tensor) *Tensor {
	return activation("ReLU", t, grainCheap, false, reluFwd, reluBwd)
}

// reluFwd and reluBwd are the AVX2 loops of internal/kernel: torch's ReLU
// (NaN propagates) and its gradient given the output (passed where y != 0,
// including NaN, as PyTorch does).
func reluFwd(dst, src []float32) { kernel.ReluForward(dst, src) }

func reluBwd(dx, g, _, y []float32) { kernel.ReluBackward(dx, g, y) }

// LeakyReLU returns x where x > 0 and slope*x elsewhere, like
// torch.nn.functional.leaky_relu(x, negative_slope=slope).
func LeakyReLU(t *Tensor, slope float32) *Tensor {
	return activation("LeakyReLU", t, grainCheap, true,
		func(dst, src []float32) {
			src = src[:len(dst)]
			for i, v := range src {
				if v > 0 {
					dst[i] = v
				} else {
					dst[i] = v * slope
				}
			}
		},
		func(dx, g, x, _ []float32) {
			g, x = g[:len(dx)], x[:len(dx)]
			for i, v := range x {
				if v > 0 {
					dx[i] = g[i]
				} else {
					dx[i] = g[i] * slope
				}
			}
		})
}

// ELU returns x where x > 0 and alpha*(exp(x)-1) elsewhere, like
// torch.nn.functional.elu. expm1 keeps small negative inputs accurate.
func ELU(t *Tensor, alpha float32) *Tensor {
	a := float64(alpha)
	return activation("ELU", t, grainTrans, true,
		func(dst, src []float32) {
			src = src[:len(dst)]
			for i, v := range src {
				if v > 0 {
					dst[i] = v
				} else {
					dst[i] = float32(a * math.Expm1(float64(v)))
				}
			}
		},
		func(dx, g, x, _ []float32) {
			g, x = g[:len(dx)], x[:len(dx)]
			for i, v := range x {
				if v > 0 {
					dx[i] = g[i]
				} else {
					dx[i] = float32(float64(g[i]) * a * math.Exp(float64(v)))
				}
			}
		})
}

// sigmoid64 is 1/(1+exp(-x)) evaluated so that exp never overflows: with
// e = exp(-|x|) it is 1/(1+e) for x >= 0 and e/(1+e) for x < 0, which stays
// exact where 1+exp(-x) would round to infinity.
func sigmoid64(x float64) float64 {
	e := math.Exp(-math.Abs(x)) // in (0, 1]: never overflows
	r := 1 / (1 + e)
	if x < 0 { // a select, not a branch, on amd64
		r *= e
	}
	return r
}

// Sigmoid returns 1/(1+exp(-x)) elementwise, like torch.sigmoid, stable for
// inputs of any magnitude. The gradient is y*(1-y).
func Sigmoid(t *Tensor) *Tensor {
	return activation("Sigmoid", t, grainTrans, false, sigmoidFwd, sigmoidBwd)
}

func sigmoidFwd(dst, src []float32) { kernel.Sigmoid(dst, src) }

func sigmoidBwd(dx, g, _, y []float32) {
	g, y = g[:len(dx)], y[:len(dx)]
	for i, v := range y {
		dx[i] = g[i] * v * (1 - v)
	}
}

// Tanh returns the hyperbolic tangent elementwise, like torch.tanh. The
// gradient is 1-y².
func Tanh(t *Tensor) *Tensor {
	return activation("Tanh", t, grainTrans, false, tanhFwd, tanhBwd)
}

func tanhFwd(dst, src []float32) { kernel.Tanh(dst, src) }

func tanhBwd(dx, g, _, y []float32) {
	g, y = g[:len(dx)], y[:len(dx)]
	for i, v := range y {
		dx[i] = g[i] * (1 - v*v)
	}
}

const (
	invSqrt2    = 0.70710678118654752440 // 1/√2
	invSqrt2Pi  = 0.39894228040143267794 // 1/√(2π)
	sqrt2OverPi = 0.79788456080286535588 // √(2/π)
	geluCoef    = 0.044715               // the cubic term of the tanh approximation
)

// GELU returns x·Φ(x) = 0.5·x·(1+erf(x/√2)) elementwise, the exact form of
// torch.nn.functional.gelu (approximate='none').
func GELU(t *Tensor) *Tensor {
	return activation("GELU", t, grainTrans, true, geluFwd, geluBwd)
}

// The GELU kernels use the vector Erf (absolute error under 4e-7) and Exp.
// Like PyTorch's float32 kernel they form 1+erf(x/√2), so for x below
// about -3 the tiny result has an absolute error of a few 1e-7·|x| rather
// than full relative precision.
func geluFwd(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = x * invSqrt2
	}
	kernel.Erf(dst, dst)
	for i, x := range src {
		dst[i] = 0.5 * x * (1 + dst[i])
	}
}

// geluChunk bounds the stack buffer of geluBwd, which needs both erf and
// exp of each element before it can combine them.
const geluChunk = 256

func geluBwd(dx, g, x, _ []float32) {
	g, x = g[:len(dx)], x[:len(dx)]
	var pdf [geluChunk]float32
	for lo := 0; lo < len(dx); lo += geluChunk {
		hi := min(lo+geluChunk, len(dx))
		xs, ds, ps := x[lo:hi], dx[lo:hi], pdf[:hi-lo]
		for i, v := range xs {
			ds[i] = v * invSqrt2
			ps[i] = -0.5 * v * v
		}
		kernel.Erf(ds, ds)
		kernel.Exp(ps, ps)
		for i, v := range xs {
			cdf := 0.5 * (1 + ds[i])
			ds[i] = g[lo+i] * (cdf + v*invSqrt2Pi*ps[i])
		}
	}
}

// GELUTanh returns the tanh approximation of GELU,
// 0.5·x·(1+tanh(√(2/π)·(x+0.044715·x³))), like
// torch.nn.functional.gelu(x, approximate='tanh').
func GELUTanh(t *Tensor) *Tensor {
	return activation("GELUTanh", t, grainTrans, true,
		func(dst, src []float32) {
			src = src[:len(dst)]
			for i, x := range src {
				dst[i] = sqrt2OverPi * (x + geluCoef*x*x*x)
			}
			kernel.Tanh(dst, dst)
			for i, x := range src {
				dst[i] = 0.5 * x * (1 + dst[i])
			}
		},
		func(dx, g, x, _ []float32) {
			g, x = g[:len(dx)], x[:len(dx)]
			for i, v := range x {
				dx[i] = sqrt2OverPi * (v + geluCoef*v*v*v)
			}
			kernel.Tanh(dx, dx)
			for i, v := range x {
				th := dx[i]
				d := 0.5*(1+th) + 0.5*v*(1-th*th)*sqrt2OverPi*(1+3*geluCoef*v*v)
				dx[i] = g[i] * d
			}
		})
}

// SiLU returns x·sigmoid(x) elementwise (also called swish), like
// torch.nn.functional.silu.
func SiLU(t *Tensor) *Tensor {
	return activation("SiLU", t, grainTrans, true,
		func(dst, src []float32) {
			src = src[:len(dst)]
			kernel.Sigmoid(dst, src)
			for i, v := range src {
				// Below -80 σ(x) is denormal in float32 and has lost
				// significant bits that x·σ(x), a normal number down to
				// -87, still needs: those rare lanes go through float64.
				if v < -80 {
					dst[i] = float32(float64(v) * sigmoid64(float64(v)))
				} else {
					dst[i] *= v
				}
			}
		},
		func(dx, g, x, _ []float32) {
			// σ(x) goes into dx first: the vector kernel needs somewhere
			// to put a whole chunk, and dx is overwritten element by
			// element after reading it.
			g, x = g[:len(dx)], x[:len(dx)]
			kernel.Sigmoid(dx, x)
			for i, v := range x {
				s := dx[i]
				if v < -80 { // denormal σ(x), as in the forward
					xv := float64(v)
					s := sigmoid64(xv)
					dx[i] = float32(float64(g[i]) * s * (1 + xv*(1-s)))
					continue
				}
				dx[i] = g[i] * s * (1 + v*(1-s))
			}
		})
}

// Softplus returns log(1+exp(beta·x))/beta elementwise, reverting to x
// where beta·x > threshold, like torch.nn.functional.softplus(x, beta,
// threshold) (PyTorch's defaults are beta=1, threshold=20). Below the
// threshold it is computed as max(z,0)+log1p(exp(-|z|)), which neither
// overflows nor loses the small values for very negative z.
func Softplus(t *Tensor, beta, threshold float32) *Tensor {
	b, th := float64(beta), float64(threshold)
	return activation("Softplus", t, grainTrans, true,
		func(dst, src []float32) {
			src = src[:len(dst)]
			for i, v := range src {
				z := float64(v) * b
				if z > th {
					dst[i] = v
					continue
				}
				dst[i] = float32((math.Max(z, 0) + math.Log1p(math.Exp(-math.Abs(z)))) / b)
			}
		},
		func(dx, g, x, _ []float32) {
			g, x = g[:len(dx)], x[:len(dx)]
			// g·σ(βx), with σ from the vector kernel, or g above the
			// threshold (where σ(βx) rounds to 1 anyway for the default 20).
			for i, v := range x {
				dx[i] = v * beta
			}
			kernel.Sigmoid(dx, dx)
			for i, v := range x {
				if float64(v)*b > th {
					dx[i] = g[i]
				} else {
					dx[i] *= g[i]
				}
			}
		})
}
