package nn

import "github.com/shenml/shen/tensor"

// SetPrecision sets how the products of m and its submodules multiply,
// forward and backward: tensor.BF16 is mixed precision as
// torch.autocast("cpu", dtype=torch.bfloat16) gives it, tensor.FP32 (the
// default) undoes it.
//
// Under BF16 the products that dominate a model's cost round both
// operands to bfloat16 and sum in float32 (kernel.SgemmBF16): Linear,
// Conv1D/Conv2D, MultiHeadAttention's projections and its score and
// weighted-sum products, and the gate products of RNN, LSTM and GRU.
// Everything else (activations, norms, softmax, losses) and everything
// stored (parameters, gradients, an optimizer's state: the float32 master
// weights) stays float32, and results are not rounded to bfloat16 between
// layers (autocast rounds them).
//
// The setting is carried by m's parameters (tensor.SetPrecision), so it is
// scoped to this model: another model, or a copy of this one, in the same
// process keeps its own. Set it before the model runs, as Train sets the
// mode; not while another goroutine runs the model.
func SetPrecision(m Module, p tensor.Precision) {
	for _, w := range Parameters(m) {
		w.SetPrecision(p)
	}
}
