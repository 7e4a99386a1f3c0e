// Package nn holds Shen's layers, activations, losses and initialisers, in
// the shape PyTorch users know from torch.nn.
//
// A Module exposes its parameters, buffers and submodules under the names
// PyTorch gives them, so state dict keys match exactly ("0.weight",
// "conv1.bias", "lstm.weight_ih_l0", "bn.running_mean") and weights port
// between the two by name. Layers that take one tensor and give one
// implement Layer and compose with Sequential; models are plain Go structs
// whose Members list their parts.
//
// # From PyTorch
//
//	class Net(nn.Module): ...             a struct with Forward, and Members() returning nn.MembersOf(n)
//	nn.Parameter(t)                       nn.NewParameter(t)
//	self.register_buffer("b", t)          a *tensor.Tensor field tagged `nn:"b,buffer"`
//	nn.ModuleList / nn.ParameterList      a slice field ([]nn.Layer, []*tensor.Tensor), or ModuleList / ParameterList
//	nn.Sequential(a, b)                   nn.NewSequential(a, b)
//	model.parameters() / named_parameters nn.Parameters(m) / nn.NamedParameters(m)
//	model.state_dict()                    nn.StateDict(m) (live tensors, torch's order and names)
//	model.load_state_dict(sd, strict)     nn.LoadStateDict(m, sd) (strict) / nn.LoadStateDictWith(m, sd, strict)
//	safetensors save_model / load_model   nn.SaveSafetensors(m, path) / nn.LoadSafetensors(m, path, strict)
//	model.train() / model.eval()          nn.Train(m, true) / nn.Train(m, false)
//	model.requires_grad_(False)           nn.Freeze(m)
//	model.zero_grad()                     nn.ZeroGrad(m)
//	nn.Conv2d(1, 8, (3, 1), stride=(2, 1))  nn.NewConv2D(1, 8, [2]int{3, 1}, nn.Stride(2, 1))
//	F.cross_entropy(x, y, ignore_index=0) nn.CrossEntropyWith(x, y, nn.CrossEntropyOptions{IgnoreIndex: nn.Ignore(0)})
//	torch.manual_seed(s)                  nn.SetSeed(s) (initialisation and dropout streams)
//
// Each layer's doc comment has a Shape section as torch's docs do. Layers
// take unbatched input where torch 1.13 does (convolutions, pooling,
// recurrent layers, attention; BatchNorm refuses it as torch does), and
// MultiHeadAttention takes both of torch's layouts (BatchFirst).
//
// Mistakes that would otherwise be silent are errors naming the path in
// the module tree: two entries under one name in a module, a nil child
// (Validate, and a panic from every walk), a frozen tensor given to an
// optimizer (package optim), a shape mismatch when loading, and a 0-d
// scalar against a [1] vector.
package nn
