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
//
// # Lifetimes
//
// The rules, in one place. Views (Reshape of a contiguous tensor, Flatten,
// Transpose, T, Permute, Slice, Narrow, Index, Squeeze, Unsqueeze, Expand,
// Split, Chunk, Detach, and Contiguous of a contiguous tensor) share their
// source's buffer; each says "A view" in its doc, and every other op
// returns a new buffer. FromSlice wraps the caller's slice without copying;
// such buffers are never pooled. FreeGraph frees the buffers of every
// op-made tensor in a graph, so read what you need first (loss.Item(),
// metrics on the logits) and carry state across it with Detach, whose view
// keeps its buffer alive past FreeGraph (the truncated-BPTT idiom h =
// h.Detach() works). Release frees one op-made tensor that is in no graph,
// typically an inference output. A tensor used after either panics with a
// message that names which one freed it. Leaves that require gradients
// (parameters from nn.NewParameter, inputs marked with SetRequiresGrad)
// are never freed: FreeGraph skips them and Release refuses them, as it
// does views of them.
//
// # Arguments that differ from torch
//
// Go has no keyword arguments, so reductions put keepdim before the axes:
// Sum(t, keepdim, axes...), Mean(t, keepdim, axes...), Max, Min and
// LogSumExp take (t, keepdim, axes...) where torch writes t.mean(dim=axes,
// keepdim=keepdim); no axes reduces everything, as torch's t.mean() does.
// Var and Std take (t, unbiased, keepdim, axes...) for torch's
// t.var(dim=axes, unbiased=unbiased, keepdim=keepdim). Argmax and Argmin
// keep torch's order, (t, dim, keepdim).
// Max and Min return values only (torch's max(dim) also returns indices;
// use Argmax). Slice takes (dim, start, end, step) for t[..., start:end:step].
// Flatten takes both ends, Flatten(start, end), where torch defaults end
// to -1. Everything else keeps torch's name and argument order.
//
// # From PyTorch
//
//	torch.tensor(data).view(2, 3)       FromSlice(data, 2, 3) (no copy)
//	torch.zeros / ones / full / arange  Zeros, Ones, Full, Arange
//	torch.randn(2, 3, generator=g)      RandN(NewRNG(seed), 2, 3)
//	x.item(), x.tolist()                x.Item(), x.Data()
//	x.requires_grad_()                  x.SetRequiresGrad(true) (nn.NewParameter for weights)
//	loss.backward(); w.grad             loss.Backward(); w.Grad()
//	x.detach()                          x.Detach()
//	with torch.no_grad():               NoGrad(tensors, fn), or nn.NoGrad(model, fn)
//	a @ b, F.linear(x, w, b)            Matmul(a, b), Linear(x, w, b)
//	x.sum(dim=1, keepdim=True)          Sum(x, true, 1)
//	x.view(-1, 4), x.permute(0, 2, 1)   x.Reshape(-1, 4), x.Permute(0, 2, 1)
//	x[:, 1:3]                           x.Slice(1, 1, 3, 1)
//	F.conv2d, F.max_pool2d              Conv2D, MaxPool2D (batched or unbatched input)
//	F.cross_entropy(x, y)               CrossEntropyWithLogits, or nn.CrossEntropy
package tensor
