// Package nn holds Shen's layers, activations, losses and initialisers, in
// the shape PyTorch users know from torch.nn.
//
// A Module exposes its parameters, buffers and submodules under the names
// PyTorch gives them, so state dict keys match exactly ("0.weight",
// "conv1.bias", "lstm.weight_ih_l0", "bn.running_mean") and weights port
// between the two by name. Layers that take one tensor and give one
// implement Layer and compose with Sequential; models are plain Go structs
// whose Members list their parts.
package nn
