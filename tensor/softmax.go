package tensor

import (
	"fmt"
	"math"

	"github.com/shenml/shen/internal/kernel"
)

// axisLayout views a contiguous tensor of shape as [outer, n, inner] around
// axis: element (o, i, k) sits at o*n*inner + i*inner + k. Ops along one
// axis then walk "lines" of n elements with stride inner.
func axisLayout(shape []int, axis int) (outer, n, inner int) {
	outer, inner = 1, 1
	for _, d := range shape[:axis] {
		outer *= d
	}
	for _, d := range shape[axis+1:] {
		inner *= d
	}
	return outer, shape[axis], inner
}

// lineRun calls fn(base) for every line start in [lo, hi) of the
// outer*inner lines of an axis layout, splitting the lines over cores when
// there is enough work (n elements per line).
func lineRun(outer, n, inner int, fn func(base int)) {
	lines := outer * inner
	grain := max(1, grainTrans/max(n, 1))
	actRun(lines, grain, func(lo, hi int) {
		for l := lo; l < hi; l++ {
			o, k := l/inner, l%inner
			fn(o*n*inner + k)
		}
	})
}

// Softmax returns exp(x)/sum(exp(x)) along axis, like torch.softmax(t,
// dim=axis). The maximum of each line is subtracted before exp, so large
// inputs do not overflow; sums are accumulated in float64. The backward is
// fused: dx = y*(g - sum(g*y)).
func Softmax(t *Tensor, axis int) *Tensor {
	return softmax("Softmax", t, axis, false)
}

// LogSoftmax returns x - log(sum(exp(x))) along axis, like
// torch.log_softmax(t, dim=axis), computed stably (max subtracted first)
// rather than as Log(Softmax(x)), which underflows to -Inf. The backward is
// fused: dx = g - exp(y)*sum(g).
func LogSoftmax(t *Tensor, axis int) *Tensor {
	return softmax("LogSoftmax", t, axis, true)
}

func softmax(name string, t *Tensor, axis int, log bool) *Tensor {
	if t.Dim() == 0 { // a 0-d tensor is a line of one element, as in PyTorch
		normAxis(axis, 1, name, t.shape)
		return softmax(name, t.Reshape(1), 0, log).Reshape()
	}
	axis = t.axis(axis, name)
	outer, n, inner := axisLayout(t.shape, axis)
	src, tmp := contigData(t)
	out := newTensor(t.shape, false)
	od := out.st.data
	lineRun(outer, n, inner, func(b int) { softmaxLine(od, src, b, n, inner, log) })
	tmp.releaseOwned()
	return record(out, name, []*Tensor{t}, func(g *Tensor, grads []*Tensor) {
		gd, gtmp := contigData(g)
		yd := out.Data()
		dx := newTensor(t.shape, false)
		dd := dx.st.data
		lineRun(outer, n, inner, func(b int) { softmaxLineGrad(dd, gd, yd, b, n, inner, log) })
		gtmp.releaseOwned()
		grads[0] = dx
	})
}

// softmaxLine writes the (log-)softmax of the n elements src[b+i*s] into dst.
// A contiguous line (s == 1, softmax over the last axis) goes to the
// kernel's vector rows, which work in float32 throughout (a few ulps, as
// PyTorch's kernels); strided lines take the float64 loops.
func softmaxLine(dst, src []float32, b, n, s int, log bool) {
	if s == 1 {
		if log {
			kernel.LogSoftmaxRow(dst[b:b+n], src[b:b+n])
		} else {
			kernel.SoftmaxRow(dst[b:b+n], src[b:b+n])
		}
		return
	}
	m := float32(math.Inf(-1))
	for i := 0; i < n; i++ {
		if v := src[b+i*s]; v > m || v != v {
			m = v
		}
	}
	mm := float64(m)
	var sum float64
	for i := 0; i < n; i++ {
		sum += math.Exp(float64(src[b+i*s]) - mm)
	}
	if log {
		lse := mm + math.Log(sum)
		for i := 0; i < n; i++ {
			dst[b+i*s] = float32(float64(src[b+i*s]) - lse)
		}
		return
	}
	inv := 1 / sum
	for i := 0; i < n; i++ {
		dst[b+i*s] = float32(math.Exp(float64(src[b+i*s])-mm) * inv)
	}
}

func softmaxLineGrad(dx, g, y []float32, b, n, s int, log bool) {
	var dot float64
	if log {
		for i := 0; i < n; i++ {
			dot += float64(g[b+i*s])
		}
		if s == 1 { // exp(y) for the whole line in the vector kernel
			d := dx[b : b+n]
			kernel.Exp(d, y[b:b+n])
			for i, gv := range g[b : b+n] {
				d[i] = float32(float64(gv) - float64(d[i])*dot)
			}
			return
		}
		for i := 0; i < n; i++ {
			j := b + i*s
			dx[j] = float32(float64(g[j]) - math.Exp(float64(y[j]))*dot)
		}
		return
	}
	for i := 0; i < n; i++ {
		j := b + i*s
		dot += float64(g[j]) * float64(y[j])
	}
	for i := 0; i < n; i++ {
		j := b + i*s
		dx[j] = float32(float64(y[j]) * (float64(g[j]) - dot))
	}
}

// LogSumExp returns log(sum(exp(x))) over the given axes (all when none),
// like torch.logsumexp. The maximum is subtracted first (an infinite
// maximum is treated as 0, as PyTorch does, so that all -Inf gives -Inf).
// The gradient is exp(x - out).
func LogSumExp(t *Tensor, keepdim bool, axes ...int) *Tensor {
	_, mask := reduceAxesList(t, axes, "LogSumExp")
	if n := trailingRow(t.shape, mask); n > 0 {
		return logSumExpRows(t, mask, keepdim, n)
	}
	m := reduce(reduceMax, t, mask)
	for i, v := range m.st.data {
		if math.IsInf(float64(v), 0) {
			m.st.data[i] = 0
		}
	}
	e := mapBinary(t, m, func(x, mx float32) float32 { return float32(math.Exp(float64(x) - float64(mx))) })
	lse := reduce(reduceSum, e, mask)
	e.releaseOwned()
	for i, s := range lse.st.data {
		lse.st.data[i] = float32(math.Log(float64(s)) + float64(m.st.data[i]))
	}
	m.releaseOwned()
	keep := lse.shape
	out := squeezeTo(lse, reducedShape(t.shape, mask, keepdim))
	return record(out, "LogSumExp", []*Tensor{t}, func(g *Tensor, grads []*Tensor) {
		p := mapBinary(t, lse, func(x, l float32) float32 { return float32(math.Exp(float64(x) - float64(l))) })
		grads[0] = binary(opMul, p, g.Reshape(keep...))
		p.releaseOwned()
	})
}

// trailingRow returns the number of elements reduced per output when the
// reduced axes are the trailing ones (so that, in row-major order, each
// output reduces one contiguous row of that length), and 0 otherwise or
// when that length is 0.
func trailingRow(shape []int, mask []bool) int {
	n, seen := 1, false
	for i, m := range mask {
		switch {
		case m:
			seen = true
			n *= shape[i]
		case seen:
			return 0
		}
	}
	if !seen {
		return 0
	}
	return n
}

// logSumExpRows is LogSumExp over trailing axes: one kernel.LogSumExp per
// row of n elements (vector exp and sum, the log in float64), rows split
// over the cores, and a backward of exp(x - out)·g by row in the vector
// kernels.
func logSumExpRows(t *Tensor, mask []bool, keepdim bool, n int) *Tensor {
	src, tmp := contigData(t)
	lse := newTensor(reducedShape(t.shape, mask, true), false)
	ld := lse.st.data
	grain := max(1, grainTrans/n)
	actRun(len(ld), grain, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			ld[r] = kernel.LogSumExp(src[r*n : (r+1)*n])
		}
	})
	tmp.releaseOwned()
	out := squeezeTo(lse, reducedShape(t.shape, mask, keepdim))
	return record(out, "LogSumExp", []*Tensor{t}, func(g *Tensor, grads []*Tensor) {
		gd, gtmp := contigData(g)
		x, xtmp := contigData(t)
		od := out.Data()
		dx := newTensor(t.shape, false)
		dd := dx.st.data
		actRun(len(od), grain, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				d := dd[r*n : (r+1)*n]
				kernel.AddScalar(d, -od[r], x[r*n:(r+1)*n])
				kernel.Exp(d, d)
				kernel.Scale(d, gd[r], d)
			}
		})
		gtmp.releaseOwned()
		xtmp.releaseOwned()
		grads[0] = dx
	})
}

// Var returns the variance over the given axes (all when none), like
// torch.var(t, dim=axes, unbiased=unbiased, keepdim=keepdim): the mean
// squared deviation, divided by N-1 when unbiased (NaN when N-1 is 0, as
// in PyTorch). Two passes (mean, then squared deviations) with float64
// sums avoid the cancellation of the one-pass E[x²]-E[x]² formula.
func Var(t *Tensor, unbiased, keepdim bool, axes ...int) *Tensor {
	return moment("Var", t, unbiased, keepdim, axes, false)
}

// Std returns the standard deviation, the square root of Var, like
// torch.std. Where it is 0 its gradient is 0, as PyTorch masks it, rather
// than the Inf·0 of the chain rule.
func Std(t *Tensor, unbiased, keepdim bool, axes ...int) *Tensor {
	return moment("Std", t, unbiased, keepdim, axes, true)
}

func moment(name string, t *Tensor, unbiased, keepdim bool, axes []int, std bool) *Tensor {
	_, mask := reduceAxesList(t, axes, name)
	count := 1
	for i, m := range mask {
		if m {
			count *= t.shape[i]
		}
	}
	den := float32(count)
	if unbiased {
		den = float32(max(count-1, 0))
	}
	mean := reduce(reduceSum, t, mask)
	for i := range mean.st.data {
		mean.st.data[i] /= float32(count)
	}
	d2 := mapBinary(t, mean, func(x, m float32) float32 { d := x - m; return d * d })
	res := reduce(reduceSum, d2, mask)
	d2.releaseOwned()
	mean.releaseOwned() // recomputed by the backward, so no buffer outlives the step
	for i, v := range res.st.data {
		v /= den
		if std {
			v = float32(math.Sqrt(float64(v)))
		}
		res.st.data[i] = v
	}
	keep := res.shape
	out := squeezeTo(res, reducedShape(t.shape, mask, keepdim))
	return record(out, name, []*Tensor{t}, func(g *Tensor, grads []*Tensor) {
		// coef is the per-slot factor of (x - mean): 2g/den for the
		// variance, g/(den·std) for the standard deviation.
		coef := mapBinary(g.Reshape(keep...), res, func(gv, y float32) float32 {
			if std {
				if y == 0 {
					return 0
				}
				return gv / (den * y)
			}
			return 2 * gv / den
		})
		mean := reduce(reduceSum, t, mask)
		for i := range mean.st.data {
			mean.st.data[i] /= float32(count)
		}
		diff := mapBinary(t, mean, func(x, m float32) float32 { return x - m })
		grads[0] = binary(opMul, diff, coef)
		diff.releaseOwned()
		coef.releaseOwned()
		mean.releaseOwned()
	})
}

// Argmax returns the index of the largest element along axis, like
// torch.argmax(t, dim=axis, keepdim=keepdim): the first one at ties, and
// the first NaN if there is one (NaN counts as the largest value).
func Argmax(t *Tensor, axis int, keepdim bool) *IntTensor {
	return argExtreme("Argmax", t, axis, keepdim, true)
}

// Argmin returns the index of the smallest element along axis, like
// torch.argmin: the first one at ties, and the first NaN if there is one.
func Argmin(t *Tensor, axis int, keepdim bool) *IntTensor {
	return argExtreme("Argmin", t, axis, keepdim, false)
}

func argExtreme(name string, t *Tensor, axis int, keepdim, isMax bool) *IntTensor {
	if t.Dim() == 0 {
		normAxis(axis, 1, name, t.shape)
		return &IntTensor{data: []int64{0}, shape: []int{}}
	}
	axis = t.axis(axis, name)
	outer, n, inner := axisLayout(t.shape, axis)
	if n == 0 {
		panic(fmt.Sprintf("tensor: %s: axis %d of shape %v is empty", name, axis, t.shape))
	}
	src, tmp := contigData(t)
	shape := make([]int, 0, t.Dim())
	for i, d := range t.shape {
		switch {
		case i != axis:
			shape = append(shape, d)
		case keepdim:
			shape = append(shape, 1)
		}
	}
	res := make([]int64, outer*inner)
	for o := 0; o < outer; o++ {
		for k := 0; k < inner; k++ {
			b := o*n*inner + k
			best, bi := src[b], 0
			for i := 1; i < n && best == best; i++ {
				v := src[b+i*inner]
				if v != v || (isMax && v > best) || (!isMax && v < best) {
					best, bi = v, i
				}
			}
			res[o*inner+k] = int64(bi)
		}
	}
	tmp.releaseOwned()
	return &IntTensor{data: res, shape: shape}
}
