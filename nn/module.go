package nn

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/shenml/shen/tensor"
)

// Named pairs a value with the name PyTorch would give it.
type Named[T any] struct {
	Name  string
	Value T
}

// Members is what a module holds: its own parameters (trained), buffers
// (state that is saved but not trained, such as BatchNorm's running
// statistics) and direct submodules, each in a fixed order.
type Members struct {
	Params   []Named[*tensor.Tensor]
	Buffers  []Named[*tensor.Tensor]
	Children []Named[Module]
}

// Module is anything with parameters, buffers or submodules.
type Module interface {
	Members() Members
}

// Layer is a module that maps one tensor to one tensor, the unit that
// Sequential chains.
type Layer interface {
	Module
	Forward(x *tensor.Tensor) *tensor.Tensor
}

// Moder is implemented by modules whose behaviour differs between training
// and evaluation (Dropout, BatchNorm).
type Moder interface {
	SetTraining(on bool)
}

// Mode is embedded by modules that implement Moder. The zero value is
// training mode, as a fresh torch module is.
type Mode struct{ eval bool }

// SetTraining switches between training (true) and evaluation (false).
func (m *Mode) SetTraining(on bool) { m.eval = !on }

// Training reports whether the module is in training mode.
func (m *Mode) Training() bool { return !m.eval }

// Train puts m and every submodule into training (on) or evaluation mode,
// like torch's module.train(on) / module.eval().
func Train(m Module, on bool) {
	Walk(m, func(_ string, sub Module) {
		if md, ok := sub.(Moder); ok {
			md.SetTraining(on)
		}
	})
}

// Walk calls fn for m and each of its submodules, depth first, with the
// dotted prefix of each ("" for m itself).
func Walk(m Module, fn func(prefix string, m Module)) {
	walk("", m, fn)
}

func walk(prefix string, m Module, fn func(string, Module)) {
	fn(prefix, m)
	for _, c := range m.Members().Children {
		walk(join(prefix, c.Name), c.Value, fn)
	}
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// NamedParameters returns every parameter of m and its submodules with its
// dotted name, in registration order, like torch's named_parameters(). A
// tensor shared by two modules appears once, under its first name.
func NamedParameters(m Module) []Named[*tensor.Tensor] {
	var out []Named[*tensor.Tensor]
	seen := map[*tensor.Tensor]bool{}
	Walk(m, func(prefix string, sub Module) {
		for _, p := range sub.Members().Params {
			if p.Value == nil || seen[p.Value] {
				continue
			}
			seen[p.Value] = true
			out = append(out, Named[*tensor.Tensor]{join(prefix, p.Name), p.Value})
		}
	})
	return out
}

// Parameters returns every parameter of m, in the order of NamedParameters.
func Parameters(m Module) []*tensor.Tensor {
	np := NamedParameters(m)
	out := make([]*tensor.Tensor, len(np))
	for i, p := range np {
		out[i] = p.Value
	}
	return out
}

// NumParameters counts the scalar weights of m.
func NumParameters(m Module) int {
	n := 0
	for _, p := range Parameters(m) {
		n += p.Numel()
	}
	return n
}

// StateDict returns parameters and buffers under their dotted names, in the
// order torch's state_dict() lists them (each module's parameters, then its
// buffers, then its children). The tensors are the live ones, not copies.
func StateDict(m Module) []Named[*tensor.Tensor] {
	var out []Named[*tensor.Tensor]
	Walk(m, func(prefix string, sub Module) {
		mem := sub.Members()
		for _, p := range mem.Params {
			if p.Value != nil {
				out = append(out, Named[*tensor.Tensor]{join(prefix, p.Name), p.Value})
			}
		}
		for _, b := range mem.Buffers {
			if b.Value != nil {
				out = append(out, Named[*tensor.Tensor]{join(prefix, b.Name), b.Value})
			}
		}
	})
	return out
}

// LoadStateDict copies values into m's parameters and buffers by name. Every
// entry of m must be present with the same shape and no unknown names may
// be given, as torch's load_state_dict(strict=True) requires; the error
// names the first tensor at fault and nothing is changed when it fails.
func LoadStateDict(m Module, values map[string]*tensor.Tensor) error {
	sd := StateDict(m)
	want := map[string]bool{}
	for _, e := range sd {
		want[e.Name] = true
		v, ok := values[e.Name]
		if !ok {
			return fmt.Errorf("nn: state dict is missing %q (shape %v)", e.Name, e.Value.Shape())
		}
		if !slices.Equal(v.Shape(), e.Value.Shape()) {
			return fmt.Errorf("nn: state dict entry %q has shape %v, the model needs %v", e.Name, v.Shape(), e.Value.Shape())
		}
	}
	for name := range values {
		if !want[name] {
			return fmt.Errorf("nn: state dict has unexpected entry %q", name)
		}
	}
	for _, e := range sd {
		copy(e.Value.Data(), values[e.Name].Data())
	}
	return nil
}

// NoGrad runs fn with gradient recording off for m's parameters, as
// `with torch.no_grad(): model(x)` does: a forward pass of m inside fn
// builds no graph (inputs that themselves require gradients still
// record). It is scoped to m, not to the goroutine or the process, so a
// model validated or served here never stops another goroutine's training
// from recording; several goroutines may run NoGrad over one model at once.
func NoGrad(m Module, fn func()) { tensor.NoGrad(Parameters(m), fn) }

// ZeroGrad clears the gradients of every parameter of m in place.
func ZeroGrad(m Module) {
	for _, p := range Parameters(m) {
		p.ZeroGrad()
	}
}

// Sequential chains layers: the output of each is the input of the next.
// Children are named "0", "1", ... as in torch.nn.Sequential.
type Sequential struct {
	Layers []Layer
}

// NewSequential returns a Sequential of the given layers.
func NewSequential(layers ...Layer) *Sequential { return &Sequential{Layers: layers} }

// Members lists the layers as children "0", "1", ...
func (s *Sequential) Members() Members {
	ch := make([]Named[Module], len(s.Layers))
	for i, l := range s.Layers {
		ch[i] = Named[Module]{strconv.Itoa(i), l}
	}
	return Members{Children: ch}
}

// Forward runs x through every layer in order. Without gradients
// (inference under NoGrad, or with parameters that do not require them)
// each intermediate result goes back to the buffer pool as soon as the
// next layer has consumed it, so repeated predictions reuse the same
// memory; the caller's x and the result are never released.
func (s *Sequential) Forward(x *tensor.Tensor) *tensor.Tensor {
	in := x
	for _, l := range s.Layers {
		y := l.Forward(x)
		// x is an intermediate made by layer i-1: release it when no
		// recorded op saved it for Backward (y carries no history), unless
		// y is a view of it (Flatten), which then inherits the release, or
		// x is a parameter some layer returned, or the caller's input
		// passed through (Dropout in evaluation mode).
		if x != in && x != y && !x.RequiresGrad() && !y.RequiresGrad() {
			if x.SharesStorage(y) {
				y.TakeOwnership(x)
			} else {
				x.Release()
			}
		}
		x = y
	}
	return x
}

// Append adds layers at the end.
func (s *Sequential) Append(layers ...Layer) { s.Layers = append(s.Layers, layers...) }
