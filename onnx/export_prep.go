package onnx

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/onnx/onnxpb"
	"google.golang.org/protobuf/proto"
)

// The fitted table preprocessing as ONNX: one graph input per raw column
// (float32 [batch] for numeric columns, NaN for missing; string [batch]
// for categorical ones, "" for missing), the pipeline's steps as nodes,
// and the features concatenated into the network's [batch, width] input.
// Numeric steps are standard operators; categorical imputation, one-hot
// and ordinal codes use ai.onnx.ml's LabelEncoder and OneHotEncoder.
// Text tokenisation has no ONNX form and is refused.

// prepStep is one pipeline step as the pipeline's JSON stores it.
type prepStep struct {
	Kind       string     `json:"kind"`
	Cols       []string   `json:"columns"`
	Center     []float64  `json:"center"`
	Scale      []float64  `json:"scale"`
	Low        []float64  `json:"low"`
	High       []float64  `json:"high"`
	Types      []string   `json:"types"`
	Values     []string   `json:"values"`
	Categories [][]string `json:"categories"`
}

// prepColumn is a column of the simulated frame: its ONNX value and
// whether it is still categorical (a [batch] string) or numeric (a
// [batch, width] float block, width > 1 after one-hot).
type prepColumn struct {
	name, value string
	categorical bool
	impute      string // a categorical column's pending imputation ("" none)
	width       int
}

// preprocessing adds p's inputs and steps and returns the [batch, width]
// feature matrix value.
func (e *exporter) preprocessing(p *data.Pipeline) (string, error) {
	raw, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	var pj struct {
		Inputs  []data.Field      `json:"inputs"`
		Outputs []string          `json:"outputs"`
		Steps   []json.RawMessage `json:"steps"`
	}
	if err := json.Unmarshal(raw, &pj); err != nil {
		return "", err
	}
	var cols []*prepColumn
	for _, f := range pj.Inputs {
		cat := f.Type == data.Categorical
		elem := onnxpb.TensorProto_FLOAT
		if cat {
			elem = onnxpb.TensorProto_STRING
		}
		e.g.Input = append(e.g.Input, valueInfoProto(f.Name, elem, nil))
		cols = append(cols, &prepColumn{name: f.Name, value: f.Name, categorical: cat, width: 1})
	}
	for i, rawStep := range pj.Steps {
		var s prepStep
		if err := json.Unmarshal(rawStep, &s); err != nil {
			return "", err
		}
		if cols, err = e.prepStep(cols, s); err != nil {
			return "", fmt.Errorf("preprocessing step %d (%s): %w", i, s.Kind, err)
		}
	}
	return e.prepFeatures(cols, pj.Outputs)
}

// prepStep applies one step to the simulated frame.
func (e *exporter) prepStep(cols []*prepColumn, s prepStep) ([]*prepColumn, error) {
	find := func(name string) (*prepColumn, error) {
		for _, c := range cols {
			if c.name == name {
				return c, nil
			}
		}
		return nil, fmt.Errorf("no column %q", name)
	}
	for k, name := range s.Cols {
		c, err := find(name)
		if err != nil {
			return nil, err
		}
		if s.Kind == "drop" {
			cols = slices.DeleteFunc(cols, func(x *prepColumn) bool { return x == c })
			continue
		}
		if c.categorical != (s.Kind == "onehot" || s.Kind == "ordinal" || (s.Kind == "impute" && s.Types[k] == "categorical")) {
			return nil, fmt.Errorf("column %q has the wrong type for the step", name)
		}
		switch s.Kind {
		case "impute":
			if c.categorical {
				c.impute = s.Values[k]
				continue
			}
			v, err := parseFloat(s.Values[k])
			if err != nil {
				return nil, err
			}
			nan := e.node("IsNaN", []string{c.value}, nil)
			c.value = e.node("Where", []string{nan, e.scalar(float32(v)), c.value}, nil)
		case "standardize", "minmax", "robust":
			d := e.node("Sub", []string{c.value, e.scalar(float32(s.Center[k]))}, nil)
			c.value = e.node("Div", []string{d, e.scalar(float32(s.Scale[k]))}, nil)
		case "log1p":
			// Shen maps values <= -1 to NaN (missing); Log of a non-positive
			// number is NaN or -Inf, so those are made NaN explicitly.
			p1 := e.node("Add", []string{c.value, e.scalar(1)}, nil)
			bad := e.node("Not", []string{e.node("Greater", []string{p1, e.scalar(0)}, nil)}, nil)
			c.value = e.node("Where", []string{bad, e.scalar(float32(math.NaN())), e.node("Log", []string{p1}, nil)}, nil)
		case "clip":
			c.value = e.node("Min", []string{e.node("Max", []string{c.value, e.scalar(float32(s.Low[k]))}, nil),
				e.scalar(float32(s.High[k]))}, nil)
		case "onehot", "ordinal":
			e.categories(c, s.Kind, s.Categories[k])
		default:
			return nil, fmt.Errorf("has no ONNX form; export the network alone")
		}
	}
	if len(s.Cols) == 0 && s.Kind == "tokens" {
		return nil, fmt.Errorf("text tokenisation has no ONNX form; export the network alone")
	}
	return cols, nil
}

// categories writes one-hot or ordinal codes of a categorical column,
// folding a pending imputation of "" into the label table.
func (e *exporter) categories(c *prepColumn, kind string, cats []string) {
	e.ml = true
	in := c.value
	if c.impute != "" {
		keys := append([]string{""}, cats...)
		vals := append([]string{c.impute}, cats...)
		in = e.node("LabelEncoder", []string{in}, nil, stringsAttr("keys_strings", keys...),
			stringsAttr("values_strings", vals...), stringAttr("default_string", ""))
		e.g.Node[len(e.g.Node)-1].Domain = proto.String("ai.onnx.ml")
	}
	if kind == "onehot" {
		c.value = e.node("OneHotEncoder", []string{in}, nil, stringsAttr("cats_strings", cats...), intAttr("zeros", 1))
		c.width = len(cats)
	} else { // ordinal: categories count from 1, unknown is 0
		codes := make([]int, len(cats))
		for j := range codes {
			codes[j] = j + 1
		}
		ids := e.node("LabelEncoder", []string{in}, nil, stringsAttr("keys_strings", cats...),
			intsAttrP("values_int64s", codes...), intAttr("default_int64", 0))
		e.g.Node[len(e.g.Node)-1].Domain = proto.String("ai.onnx.ml")
		c.value = e.node("Cast", []string{ids}, nil, intAttr("to", int64(onnxpb.TensorProto_FLOAT)))
	}
	if kind == "onehot" {
		e.g.Node[len(e.g.Node)-1].Domain = proto.String("ai.onnx.ml")
	}
	c.categorical = false
}

// prepFeatures concatenates the numeric columns, in frame order, into
// [batch, width] and checks the order against the pipeline's outputs.
func (e *exporter) prepFeatures(cols []*prepColumn, outputs []string) (string, error) {
	var parts []string
	width := 0
	var names []string
	for _, c := range cols {
		if c.categorical {
			return "", fmt.Errorf("column %q is still categorical after the steps", c.name)
		}
		v := c.value
		if c.width == 1 {
			v = e.node("Unsqueeze", []string{v, e.ints(1)}, nil)
			names = append(names, c.name)
		} else {
			for j := 0; j < c.width; j++ {
				names = append(names, c.name+"=")
			}
		}
		parts = append(parts, v)
		width += c.width
	}
	if width != len(outputs) {
		return "", fmt.Errorf("the steps give %d features, the pipeline %d", width, len(outputs))
	}
	for i, n := range names {
		if !strings.HasPrefix(outputs[i], n) {
			return "", fmt.Errorf("feature %d is %q, the pipeline's is %q", i, n, outputs[i])
		}
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return e.node("Concat", parts, nil, intAttr("axis", 1)), nil
}

func parseFloat(s string) (float64, error) {
	var v float64
	if _, err := fmt.Sscan(s, &v); err != nil {
		return 0, fmt.Errorf("impute value %q is not a number", s)
	}
	return v, nil
}

func stringsAttr(name string, v ...string) *onnxpb.AttributeProto {
	a := &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRINGS.Enum()}
	for _, s := range v {
		a.Strings = append(a.Strings, []byte(s))
	}
	return a
}
