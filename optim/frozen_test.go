package optim_test

import (
	"math"
	"strings"
	"testing"

	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/optim"
	"github.com/shenml/shen/tensor"
)

// TestOptimizerRefusesFrozenTensor: a tensor that does not require
// gradients would never change; the error names its state-dict path.
func TestOptimizerRefusesFrozenTensor(t *testing.T) {
	net := nn.NewSequential(nn.NewLinear(2, 3), nn.ReLU{}, nn.NewLinear(3, 1))
	net.Layers[2].(*nn.Linear).Weight.SetRequiresGrad(false)
	_, err := optim.NewSGD(nn.Parameters(net), optim.SGDConfig{LR: 0.1})
	if err == nil || !strings.Contains(err.Error(), "2.weight") || !strings.Contains(err.Error(), "does not require gradients") {
		t.Fatalf("NewSGD with a frozen weight: error %v, want one naming 2.weight", err)
	}
	_, err = optim.NewAdam([]*tensor.Tensor{tensor.Zeros(3)}, optim.DefaultAdamConfig())
	if err == nil || !strings.Contains(err.Error(), "does not require gradients") {
		t.Fatalf("NewAdam with a plain tensor: error %v", err)
	}
}

// TestZeroOrNaNLearningRate: a zero learning rate trains nothing, a NaN
// one destroys the weights; both are configuration errors.
func TestZeroOrNaNLearningRate(t *testing.T) {
	p := []*tensor.Tensor{nn.NewParameter(tensor.Zeros(2))}
	for _, lr := range []float64{0, math.NaN(), math.Inf(1)} {
		checks := map[string]error{}
		_, checks["sgd"] = optim.NewSGD(p, optim.SGDConfig{LR: lr})
		a := optim.DefaultAdamConfig()
		a.LR = lr
		_, checks["adam"] = optim.NewAdam(p, a)
		_, checks["adamw"] = optim.NewAdamW(p, a)
		_, checks["rmsprop"] = optim.NewRMSprop(p, optim.RMSpropConfig{LR: lr, Alpha: 0.99, Eps: 1e-8})
		_, checks["adagrad"] = optim.NewAdagrad(p, optim.AdagradConfig{LR: lr, Eps: 1e-10})
		for name, err := range checks {
			if err == nil || !strings.Contains(err.Error(), "learning rate") {
				t.Errorf("%s with lr %v: error %v, want one about the learning rate", name, lr, err)
			}
		}
	}
}
