package optim

import (
	"math"

	"github.com/shenml/shen/tensor"
)

// ClipGradNorm scales the gradients of params in place so that their joint
// norm is at most maxNorm, and returns the joint norm before clipping, as
// torch.nn.utils.clip_grad_norm_. normType is the p of the p-norm: 2 is the
// usual, math.Inf(1) the largest absolute value; any p > 0 works.
// Parameters without a gradient are skipped. As in torch, each tensor's
// norm is taken and rounded to float32, the norm of those norms is the
// total, and every gradient is multiplied by
// min(1, maxNorm/(total+1e-6)) computed in float32, even when that is 1.
// Cost: two passes over the gradients; the per-tensor sums are
// accumulated in float64. It panics if normType is not positive.
func ClipGradNorm(params []*tensor.Tensor, maxNorm, normType float64) float64 {
	if !(normType > 0) {
		panic("optim: ClipGradNorm: norm type must be > 0")
	}
	var acc float64
	any := false
	for _, p := range params {
		g := contiguousGrad(p)
		if g == nil {
			continue
		}
		any = true
		n := float64(tensorNorm(g, normType))
		switch {
		case math.IsInf(normType, 1):
			acc = max(acc, n)
		case normType == 2:
			acc += n * n
		case normType == 1:
			acc += n
		default:
			acc += math.Pow(n, normType)
		}
	}
	if !any {
		return 0
	}
	var total float32
	switch {
	case math.IsInf(normType, 1), normType == 1:
		total = float32(acc)
	case normType == 2:
		total = float32(math.Sqrt(acc))
	default:
		total = float32(math.Pow(acc, 1/normType))
	}
	coef := float32(maxNorm) / (total + 1e-6)
	coef = min(coef, 1)
	for _, p := range params {
		if g := contiguousGrad(p); g != nil {
			for i := range g {
				g[i] *= coef
			}
		}
	}
	return float64(total)
}

// ClipGradValue clamps every gradient element of params into
// [-clip, clip] in place, as torch.nn.utils.clip_grad_value_. Parameters
// without a gradient are skipped. Cost: one pass over the gradients.
func ClipGradValue(params []*tensor.Tensor, clip float64) {
	c := float32(clip)
	for _, p := range params {
		if g := contiguousGrad(p); g != nil {
			for i, v := range g {
				g[i] = min(max(v, -c), c)
			}
		}
	}
}

// contiguousGrad returns the live storage of p's gradient, first making the
// gradient contiguous if it is a strided view (writes to a copy would be lost).
func contiguousGrad(p *tensor.Tensor) []float32 {
	gt := p.Grad()
	if gt == nil {
		return nil
	}
	if !gt.IsContiguous() {
		gt = gt.Contiguous()
		p.SetGrad(gt)
	}
	return gt.Data()
}

// tensorNorm is torch.norm(g, p) for one tensor, rounded to float32.
func tensorNorm(g []float32, p float64) float32 {
	var s float64
	switch {
	case math.IsInf(p, 1):
		var m float32
		for _, v := range g {
			a := float32(math.Abs(float64(v)))
			if a > m || a != a {
				m = a
			}
		}
		return m
	case p == 2:
		for _, v := range g {
			s += float64(v) * float64(v)
		}
		return float32(math.Sqrt(s))
	case p == 1:
		for _, v := range g {
			s += math.Abs(float64(v))
		}
		return float32(s)
	default:
		for _, v := range g {
			s += math.Pow(math.Abs(float64(v)), p)
		}
		return float32(math.Pow(s, 1/p))
	}
}
