package nn

import (
	"fmt"
	"math"
	"slices"

	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/tensor"
)

// LayerNorm normalises over the trailing NormalizedShape dimensions and
// applies an elementwise affine transform (torch.nn.LayerNorm). Forward and
// backward are one fused op each.
//
// Shape: input [*, NormalizedShape...] (any leading dims, none included);
// output the same.
type LayerNorm struct {
	NormalizedShape []int
	Eps             float32
	Weight, Bias    *tensor.Tensor // nil when not elementwise-affine
}

// NewLayerNorm returns a LayerNorm over the given trailing shape with
// weight 1, bias 0 and eps 1e-5, as torch does.
func NewLayerNorm(shape ...int) *LayerNorm {
	l := &LayerNorm{NormalizedShape: slices.Clone(shape), Eps: 1e-5,
		Weight: newParam(shape...), Bias: newParam(shape...)}
	Constant(l.Weight, 1)
	return l
}

// Members lists weight and bias.
func (l *LayerNorm) Members() Members {
	return Members{Params: []Named[*tensor.Tensor]{{"weight", l.Weight}, {"bias", l.Bias}}}
}

// Forward normalises x.
func (l *LayerNorm) Forward(x *tensor.Tensor) *tensor.Tensor {
	shape := x.Shape()
	k := len(l.NormalizedShape)
	if len(shape) < k || !slices.Equal(shape[len(shape)-k:], l.NormalizedShape) {
		panic(fmt.Sprintf("nn: LayerNorm over %v got input of shape %v", l.NormalizedShape, shape))
	}
	return LayerNormOp(x, l.Weight, l.Bias, len(x.Shape())-k, l.Eps)
}

// LayerNormOp normalises x over dims [from, rank) with optional weight and
// bias shaped like those dims (torch.nn.functional.layer_norm). Rows are
// spread over the worker pool; the weight and bias gradients are summed per
// chunk and then in chunk order, so results do not depend on scheduling.
func LayerNormOp(x, w, b *tensor.Tensor, from int, eps float32) *tensor.Tensor {
	x = x.Contiguous()
	shape := x.Shape()
	d := 1
	for _, s := range shape[from:] {
		d *= s
	}
	rows := x.Numel() / max(d, 1)
	out := tensor.Empty(shape...)
	stats := tensor.Empty(2, rows) // mean, then 1/std, per row
	mean, rstd := stats.Data()[:rows], stats.Data()[rows:]
	xd, od := x.Data(), out.Data()
	var wd, bd []float32
	if w != nil {
		wd = w.Data()
	}
	if b != nil {
		bd = b.Data()
	}
	forRows(rows, d, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row, o := xd[r*d:(r+1)*d], od[r*d:(r+1)*d]
			// Two passes in float32 with vector sums, as torch's CPU
			// kernel: the mean, then the squared deviations.
			m := kernel.Sum(row) / float32(d)
			kernel.AddScalar(o, -m, row)
			rs := float32(1 / math.Sqrt(float64(kernel.Dot(o, o))/float64(d)+float64(eps)))
			mean[r], rstd[r] = m, rs
			kernel.Scale(o, rs, o)
			if wd != nil {
				kernel.Mul(o, o, wd)
			}
			if bd != nil {
				kernel.Add(o, o, bd)
			}
		}
	})
	// The row statistics join the graph as a gradient-less node so that
	// FreeGraph returns their buffer with the rest of the step's.
	tensor.Record(stats, "LayerNorm.stats", []*tensor.Tensor{x, w, b}, func(*tensor.Tensor, []*tensor.Tensor) {})
	return tensor.Record(out, "LayerNorm", []*tensor.Tensor{x, w, b, stats}, func(g *tensor.Tensor, grads []*tensor.Tensor) {
		g = g.Contiguous()
		gd := g.Data()
		needW := w != nil && w.RequiresGrad()
		needB := b != nil && b.RequiresGrad()
		var dx []float32
		if x.RequiresGrad() {
			grads[0] = tensor.Empty(shape...)
			dx = grads[0].Data()
		}
		chunks := rowChunks(rows, d)
		var part []float32 // per chunk: dw then db partial sums
		if needW || needB {
			pt := tensor.Zeros(chunks, 2*d)
			defer pt.Release()
			part = pt.Data()
		}
		// Per chunk: x̂ and a product of one row.
		sc := tensor.Empty(chunks, 2*d)
		defer sc.Release()
		scd := sc.Data()
		kernel.ForParts(rows, chunks, func(c, lo, hi int) {
			var dw, db []float32
			if part != nil {
				dw, db = part[c*2*d:c*2*d+d], part[c*2*d+d:(c+1)*2*d]
			}
			xh, tmp := scd[c*2*d:c*2*d+d], scd[c*2*d+d:(c+1)*2*d]
			for r := lo; r < hi; r++ {
				row, gr := xd[r*d:(r+1)*d], gd[r*d:(r+1)*d]
				kernel.AddScalar(xh, -mean[r], row)
				kernel.Scale(xh, rstd[r], xh)
				if dw != nil {
					kernel.Add(db, db, gr)
					kernel.Mul(tmp, gr, xh)
					kernel.Add(dw, dw, tmp)
				}
				if dx == nil {
					continue
				}
				// dx = rstd·(g·w − mean(g·w) − x̂·mean(g·w·x̂))
				gw := gr
				if wd != nil {
					kernel.Mul(tmp, gr, wd)
					gw = tmp
				}
				mg, mgx := kernel.Sum(gw)/float32(d), kernel.Dot(gw, xh)/float32(d)
				o := dx[r*d : (r+1)*d]
				copy(o, gw)
				kernel.Axpy(-mgx, xh, o)
				kernel.AddScalar(o, -mg, o)
				kernel.Scale(o, rstd[r], o)
			}
		})
		if part == nil {
			return
		}
		// Reduce the partials in chunk order.
		reduce := func(p *tensor.Tensor, off int) *tensor.Tensor {
			sum := tensor.Zeros(p.Shape()...)
			sd := sum.Data()
			for c := 0; c < chunks; c++ {
				kernel.Add(sd, sd, part[c*2*d+off:c*2*d+off+d])
			}
			return sum
		}
		if needW {
			grads[1] = reduce(w, 0)
		}
		if needB {
			grads[2] = reduce(b, d)
		}
	})
}

// rowChunks is how many parallel chunks rows of width d are cut into: enough
// work per chunk to repay the hand-off, and at most maxRowChunks. The count
// does not depend on the thread count, so the per-chunk partial sums of the
// weight gradients, and so the results, are the same with any number of
// threads.
func rowChunks(rows, d int) int {
	const minWork = 1 << 14 // elements per chunk
	return max(1, min(maxRowChunks, rows*d/minWork, rows))
}

// maxRowChunks bounds rowChunks: enough chunks for a few per thread on
// small machines, few enough that reducing the partials stays cheap.
const maxRowChunks = 16

// forRows runs fn over [0, rows) in rowChunks contiguous chunks on the pool.
func forRows(rows, d int, fn func(lo, hi int)) {
	kernel.ForParts(rows, rowChunks(rows, d), func(_, lo, hi int) { fn(lo, hi) })
}

// BatchNorm normalises each channel (dim 1) over the batch and any
// spatial dimensions: BatchNorm1D on [N, C] or [N, C, L], BatchNorm2D on
// [N, C, H, W] (torch.nn.BatchNorm1d/2d). In training it uses the batch's
// statistics and updates the running ones with Momentum; in evaluation it
// uses the running ones.
//
// Shape: BatchNorm1D takes [N, C] or [N, C, L], BatchNorm2D [N, C, H, W];
// the output has the input's shape. Unbatched input is refused, as torch
// 1.13 refuses it (the panic says to add the batch dimension).
type BatchNorm struct {
	Mode
	NumFeatures  int
	Eps          float32
	Momentum     float32
	Weight, Bias *tensor.Tensor
	// Buffers, saved in the state dict as torch does.
	RunningMean, RunningVar, NumBatchesTracked *tensor.Tensor
	rank                                       []int // accepted input ranks
}

// NewBatchNorm1D returns a BatchNorm for [N, C] or [N, C, L] inputs.
func NewBatchNorm1D(c int) *BatchNorm { return newBatchNorm(c, 2, 3) }

// NewBatchNorm2D returns a BatchNorm for [N, C, H, W] inputs.
func NewBatchNorm2D(c int) *BatchNorm { return newBatchNorm(c, 4) }

func newBatchNorm(c int, ranks ...int) *BatchNorm {
	bn := &BatchNorm{NumFeatures: c, Eps: 1e-5, Momentum: 0.1,
		Weight: newParam(c), Bias: newParam(c),
		RunningMean: tensor.Zeros(c), RunningVar: tensor.Ones(c), NumBatchesTracked: tensor.Zeros(),
		rank: ranks}
	Constant(bn.Weight, 1)
	return bn
}

// Members lists weight, bias and the running-statistics buffers.
func (bn *BatchNorm) Members() Members {
	return Members{
		Params: []Named[*tensor.Tensor]{{"weight", bn.Weight}, {"bias", bn.Bias}},
		Buffers: []Named[*tensor.Tensor]{{"running_mean", bn.RunningMean}, {"running_var", bn.RunningVar},
			{"num_batches_tracked", bn.NumBatchesTracked}},
	}
}

// Forward normalises x per channel.
func (bn *BatchNorm) Forward(x *tensor.Tensor) *tensor.Tensor {
	shape := x.Shape()
	if !slices.Contains(bn.rank, len(shape)) || shape[1] != bn.NumFeatures {
		if len(shape) == slices.Min(bn.rank)-1 {
			panic(fmt.Sprintf("nn: BatchNorm(%d) for inputs of rank %v got shape %v: unbatched input is not taken (as in torch 1.13); add a batch dimension with x.Unsqueeze(0)", bn.NumFeatures, bn.rank, shape))
		}
		panic(fmt.Sprintf("nn: BatchNorm(%d) for inputs of rank %v got shape %v", bn.NumFeatures, bn.rank, shape))
	}
	x = x.Contiguous()
	n, c := shape[0], shape[1]
	s := x.Numel() / max(n*c, 1)
	m := n * s
	xd := x.Data()
	mean := make([]float32, c)
	rstd := make([]float32, c)
	train := bn.Training()
	if train && m <= 1 {
		panic(fmt.Sprintf("nn: BatchNorm in training needs more than one value per channel, got input of shape %v", shape))
	}
	for ch := 0; ch < c; ch++ {
		if !train {
			mean[ch] = bn.RunningMean.Data()[ch]
			rstd[ch] = float32(1 / math.Sqrt(float64(bn.RunningVar.Data()[ch])+float64(bn.Eps)))
			continue
		}
		var sum, ss float64
		for i := 0; i < n; i++ {
			for _, v := range xd[(i*c+ch)*s : (i*c+ch+1)*s] {
				sum += float64(v)
			}
		}
		mu := sum / float64(m)
		for i := 0; i < n; i++ {
			for _, v := range xd[(i*c+ch)*s : (i*c+ch+1)*s] {
				dv := float64(v) - mu
				ss += dv * dv
			}
		}
		mean[ch] = float32(mu)
		rstd[ch] = float32(1 / math.Sqrt(ss/float64(m)+float64(bn.Eps)))
		mom := float64(bn.Momentum)
		rm, rv := bn.RunningMean.Data(), bn.RunningVar.Data()
		rm[ch] = float32((1-mom)*float64(rm[ch]) + mom*mu)
		rv[ch] = float32((1-mom)*float64(rv[ch]) + mom*ss/float64(m-1))
	}
	if train {
		bn.NumBatchesTracked.Data()[0]++
	}
	out := tensor.Empty(shape...)
	od, wd, bd := out.Data(), bn.Weight.Data(), bn.Bias.Data()
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			sc := rstd[ch] * wd[ch]
			sh := bd[ch] - mean[ch]*sc
			base := (i*c + ch) * s
			for j, v := range xd[base : base+s] {
				od[base+j] = v*sc + sh
			}
		}
	}
	w, b := bn.Weight, bn.Bias
	return tensor.Record(out, "BatchNorm", []*tensor.Tensor{x, w, b}, func(g *tensor.Tensor, grads []*tensor.Tensor) {
		g = g.Contiguous()
		gd := g.Data()
		dw, db := tensor.Zeros(c), tensor.Zeros(c)
		sumG, sumGX := db.Data(), dw.Data()
		for i := 0; i < n; i++ {
			for ch := 0; ch < c; ch++ {
				base := (i*c + ch) * s
				mu, rs := mean[ch], rstd[ch]
				var a, bsum float32
				for j, v := range xd[base : base+s] {
					gi := gd[base+j]
					a += gi
					bsum += gi * (v - mu) * rs
				}
				sumG[ch] += a
				sumGX[ch] += bsum
			}
		}
		grads[1], grads[2] = dw, db
		if !x.RequiresGrad() {
			return
		}
		dx := tensor.Empty(shape...)
		dd := dx.Data()
		for i := 0; i < n; i++ {
			for ch := 0; ch < c; ch++ {
				base := (i*c + ch) * s
				mu, rs := mean[ch], rstd[ch]
				k := wd[ch] * rs
				if !train { // running statistics are constants
					for j := range dd[base : base+s] {
						dd[base+j] = gd[base+j] * k
					}
					continue
				}
				mg, mgx := sumG[ch]/float32(m), sumGX[ch]/float32(m)
				for j, v := range xd[base : base+s] {
					dd[base+j] = k * (gd[base+j] - mg - (v-mu)*rs*mgx)
				}
			}
		}
		grads[0] = dx
	})
}
