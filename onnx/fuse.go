package onnx

// fuse rewrites known multi-node patterns into single kernels.
func (mod *Model) fuse() {}
