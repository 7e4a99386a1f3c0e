// Package onnx reads, plans, runs and writes ONNX models on Shen's
// kernels (package internal/kernel), without cgo.
//
// Running: Read (or ReadFile) → Compile → Model.NewSession → Session.Run.
// Read decodes the protobuf (types generated from the official onnx.proto
// in package onnxpb) within Limits: the file size, every tensor's element
// count and its bytes present are checked before anything is allocated
// from them, and external tensor data is refused. Compile orders the
// nodes topologically, infers shapes (static mismatches are errors naming
// the node), folds constant subgraphs and the shape arithmetic exporters
// write, fuses the patterns PyTorch exports (Conv+BatchNormalization+Relu,
// MatMul+Add, the Erf form of GELU, the ReduceMean form of LayerNorm) and
// resolves an operator kernel for each node, naming node, operator and
// opset for anything unsupported. A Session is one goroutine's set of
// buffers: after the first call with given shapes Run allocates nothing.
//
// Checking: CheckDir runs a folder in the ONNX backend-test layout
// (model.onnx and test_data_set_*/{input,output}_*.pb) and reports per
// data set and output the largest absolute and relative errors; `shen
// onnx check` and the conformance test use it.
//
// Artifacts: Layer runs a compiled model as an nn.Layer; Import writes a
// Shen artifact of architecture kind "onnx" around a model.onnx, and the
// package registers that kind (model.RegisterBuilder) and bare model.onnx
// folders (model.RegisterBareLoader) with package model. Export writes a
// Shen artifact's network, and optionally its fitted table preprocessing,
// as ONNX at opset 14 or 17.
package onnx
