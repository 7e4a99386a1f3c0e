package train

import (
	"fmt"
	"io"

	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
)

// setPrecision puts the products of net at precision p (train.precision)
// and, for bf16, says once on out how this CPU runs them: on its bf16
// units, or emulated, which is slower than fp32.
func setPrecision(net nn.Module, p tensor.Precision, out io.Writer) {
	nn.SetPrecision(net, p)
	if p != tensor.BF16 {
		return
	}
	if kernel.HasBF16() {
		fmt.Fprintf(out, "precision: bf16 products on this CPU's %s units, float32 master weights\n", kernel.BF16Name())
		return
	}
	fmt.Fprintln(out, "precision: bf16 is emulated on this CPU (no AVX512-BF16 or AMX-BF16): products round their operands to bfloat16 in software and are slower than fp32; weights, gradients and optimizer state stay float32")
}
