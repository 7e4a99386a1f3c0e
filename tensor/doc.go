// Package tensor is Shen's n-dimensional float32 tensor with eager
// reverse-mode automatic differentiation.
//
// A Tensor is a strided view of a float32 storage, row-major by default.
// Views (Reshape, Transpose, Permute, Slice, Expand, ...) share storage;
// copies (Contiguous, Concat, Stack, ...) do not. Every elementwise op
// follows NumPy broadcasting.
//
// # Autograd
//
// Autograd lives here rather than in a package of its own because every op
// records its backward next to its forward: a tensor created by an op on
// inputs that require gradients remembers the op (its node), and
// Backward walks those nodes in reverse topological order, accumulating
// gradients into the leaves' Grad, like PyTorch's tape. A separate package
// would force a second tensor type wrapping this one and a second copy of
// every op's API.
//
// # Errors
//
// Shape mismatches and other programmer errors panic with a *ShapeError or a
// message naming the op and both shapes, as indexing out of range does in
// Go; they are bugs in the calling program, not conditions to handle.
// Errors that depend on outside data are returned as error values by the
// packages that read that data.
//
// # Memory
//
// Op outputs draw their buffers from a pool. (*Tensor).FreeGraph hands
// every intermediate buffer of a finished training step back to the pool,
// and Backward returns the gradients it made along the way, so a fixed
// model's training step reuses the same memory each step instead of
// allocating it (an MLP step at batch 64 allocates about 6 KB of headers
// and closures, against megabytes of activations). Release returns a
// single tensor's buffer, for inference outside any graph.
package tensor
