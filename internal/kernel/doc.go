// Package kernel holds Shen's hot loops: a packed, cache-blocked SGEMM with
// Go-assembly micro-kernels (AVX-512 12x32 and AVX2+FMA 6x16 on amd64,
// chosen at run time; NEON 8x12 on arm64; a pure-Go 4x8 kernel everywhere
// else and under the noasm build tag), vector helpers (Axpy, Dot, ReLU,
// Exp, Tanh, Sigmoid, Erf, softmax rows), direct-convolution and
// dot-product-tile kernels, transposed packing, and the process-wide worker
// pool that they share.
//
// Everything here works on float32 slices in row-major order and never
// allocates in steady state. The package's only global state is the dispatch
// table chosen at init and the worker pool.
package kernel
