package nn

import (
	"fmt"

	"github.com/shenml/shen/tensor"
)

// Reduction says how a loss combines per-element values, as torch's
// reduction argument: "mean" (the default when empty), "sum" or "none".
type Reduction string

// The reductions.
const (
	ReduceMean Reduction = "mean"
	ReduceSum  Reduction = "sum"
	ReduceNone Reduction = "none"
)

func reduceLoss(l *tensor.Tensor, r Reduction) *tensor.Tensor {
	switch r {
	case ReduceMean, "":
		return tensor.Mean(l, false)
	case ReduceSum:
		return tensor.Sum(l, false)
	case ReduceNone:
		return l
	}
	panic(fmt.Sprintf("nn: unknown loss reduction %q (want mean, sum or none)", r))
}

func checkSame(op string, a, b *tensor.Tensor) {
	as, bs := a.Shape(), b.Shape()
	if len(as) == 2 && len(bs) == 1 && as[1] == 1 && as[0] == bs[0] {
		panic(fmt.Sprintf("nn: %s: input shape %v and target shape %v differ: give the target as [%d, 1] (target.Reshape(%d, 1)), like the input, not [%d]; torch would broadcast these to [%d, %d] silently", op, as, bs, as[0], as[0], bs[0], as[0], as[0]))
	}
	if len(as) == 1 && len(bs) == 2 && bs[1] == 1 && as[0] == bs[0] {
		panic(fmt.Sprintf("nn: %s: input shape %v and target shape %v differ: give the target as [%d] like the input (target.Reshape(%d)), or the input as [%d, 1]", op, as, bs, as[0], as[0], as[0]))
	}
	if !tensor.SameShape(as, bs) {
		panic(fmt.Sprintf("nn: %s: input shape %v and target shape %v differ", op, a.Shape(), b.Shape()))
	}
}

// MSELoss is the mean squared error (torch.nn.functional.mse_loss).
//
// Shape: pred and target the same shape, any. Regression heads give
// [B, 1] for one target: the loader's [B] targets must then be reshaped to
// [B, 1]; the panic says which. (torch broadcasts [B, 1] against [B] to
// [B, B] with only a warning; Shen refuses.) The same holds for every
// elementwise loss below.
func MSELoss(pred, target *tensor.Tensor, r Reduction) *tensor.Tensor {
	checkSame("MSELoss", pred, target)
	d := tensor.Sub(pred, target)
	return reduceLoss(tensor.Mul(d, d), r)
}

// L1Loss is the mean absolute error (torch.nn.functional.l1_loss).
func L1Loss(pred, target *tensor.Tensor, r Reduction) *tensor.Tensor {
	checkSame("L1Loss", pred, target)
	return reduceLoss(tensor.Abs(tensor.Sub(pred, target)), r)
}

// SmoothL1Loss is 0.5·d²/beta where |d| < beta and |d| − 0.5·beta elsewhere
// (torch.nn.functional.smooth_l1_loss; torch default beta 1).
func SmoothL1Loss(pred, target *tensor.Tensor, beta float32, r Reduction) *tensor.Tensor {
	checkSame("SmoothL1Loss", pred, target)
	return reduceLoss(huber(pred, target, beta, 1/beta), r)
}

// HuberLoss is 0.5·d² where |d| < delta and delta·(|d| − 0.5·delta)
// elsewhere (torch.nn.functional.huber_loss; default delta 1).
func HuberLoss(pred, target *tensor.Tensor, delta float32, r Reduction) *tensor.Tensor {
	checkSame("HuberLoss", pred, target)
	return reduceLoss(huber(pred, target, delta, 1), r)
}

// huber returns scale·(0.5·d² where |d|<k, k·(|d|−0.5k) elsewhere).
func huber(pred, target *tensor.Tensor, k, scale float32) *tensor.Tensor {
	d := tensor.Abs(tensor.Sub(pred, target))
	quad := tensor.MulScalar(tensor.Mul(d, d), 0.5*scale)
	lin := tensor.MulScalar(tensor.AddScalar(d, -0.5*k), k*scale)
	return tensor.Where(tensor.Lt(d, tensor.Scalar(k)), quad, lin)
}

// CrossEntropyOptions are the optional arguments of torch's cross_entropy.
// The zero value is torch's defaults: no weights, ignore_index=-100 (no
// class is ignored), no label smoothing, mean reduction.
type CrossEntropyOptions struct {
	Weight *tensor.Tensor // per-class weights [C], or nil
	// IgnoreIndex, when set (nn.Ignore(k)), is a target value whose
	// samples add nothing to the loss nor to the mean's denominator. nil
	// is torch's default of -100: only targets equal to -100 are skipped,
	// so every real class counts. (A plain int would make the zero value
	// silently ignore class 0.)
	IgnoreIndex    *int
	LabelSmoothing float32
	Reduction      Reduction
}

// DefaultIgnoreIndex is torch's ignore_index default: targets equal to it
// are skipped even when CrossEntropyOptions.IgnoreIndex is nil, as in torch.
const DefaultIgnoreIndex = -100

// Ignore returns a pointer to class, for CrossEntropyOptions.IgnoreIndex:
// CrossEntropyOptions{IgnoreIndex: nn.Ignore(0)} is torch's
// cross_entropy(..., ignore_index=0).
func Ignore(class int) *int { return &class }

// CrossEntropy is softmax cross-entropy on raw logits against class
// indices, fused with log-softmax so the backward is one pass
// (torch.nn.functional.cross_entropy with defaults).
//
// Shape: logits [N, C], [C] (one unbatched sample) or [N, C, d...];
// target [N], [] or [N, d...] of class indices in [0, C). Targets are class
// numbers, not one-hot rows and not a column: a loader's [B, 1] labels must
// be reshaped to [B] (y.Reshape(B)); the panic says so.
func CrossEntropy(logits *tensor.Tensor, target *tensor.IntTensor) *tensor.Tensor {
	return CrossEntropyWith(logits, target, CrossEntropyOptions{})
}

// CrossEntropyWith is CrossEntropy with class weights, label smoothing,
// an ignore index and a reduction.
func CrossEntropyWith(logits *tensor.Tensor, target *tensor.IntTensor, o CrossEntropyOptions) *tensor.Tensor {
	r := o.Reduction
	if r == "" {
		r = ReduceMean
	}
	ignore := DefaultIgnoreIndex
	if o.IgnoreIndex != nil {
		ignore = *o.IgnoreIndex
	}
	return tensor.CrossEntropyWithLogits(logits, target, o.Weight, ignore, o.LabelSmoothing, string(r))
}

// NLLLoss is the negative log-likelihood of log-probabilities [N, C]
// against class indices (torch.nn.functional.nll_loss): the weighted mean
// of −logp[i, y_i] over non-ignored samples.
func NLLLoss(logProbs *tensor.Tensor, target *tensor.IntTensor, weight *tensor.Tensor, ignoreIndex int, r Reduction) *tensor.Tensor {
	shape := logProbs.Shape()
	if len(shape) != 2 || target.Dim() != 1 || target.Shape()[0] != shape[0] {
		panic(fmt.Sprintf("nn: NLLLoss wants log-probabilities [N, C] and targets [N], got %v and %v", shape, target.Shape()))
	}
	n, c := shape[0], shape[1]
	idx := make([]int64, n)
	w := make([]float32, n)
	var wsum float32
	for i, y := range target.Data() {
		if int(y) == ignoreIndex {
			continue
		}
		if y < 0 || int(y) >= c {
			panic(fmt.Sprintf("nn: NLLLoss: target %d of sample %d is outside [0, %d)", y, i, c))
		}
		idx[i] = y
		w[i] = 1
		if weight != nil {
			w[i] = weight.Data()[y]
		}
		wsum += w[i]
	}
	picked := tensor.Gather(logProbs, 1, tensor.IntFromSlice(idx, n, 1)).Reshape(n)
	per := tensor.Neg(tensor.Mul(picked, tensor.FromSlice(w)))
	switch r {
	case ReduceMean, "":
		return tensor.MulScalar(tensor.Sum(per, false), 1/wsum)
	case ReduceSum:
		return tensor.Sum(per, false)
	}
	return per
}

// BCELoss is binary cross-entropy on probabilities in [0, 1], with log
// clamped at −100 as torch does (torch.nn.functional.binary_cross_entropy).
func BCELoss(prob, target, weight *tensor.Tensor, r Reduction) *tensor.Tensor {
	checkSame("BCELoss", prob, target)
	logp := tensor.Clamp(tensor.Log(prob), -100, 0)
	log1mp := tensor.Clamp(tensor.Log(tensor.AddScalar(tensor.Neg(prob), 1)), -100, 0)
	oneMinusY := tensor.AddScalar(tensor.Neg(target), 1)
	l := tensor.Neg(tensor.Add(tensor.Mul(target, logp), tensor.Mul(oneMinusY, log1mp)))
	if weight != nil {
		l = tensor.Mul(l, weight)
	}
	return reduceLoss(l, r)
}

// BCEWithLogitsLoss is binary cross-entropy on raw logits, computed
// stably as max(x,0) − x·y + log(1+e^−|x|) (torch's
// binary_cross_entropy_with_logits). posWeight [C] (or nil) scales the
// positive term, for imbalanced labels.
func BCEWithLogitsLoss(logits, target, weight, posWeight *tensor.Tensor, r Reduction) *tensor.Tensor {
	checkSame("BCEWithLogitsLoss", logits, target)
	// log(1 + e^−|x|) + max(−x, 0) = −log σ(x), computed without overflow.
	negLogSig := tensor.Add(tensor.Softplus(tensor.Neg(tensor.Abs(logits)), 1, 20), tensor.ReLU(tensor.Neg(logits)))
	oneMinusY := tensor.AddScalar(tensor.Neg(target), 1)
	var l *tensor.Tensor
	if posWeight == nil {
		l = tensor.Add(tensor.Mul(oneMinusY, logits), negLogSig)
	} else {
		// (1−y)·x + (1 + (pw−1)·y)·(−log σ(x))
		coef := tensor.AddScalar(tensor.Mul(tensor.AddScalar(posWeight, -1), target), 1)
		l = tensor.Add(tensor.Mul(oneMinusY, logits), tensor.Mul(coef, negLogSig))
	}
	if weight != nil {
		l = tensor.Mul(l, weight)
	}
	return reduceLoss(l, r)
}
