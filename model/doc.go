// Package model saves and loads Shen's model artifact: one directory that
// carries everything serving needs, so what was fitted in training is
// exactly what runs in production.
//
//	model.json           format version, architecture, input/output signature,
//	                     label names, the fitted preprocessing pipeline,
//	                     training metadata (config hash, data hash, metrics, seed)
//	weights.safetensors  every parameter and buffer under PyTorch-style names
//	profile.json         the training-data profile that monitoring compares
//	                     live traffic against
//
// An architecture is data (Architecture), not code, so a saved model can be
// rebuilt by any Shen binary without the program that trained it.
//
// An artifact is outside input once it leaves the trainer. Load checks it
// as a whole (Spec.Check, the output shape of one zero sample, every
// tensor), reads only regular files under size caps, and Build bounds a
// network's parameters (MaxParameters) and each layer's per-sample buffers
// (MaxActivations, padding and strides included) before allocating, so
// a model that loads can run and a hostile one costs no more than its
// files hold.
package model
