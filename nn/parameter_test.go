package nn

import (
	"strings"
	"testing"

	"github.com/shenml/shen/tensor"
)

// squeezeExcite is a custom layer written the short way: one struct, one
// Forward, and Members from the struct's fields.
type squeezeExcite struct {
	Reduce *Linear
	Expand *Linear `nn:"fc2"`
	Scale  *tensor.Tensor
	Count  *tensor.Tensor `nn:"count,buffer"`
	Blocks []Layer
	Skip   *Linear `nn:"-"`
	hidden int
}

func (s *squeezeExcite) Members() Members { return MembersOf(s) }

func (s *squeezeExcite) Forward(x *tensor.Tensor) *tensor.Tensor {
	w := tensor.Sigmoid(s.Expand.Forward(tensor.ReLU(s.Reduce.Forward(x))))
	return tensor.Mul(tensor.Mul(x, w), s.Scale)
}

func TestMembersOfStructFields(t *testing.T) {
	se := &squeezeExcite{Reduce: NewLinear(4, 2), Expand: NewLinear(2, 4),
		Scale: NewParameter(tensor.Ones(4)), Count: tensor.Zeros(),
		Blocks: []Layer{NewLinear(4, 4), ReLU{}}, Skip: NewLinear(1, 1), hidden: 2}
	var names []string
	for _, e := range StateDict(se) {
		names = append(names, e.Name)
	}
	want := "scale count reduce.weight reduce.bias fc2.weight fc2.bias blocks.0.weight blocks.0.bias"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("state dict keys\n%s\nwant\n%s", got, want)
	}
	if n := len(Parameters(se)); n != 7 {
		t.Fatalf("%d parameters, want 7 (the buffer is not one)", n)
	}
	y := se.Forward(tensor.Ones(3, 4))
	if !tensor.SameShape(y.Shape(), []int{3, 4}) {
		t.Fatalf("forward gave %v", y.Shape())
	}
	if err := Validate(se); err != nil {
		t.Fatal(err)
	}
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{"Conv1": "conv1", "FC": "fc", "RunningMean": "running_mean",
		"HTTPServer": "http_server", "Weight": "weight", "LSTM2Head": "lstm2_head", "X": "x"} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

// twoNames registers two things under one name, as a hand-written
// Members might by copy and paste.
type twoNames struct{ A, B *Linear }

func (m *twoNames) Members() Members {
	return Members{Children: []Named[Module]{{"x", m.A}, {"x", m.B}}}
}

type nilChild struct{ A *Linear }

func (m *nilChild) Members() Members { return Members{Children: []Named[Module]{{"head", m.A}}} }

type dupParam struct{ W *tensor.Tensor }

func (m *dupParam) Members() Members {
	return Members{Params: []Named[*tensor.Tensor]{{"weight", m.W}}, Buffers: []Named[*tensor.Tensor]{{"weight", m.W}}}
}

// TestModuleTreeErrorsNamePath: duplicate names and nil children are errors
// naming the path in the module tree, from Validate and from every walk
// (StateDict would otherwise list x.weight twice).
func TestModuleTreeErrorsNamePath(t *testing.T) {
	cases := []struct {
		name string
		m    Module
		want string
	}{
		{"two children one name", ModuleList{NewLinear(1, 1), &twoNames{NewLinear(1, 1), NewLinear(1, 1)}}, `"1.x" is registered twice`},
		{"nil child", ModuleList{&nilChild{}}, `"0.head" is nil`},
		{"nil layer in Sequential", NewSequential(NewLinear(1, 1), nil), `"1" is nil`},
		{"param and buffer one name", &dupParam{tensor.Zeros(1)}, `"weight" is registered twice`},
	}
	for _, c := range cases {
		err := Validate(c.m)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Validate = %v, want an error with %s", c.name, err, c.want)
		}
		msg := panicMessage(func() { StateDict(c.m) })
		if !strings.Contains(msg, c.want) {
			t.Errorf("%s: StateDict panic %q, want %s", c.name, msg, c.want)
		}
	}
}

func TestNewParameter(t *testing.T) {
	p := NewParameter(tensor.Zeros(2, 3))
	if !p.RequiresGrad() || !p.IsLeaf() {
		t.Fatal("NewParameter must give a leaf that requires gradients")
	}
	w := NewParameter(tensor.Ones(2))
	y := tensor.MulScalar(w, 2)
	if msg := panicMessage(func() { NewParameter(y) }); !strings.Contains(msg, "leaf") {
		t.Fatalf("NewParameter of an op's output: panic %q, want a leaf error", msg)
	}
}

// TestFreezeRecordsNoGraph: a frozen copy runs forward without building a
// graph, so it can predict while another goroutine trains.
func TestFreezeRecordsNoGraph(t *testing.T) {
	net := NewSequential(NewLinear(3, 4), ReLU{}, NewLinear(4, 2))
	Freeze(net)
	out := net.Forward(tensor.Ones(2, 3))
	if out.RequiresGrad() || !out.IsLeaf() {
		t.Fatal("a frozen model's output must carry no graph")
	}
	for _, p := range Parameters(net) {
		if p.RequiresGrad() {
			t.Fatal("Freeze left a parameter requiring gradients")
		}
	}
}

type hiddenLayers struct {
	Head  *Linear
	Inner struct{ A, B *Linear } // not a module: its weights would vanish from the state dict
}

func (h *hiddenLayers) Members() Members { return MembersOf(h) }

type optedOut struct {
	Head  *Linear
	Cache map[string]*tensor.Tensor `nn:"-"`
	Size  int
	Act   func(*tensor.Tensor) *tensor.Tensor
}

func (o *optedOut) Members() Members { return MembersOf(o) }

// TestMembersOfRefusesHiddenLayers: a field that holds layers MembersOf
// cannot list is a panic naming it, not a silent gap in the state dict;
// `nn:"-"` opts out.
func TestMembersOfRefusesHiddenLayers(t *testing.T) {
	msg := panicMessage(func() { (&hiddenLayers{Head: NewLinear(1, 1)}).Members() })
	if !strings.Contains(msg, "field Inner") {
		t.Fatalf("panic %q, want one naming field Inner", msg)
	}
	o := &optedOut{Head: NewLinear(1, 1), Cache: map[string]*tensor.Tensor{"x": tensor.Zeros(1)}}
	if n := len(StateDict(o)); n != 2 {
		t.Fatalf("%d state-dict entries, want head's 2", n)
	}
}
