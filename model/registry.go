package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/shenml/shen/nn"
)

type constructor struct {
	build func(raw json.RawMessage) (nn.Layer, error)
}

var registry = struct {
	sync.RWMutex
	m map[string]constructor
}{m: map[string]constructor{}}

// builtinKinds are the architecture kinds Build knows without a registry.
var builtinKinds = []string{"mlp", "cnn", "layers", "lstm", "gru", "transformer"}

// Register makes a custom Go architecture an artifact, as database/sql
// drivers and image formats are registered: the program that trains it and
// every program that loads it call Register with the same name and a
// constructor, and the artifact's model.json names it and carries its
// configuration as JSON:
//
//	type SEConfig struct{ Channels, Reduction int }
//
//	func init() { model.Register("se_net", NewSENet) } // func NewSENet(SEConfig) (nn.Layer, error)
//
//	arch, _ := model.Custom("se_net", []int{3, 32, 32}, 10, SEConfig{16, 4})
//	net, _ := model.Build(arch)
//	// ... train net ...
//	m := &model.Model{Spec: model.Spec{Task: "classification", Architecture: arch, Labels: labels}, Net: net}
//	m.Save(dir)            // model.json: "kind": "se_net", "config": {...}
//	m, _ = model.Load(dir) // rebuilt with NewSENet, weights loaded by name
//
// A program that has not registered the name (the shen CLI, say) gets an
// error from Load saying so, never a different network.
//
// Register makes the kind name buildable by Build, and so loadable by
// Load, in this program: newNet receives the architecture's
// Config decoded into a C (unknown fields are an error; no config gives
// the zero C) and returns a fresh network, whose state dict must match the
// saved weights by name and shape. Call it from an init function or before
// any Load. It panics if name is empty, is a built-in kind or is already
// registered, as sql.Register does: two meanings for one name would load
// the wrong network.
func Register[C any](name string, newNet func(cfg C) (nn.Layer, error)) {
	if name == "" || newNet == nil {
		panic("model: Register with an empty name or a nil constructor")
	}
	if slices.Contains(builtinKinds, name) {
		panic(fmt.Sprintf("model: Register(%q): that is a built-in architecture kind", name))
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[name]; dup {
		panic(fmt.Sprintf("model: Register(%q) called twice", name))
	}
	registry.m[name] = constructor{build: func(raw json.RawMessage) (net nn.Layer, err error) {
		// The config comes from a file (model.json): a constructor that
		// panics on sizes it did not expect (a negative width) must not
		// take the loading program down.
		defer func() {
			if r := recover(); r != nil {
				net, err = nil, fmt.Errorf("architecture %q: the constructor panicked on config %s: %v", name, raw, r)
			}
		}()
		var cfg C
		if len(bytes.TrimSpace(raw)) > 0 && string(bytes.TrimSpace(raw)) != "null" {
			d := json.NewDecoder(bytes.NewReader(raw))
			d.DisallowUnknownFields()
			if err := d.Decode(&cfg); err != nil {
				return nil, fmt.Errorf("architecture %q: config: %w", name, err)
			}
		}
		net, err = newNet(cfg)
		if err != nil {
			return nil, fmt.Errorf("architecture %q: %w", name, err)
		}
		if net == nil {
			return nil, fmt.Errorf("architecture %q: the registered constructor returned a nil network", name)
		}
		if err := nn.Validate(net); err != nil {
			return nil, fmt.Errorf("architecture %q: %w", name, err)
		}
		return net, nil
	}}
}

// Registered returns the registered architecture kinds, sorted.
func Registered() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.m))
	for n := range registry.m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Custom returns the Architecture of a registered kind: input is the shape
// of one sample and outputs the width of the output (both go into the
// artifact's signature), cfg the constructor's configuration, stored as
// JSON in model.json. It fails if name is not registered or cfg does not
// encode.
func Custom(name string, input []int, outputs int, cfg any) (Architecture, error) {
	registry.RLock()
	_, ok := registry.m[name]
	registry.RUnlock()
	if !ok {
		return Architecture{}, notRegistered(name)
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return Architecture{}, fmt.Errorf("architecture %q: config: %w", name, err)
	}
	return Architecture{Kind: name, Input: slices.Clone(input), Outputs: outputs, Config: raw}, nil
}

// buildRegistered builds a registered kind; ok is false for a kind that is
// not registered (Build then tries the built-in kinds).
func buildRegistered(a Architecture) (net nn.Layer, ok bool, err error) {
	registry.RLock()
	c, ok := registry.m[a.Kind]
	registry.RUnlock()
	if !ok {
		return nil, false, nil
	}
	for _, d := range a.Input {
		if d <= 0 {
			return nil, true, fmt.Errorf("architecture %q: input shape %v has a dimension that is not positive", a.Kind, a.Input)
		}
	}
	net, err = c.build(a.Config)
	if err == nil && nn.NumParameters(net) > MaxParameters {
		err = fmt.Errorf("architecture %q: %d parameters, more than the %d this build allows", a.Kind, nn.NumParameters(net), MaxParameters)
	}
	return net, true, err
}

func notRegistered(kind string) error {
	reg := Registered()
	have := "none is registered"
	if len(reg) > 0 {
		have = "registered: " + strings.Join(reg, ", ")
	}
	return fmt.Errorf("architecture: unknown kind %q: not one of %s and not registered in this program (%s); a custom Go model loads only in a program that calls model.Register(%q, constructor) before Build or Load", kind, strings.Join(builtinKinds, ", "), have, kind)
}
