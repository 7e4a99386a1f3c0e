package tensor

import (
	"fmt"

	"github.com/shenml/shen/internal/kernel"
)

// Precision is how the products of Matmul, Linear and Conv2D (and of their
// gradients) multiply.
//
// It is a property of operands, not of the process or the goroutine: a
// product runs in bfloat16 when any of its operands was marked with
// SetPrecision(BF16), which nn.SetPrecision does for a model's parameters.
// A model trained in bf16 and another predicting in float32 in the same
// process therefore never see each other's setting, and the backward pass
// of a product uses the precision its forward pass ran with.
//
// BF16 is mixed precision as torch.autocast("cpu", dtype=torch.bfloat16)
// runs it: both operands of each product are rounded to bfloat16 and the
// products summed in float32 (kernel.SgemmBF16). Unlike autocast, the
// results stay float32 (they are not rounded to bfloat16 again), and every
// other op (activations, norms, losses, the optimizer) and every stored
// tensor (weights, gradients, optimizer state: the master copies) is
// float32 either way.
type Precision uint8

const (
	// FP32 multiplies in float32: the default.
	FP32 Precision = iota
	// BF16 rounds the operands of each product to bfloat16 and sums the
	// products in float32.
	BF16
)

// String returns "fp32" or "bf16", the spelling ParsePrecision reads.
func (p Precision) String() string {
	switch p {
	case FP32:
		return "fp32"
	case BF16:
		return "bf16"
	}
	return fmt.Sprintf("Precision(%d)", uint8(p))
}

// ParsePrecision reads "fp32" or "bf16" ("" is fp32, the default).
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "", "fp32":
		return FP32, nil
	case "bf16":
		return BF16, nil
	}
	return FP32, fmt.Errorf("precision %q: want fp32 or bf16", s)
}

// SetPrecision sets the precision of the products that take t (or a view
// of it made afterwards) as an operand, and returns t. Set it before t is
// used, not while another goroutine runs an op on t.
func (t *Tensor) SetPrecision(p Precision) *Tensor {
	t.prec = p
	return t
}

// Precision returns what SetPrecision set (FP32 unless set).
func (t *Tensor) Precision() Precision { return t.prec }

// productPrecision is the precision of a product of the given operands
// (nil ones are skipped): BF16 when any of them is marked.
func productPrecision(ts ...*Tensor) Precision {
	p := FP32
	for _, t := range ts {
		if t != nil && t.prec > p {
			p = t.prec
		}
	}
	return p
}

// Gemm is kernel.Sgemm, or kernel.SgemmBF16 for BF16: the product at
// precision p, for layers above tensor that call the kernel directly (the
// fused attention and recurrent layers), so that the choice is made here
// only.
func (p Precision) Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if p == BF16 {
		kernel.SgemmBF16(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	kernel.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
