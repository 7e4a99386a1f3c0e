//go:build !amd64 || noasm

package kernel

// bf16Kernels lists the instruction kernels this CPU can run: none here.
func bf16Kernels() []bf16Kernel { return nil }
