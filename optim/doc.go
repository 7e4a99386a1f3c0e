// Package optim holds Shen's optimizers, learning-rate schedules and
// gradient clipping, written to reproduce PyTorch 1.13 exactly.
//
// An Optimizer updates leaf tensors (parameters made with nn.NewParameter,
// or marked with SetRequiresGrad) in place from the gradients Backward left
// in their Grad. Constructors check what would otherwise fail silently: a
// tensor that does not require gradients (it would never change; the
// error names its state-dict path, as nn.Parameters listed it), the same
// tensor twice, and a learning rate that is zero, negative, NaN or
// infinite:
//
//	opt, err := optim.NewAdam(params, optim.DefaultAdamConfig())
//	for ... {
//		opt.ZeroGrad()
//		loss.Backward()
//		optim.ClipGradNorm(params, 1, 2)
//		opt.Step()
//		sched.Step()
//	}
//
// # Parameter groups
//
// Parameters are held in groups, as torch's param_groups: each Group carries
// its own hyperparameters, so a user can give a layer its own learning rate
// or exempt biases from weight decay. Build groups from a config and change
// the fields that differ:
//
//	cfg := optim.DefaultAdamWConfig()
//	noDecay := cfg
//	noDecay.WeightDecay = 0
//	opt, err := optim.NewAdamWGroups(cfg.Group(weights), noDecay.Group(biases))
//
// Configs are taken literally: a zero field means zero, not "the default".
// Start from the DefaultXConfig functions, which return torch's defaults.
//
// # From PyTorch
//
//	torch.optim.SGD(params, lr, momentum, ...)  optim.NewSGD(params, optim.SGDConfig{LR: lr, Momentum: m})
//	torch.optim.Adam / AdamW(params, lr=...)     optim.NewAdam / NewAdamW(params, cfg) with cfg from DefaultAdamConfig
//	torch.optim.RMSprop / Adagrad                optim.NewRMSprop / NewAdagrad
//	optimizer.param_groups                       opt.Groups() (LR is writable between steps)
//	optimizer.zero_grad(); optimizer.step()      opt.ZeroGrad(); opt.Step()
//	lr_scheduler.StepLR / MultiStepLR / ...      NewStepLR, NewMultiStepLR, NewExponentialLR, NewCosineAnnealingLR,
//	                                             NewOneCycleLR, NewWarmupCosine, NewReduceLROnPlateau
//	clip_grad_norm_ / clip_grad_value_           ClipGradNorm / ClipGradValue
//	state_dict() / load_state_dict()             StateDict() / LoadStateDict() (JSON-encodable)
//
// # Numerics
//
// Every update is a plain loop over the float32 storage of the parameter,
// its gradient and its state buffers, doing the float32 operations of
// torch's single-tensor (foreach=False) implementation in the same order,
// fused multiply-adds where torch's CPU kernels fuse them (add with alpha,
// addcmul), so results agree with PyTorch to the last bit or within an ulp.
// Scalars (bias corrections, step sizes) are computed in float64 as Python
// does and rounded to float32 where torch rounds them. State buffers are
// allocated on the first Step that sees a parameter's gradient; after that
// a Step allocates nothing.
//
// # Resuming
//
// StateDict returns a State (step counts, state buffers, hyperparameters)
// that marshals to JSON and loads back with LoadStateDict, so a resumed run
// continues bit for bit as the uninterrupted one would.
package optim
