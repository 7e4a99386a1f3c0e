package nn

import (
	"fmt"
	"reflect"
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

// Module is anything with parameters, buffers or submodules, like a
// torch.nn.Module. Members may be written by hand or, for a struct whose
// fields are its parts, as
//
//	func (m *MyLayer) Members() nn.Members { return nn.MembersOf(m) }
//
// Names must be unique within a module (across its parameters, buffers and
// children, as torch requires) and children must not be nil; a walk of the
// tree (Parameters, StateDict, Train, ...) panics naming the path of a
// violation, and Validate returns it as an error. A nil parameter or
// buffer is allowed and skipped, as torch's bias=None.
type Module interface {
	Members() Members
}

// NewParameter makes t a trainable parameter, as torch.nn.Parameter(t):
// it marks t, which must be a leaf (a tensor the user made, not an op's
// output), as requiring gradients, and returns it. Its buffer is then the
// model's: FreeGraph never frees it and Release refuses it. Layers make
// their weights with it; use it for the weights of a custom layer:
//
//	scale := nn.NewParameter(tensor.Ones(c))
func NewParameter(t *tensor.Tensor) *tensor.Tensor {
	if !t.IsLeaf() {
		panic(fmt.Sprintf("nn: NewParameter of a tensor of shape %v made by an op: a parameter must be a leaf; pass t.Detach() (or a copy) instead", t.Shape()))
	}
	return t.SetRequiresGrad(true)
}

// TreeError is a mistake in a module tree: a name used twice within one
// module, or a nil child. Path is the dotted path of the entry at fault.
type TreeError struct {
	Path string
	Msg  string
}

func (e *TreeError) Error() string { return fmt.Sprintf("nn: module tree: %q %s", e.Path, e.Msg) }

// checkMembers checks one module's members: unique names, no nil or
// typed-nil child. Walks run it on every module each time parameters are
// listed (an inference call under NoGrad lists them), so it compares the
// names pairwise, allocating nothing, up to a size where a map pays.
func checkMembers(prefix string, mem Members) error {
	type entry struct{ name, kind string }
	n := len(mem.Params) + len(mem.Buffers) + len(mem.Children)
	at := func(i int) entry {
		switch {
		case i < len(mem.Params):
			return entry{mem.Params[i].Name, "parameter"}
		case i < len(mem.Params)+len(mem.Buffers):
			return entry{mem.Buffers[i-len(mem.Params)].Name, "buffer"}
		}
		return entry{mem.Children[i-len(mem.Params)-len(mem.Buffers)].Name, "child"}
	}
	dup := func(first, second entry) error {
		return &TreeError{join(prefix, second.name), fmt.Sprintf("is registered twice (as a %s and as a %s): its state-dict entries would collide", first.kind, second.kind)}
	}
	if n <= 32 {
		for i := range n {
			ei := at(i)
			for j := range i {
				if ej := at(j); ej.name == ei.name {
					return dup(ej, ei)
				}
			}
		}
	} else {
		seen := make(map[string]int, n)
		for i := range n {
			ei := at(i)
			if j, ok := seen[ei.name]; ok {
				return dup(at(j), ei)
			}
			seen[ei.name] = i
		}
	}
	for _, c := range mem.Children {
		if isNil(c.Value) {
			return &TreeError{join(prefix, c.Name), "is nil: a child module must be set before the module is used"}
		}
	}
	return nil
}

func isNil(m Module) bool {
	if m == nil {
		return true
	}
	v := reflect.ValueOf(m)
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface, reflect.Func, reflect.Chan:
		return v.IsNil()
	}
	return false
}

// Validate checks the whole tree under m: every name unique within its
// module and no nil child. The error is a *TreeError naming the path.
func Validate(m Module) (err error) {
	if isNil(m) {
		return &TreeError{"", "is nil: the root module"}
	}
	defer func() {
		if r := recover(); r != nil {
			te, ok := r.(*TreeError)
			if !ok {
				panic(r)
			}
			err = te
		}
	}()
	Walk(m, func(string, Module) {})
	return nil
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
// dotted prefix of each ("" for m itself). It panics with a *TreeError
// naming the path when a module lists one name twice or a nil child (use
// Validate to get that as an error instead).
func Walk(m Module, fn func(prefix string, m Module)) {
	walk("", m, fn)
}

func walk(prefix string, m Module, fn func(string, Module)) {
	mem := m.Members()
	if err := checkMembers(prefix, mem); err != nil {
		panic(err)
	}
	fn(prefix, m)
	for _, c := range mem.Children {
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
			if !p.Value.HasName() {
				p.Value.SetName(join(prefix, p.Name)) // for the optimizer's errors
			}
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
	_, err := LoadStateDictWith(m, values, true)
	return err
}

// IncompatibleKeys is what a load reports, as torch's load_state_dict
// returns it: entries of the module that the values lack (in state-dict
// order) and values the module has no entry for (sorted by name).
type IncompatibleKeys struct {
	Missing    []string
	Unexpected []string
}

// LoadStateDictWith is LoadStateDict with torch's strict flag. With strict
// false, missing and unexpected names are not errors but are returned, as
// load_state_dict(strict=False) does, and the entries present are loaded;
// a shape mismatch is an error either way (torch's "size mismatch"), with
// a 0-d scalar and a [1] vector told apart. Nothing is changed when it
// fails. The module tree is checked first (Validate).
func LoadStateDictWith(m Module, values map[string]*tensor.Tensor, strict bool) (IncompatibleKeys, error) {
	var keys IncompatibleKeys
	if err := Validate(m); err != nil {
		return keys, err
	}
	sd := StateDict(m)
	want := make(map[string]bool, len(sd))
	for _, e := range sd {
		want[e.Name] = true
		v, ok := values[e.Name]
		if !ok {
			if strict {
				return keys, fmt.Errorf("nn: state dict is missing %q (shape %v)", e.Name, e.Value.Shape())
			}
			keys.Missing = append(keys.Missing, e.Name)
			continue
		}
		if !slices.Equal(v.Shape(), e.Value.Shape()) {
			return keys, fmt.Errorf("nn: state dict entry %q has shape %v, the model needs %v%s", e.Name, v.Shape(), e.Value.Shape(), scalarHint(v.Shape(), e.Value.Shape()))
		}
	}
	for name := range values {
		if !want[name] {
			keys.Unexpected = append(keys.Unexpected, name)
		}
	}
	slices.Sort(keys.Unexpected)
	if strict && len(keys.Unexpected) > 0 {
		return keys, fmt.Errorf("nn: state dict has unexpected entry %q (and %d more)", keys.Unexpected[0], len(keys.Unexpected)-1)
	}
	for _, e := range sd {
		if v, ok := values[e.Name]; ok {
			copy(e.Value.Data(), v.Data())
		}
	}
	return keys, nil
}

// scalarHint explains the one shape mismatch that reads like none: a 0-d
// scalar against a one-element vector.
func scalarHint(got, want []int) string {
	switch {
	case len(got) == 0 && slices.Equal(want, []int{1}):
		return " (the file holds a 0-d scalar; the model a one-element vector)"
	case len(want) == 0 && slices.Equal(got, []int{1}):
		return " (a 0-d scalar; the file holds a one-element vector)"
	}
	return ""
}

// Freeze marks every parameter of m as not requiring gradients, as torch's
// m.requires_grad_(False): its forward passes then record no graph at all,
// with no NoGrad scope to open, as a model kept only for prediction wants.
// Freeze a separate copy of the model, not the one an optimizer trains
// (optimizers refuse frozen tensors; NoGrad over the trained model itself
// would also stop its training steps from recording while the scope is
// open, so a goroutine predicting beside training uses its own copy).
func Freeze(m Module) {
	for _, p := range Parameters(m) {
		p.SetRequiresGrad(false)
	}
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
