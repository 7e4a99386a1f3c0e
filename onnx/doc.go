// Package onnx reads ONNX models, checks and plans their graphs once, and
// runs them on Shen's kernels (package internal/kernel) with every
// intermediate buffer kept and reused between calls.
//
// The flow is Read (or ReadFile) → Compile → Model.NewSession → Session.Run.
// Read decodes the protobuf with hostile-input bounds (Limits): the file
// size, every tensor's element count and its bytes present are checked
// before anything is allocated from them, and external tensor data is
// refused. Compile orders the nodes topologically, folds constant
// subgraphs, fuses the patterns PyTorch exports (Conv+BatchNormalization,
// MatMul+Add, the Erf form of GELU, the ReduceMean form of LayerNorm) and
// resolves an operator kernel for each node, naming node, operator and
// opset for anything unsupported. A Session is one goroutine's set of
// buffers: after the first call with given shapes, Run allocates nothing
// in the operators that matter for speed (MatMul, Gemm, Conv, the
// element-wise and recurrent ones).
//
// CheckDir runs a folder in the ONNX backend-test layout (model.onnx and
// test_data_set_*/{input,output}_*.pb) and reports per data set and output
// the largest absolute and relative errors; `shen onnx check` and the
// conformance test use it.
package onnx
