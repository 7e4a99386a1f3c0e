// Package quant holds int8 post-training quantisation for inference:
// calibration of activation scales on sample inputs (Calibrate), the Spec an
// artifact records, and quantised Linear and Conv2D layers that replace the
// float ones of a Sequential network (Apply).
//
// The scheme is symmetric int8 throughout: each output channel of a weight
// has its own scale max|w|/127, each quantised layer's input has one
// per-tensor scale fitted by calibration (the largest |activation| seen,
// over 127), and products accumulate exactly in int32
// (internal/kernel.Int8Gemm: AVX512-VNNI, AVX2 or pure Go). Biases,
// activations between layers and every other layer stay float32. Weights
// are stored as float32 in the artifact as before; their int8 codes follow
// from them deterministically, so an artifact needs only the Spec to
// serve quantised.
//
// Quantised layers are for inference: they record no gradients.
package quant
