package model

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
)

// gatedMLP is a custom architecture: a hidden layer gated by a learned
// per-feature scale, written as one struct and one Forward.
type gatedMLP struct {
	In   *nn.Linear
	Gate *tensor.Tensor
	Out  *nn.Linear
}

type gatedConfig struct {
	In, Hidden, Out int
}

func newGatedMLP(c gatedConfig) (nn.Layer, error) {
	if c.Hidden <= 0 {
		return nil, errors.New("hidden must be positive")
	}
	g := &gatedMLP{In: nn.NewLinear(c.In, c.Hidden), Gate: nn.NewParameter(tensor.Full(0.5, c.Hidden)), Out: nn.NewLinear(c.Hidden, c.Out)}
	return g, nil
}

func (g *gatedMLP) Members() nn.Members { return nn.MembersOf(g) }

func (g *gatedMLP) Forward(x *tensor.Tensor) *tensor.Tensor {
	return g.Out.Forward(tensor.Mul(tensor.Tanh(g.In.Forward(x)), tensor.Sigmoid(g.Gate)))
}

func init() { Register("test_gated_mlp", newGatedMLP) }

// TestRegisteredArchitectureRoundTrip: a custom Go model saved with Save
// comes back from Load, by name and config, predicting the same.
func TestRegisteredArchitectureRoundTrip(t *testing.T) {
	arch, err := Custom("test_gated_mlp", []int{4}, 3, gatedConfig{In: 4, Hidden: 6, Out: 3})
	if err != nil {
		t.Fatal(err)
	}
	net, err := Build(arch)
	if err != nil {
		t.Fatal(err)
	}
	nn.Uniform(net.(*gatedMLP).Gate, -1, 1)
	m := &Model{Spec: testSpec(arch), Net: net}
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, SpecFile))
	if !strings.Contains(string(raw), `"kind": "test_gated_mlp"`) || !strings.Contains(string(raw), `"Hidden": 6`) {
		t.Fatalf("model.json does not name the architecture and its config:\n%s", raw)
	}
	back, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.RandN(tensor.NewRNG(3), 5, 4)
	want, got := m.Predict(x).Data(), back.Predict(x).Data()
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("reloaded model predicts %v, saved one %v", got, want)
		}
	}
}

// TestUnregisteredArchitecture: a program that did not register the name
// gets an error saying how to fix it; a bad config names the field.
func TestUnregisteredArchitecture(t *testing.T) {
	_, err := Build(Architecture{Kind: "se_resnet", Input: []int{3}, Outputs: 2})
	if err == nil || !strings.Contains(err.Error(), `model.Register("se_resnet"`) || !strings.Contains(err.Error(), "test_gated_mlp") {
		t.Fatalf("unregistered kind: %v", err)
	}
	if _, err := Custom("se_resnet", nil, 1, nil); err == nil {
		t.Fatal("Custom of an unregistered kind must fail")
	}
	_, err = Build(Architecture{Kind: "test_gated_mlp", Config: []byte(`{"In":4,"Hiden":6}`)})
	if err == nil || !strings.Contains(err.Error(), "Hiden") {
		t.Fatalf("misspelt config field: %v", err)
	}
	_, err = Build(Architecture{Kind: "test_gated_mlp", Config: []byte(`{"In":4,"Out":1}`)})
	if err == nil || !strings.Contains(err.Error(), "hidden must be positive") {
		t.Fatalf("constructor error: %v", err)
	}
}

func TestRegisterRefusesBuiltinAndDuplicate(t *testing.T) {
	for _, name := range []string{"mlp", "test_gated_mlp", ""} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", name)
				}
			}()
			Register(name, newGatedMLP)
		}()
	}
}

// FuzzRegisteredConfig: whatever config a model.json carries for a
// registered kind, Build returns a network or an error, never a panic
// (newGatedMLP panics inside nn.NewLinear on a negative width).
func FuzzRegisteredConfig(f *testing.F) {
	for _, seed := range []string{`{"In":4,"Hidden":6,"Out":3}`, `{"In":-1,"Hidden":2,"Out":1}`, `null`, `[]`, `{"In":1e400}`, `{"Hidden":1}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var c gatedConfig
		if json.Unmarshal(raw, &c) == nil && (c.In > 1<<12 || c.Hidden > 1<<12 || c.Out > 1<<12) {
			return // valid but large: a real allocation, not what this checks
		}
		net, err := Build(Architecture{Kind: "test_gated_mlp", Config: raw})
		if (net == nil) == (err == nil) {
			t.Fatalf("config %q: network %v and error %v", raw, net, err)
		}
	})
}
