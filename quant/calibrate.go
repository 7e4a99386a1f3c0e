package quant

import (
	"fmt"
	"math"
	"strconv"

	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
)

// quantizable reports the kind of a layer this package can replace.
func quantizable(l nn.Layer) (string, bool) {
	switch l.(type) {
	case *nn.Linear:
		return "linear", true
	case *nn.Conv2D:
		return "conv2d", true
	}
	return "", false
}

// Calibrate runs x (a batch of model inputs, [N, input...]) through net in
// batches of at most batch samples, in inference mode and without
// gradients, and returns the Spec that quantises every Linear and Conv2D of
// net with input scales fitted to the largest |input| each saw (max-abs
// calibration). net must be an nn.Sequential, possibly nested; other
// layers (activations, pooling, normalisation, flatten) run in float32.
func Calibrate(net nn.Layer, x *tensor.Tensor, batch int) (*Spec, error) {
	seq, err := sequentialOf(net)
	if err != nil {
		return nil, err
	}
	shape := x.Shape()
	if len(shape) < 2 || shape[0] == 0 {
		return nil, fmt.Errorf("quant: calibration input has shape %v, want [N, ...] with N > 0", shape)
	}
	if batch <= 0 {
		batch = 256
	}
	maxes := map[string]float32{}
	var order []Layer
	per := x.Numel() / shape[0]
	xd := x.Contiguous().Data()
	nn.Train(net, false)
	nn.NoGrad(net, func() {
		for lo := 0; lo < shape[0] && err == nil; lo += batch {
			hi := min(shape[0], lo+batch)
			b := tensor.FromSlice(xd[lo*per:hi*per], append([]int{hi - lo}, shape[1:]...)...)
			var y *tensor.Tensor
			y, err = observe(seq, b, maxes, &order)
			if y != nil {
				y.Release()
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("quant: the network has no Linear or Conv2D layer to quantise")
	}
	for i := range order {
		m := maxes[order[i].Name]
		if math.IsNaN(float64(m)) || math.IsInf(float64(m), 0) {
			return nil, fmt.Errorf("quant: calibration input of layer %q is not finite", order[i].Name)
		}
		order[i].InputMax = m
		order[i].InputScale = m / 127
		if m == 0 {
			order[i].InputScale = 1 // never saw anything but zeros
		}
	}
	return &Spec{Scheme: Scheme, Calibration: "max-abs", Samples: shape[0], Layers: order}, nil
}

// walk runs x through seq layer by layer, nested Sequentials included,
// calling visit with each other layer's state-dict name ("0", "3.1") and
// the input it is about to get; it returns seq's output.
func walk(seq *nn.Sequential, prefix string, x *tensor.Tensor, visit func(name string, l nn.Layer, x *tensor.Tensor) error) (*tensor.Tensor, error) {
	for i, l := range seq.Layers {
		name := prefix + strconv.Itoa(i)
		if inner, ok := l.(*nn.Sequential); ok {
			y, err := walk(inner, name+".", x, visit)
			if err != nil {
				return nil, err
			}
			x = y
			continue
		}
		if err := visit(name, l, x); err != nil {
			return nil, err
		}
		x = l.Forward(x)
	}
	return x, nil
}

// observe records, under its state-dict name, the largest |input| of every
// quantisable layer of seq on x, and appends layers seen for the first
// time to order.
func observe(seq *nn.Sequential, x *tensor.Tensor, maxes map[string]float32, order *[]Layer) (*tensor.Tensor, error) {
	return walk(seq, "", x, func(name string, l nn.Layer, x *tensor.Tensor) error {
		kind, ok := quantizable(l)
		if !ok {
			return nil
		}
		if _, seen := maxes[name]; !seen {
			*order = append(*order, Layer{Name: name, Kind: kind})
		}
		m := maxes[name]
		for _, v := range x.Contiguous().Data() {
			if a := float32(math.Abs(float64(v))); a > m || a != a {
				m = a
			}
		}
		maxes[name] = m
		return nil
	})
}

// sequentialOf returns net as the Sequential that quantisation walks.
func sequentialOf(net nn.Layer) (*nn.Sequential, error) {
	seq, ok := net.(*nn.Sequential)
	if !ok {
		return nil, fmt.Errorf("quant: the network is a %T; only Sequential networks (of Linear, Conv2D and float layers) can be quantised", net)
	}
	return seq, nil
}

// byName indexes the layers of s by their state-dict path.
func (s *Spec) byName() map[string]Layer {
	want := make(map[string]Layer, len(s.Layers))
	for _, l := range s.Layers {
		want[l.Name] = l
	}
	return want
}

// Apply returns net with every layer that s lists replaced by its
// quantised version (the float parameters are shared, not copied; net
// itself is left as it was). Errors name the layer at fault.
func Apply(net nn.Layer, s *Spec) (nn.Layer, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	seq, err := sequentialOf(net)
	if err != nil {
		return nil, err
	}
	want := s.byName()
	out, err := replace(seq, "", want)
	if err != nil {
		return nil, err
	}
	for name := range want {
		return nil, fmt.Errorf("quantization: layer %q is not a layer of the network", name)
	}
	return out, nil
}

// replace copies seq with the layers in want swapped for quantised ones,
// deleting each from want as it is used.
func replace(seq *nn.Sequential, prefix string, want map[string]Layer) (*nn.Sequential, error) {
	out := nn.NewSequential()
	for i, l := range seq.Layers {
		name := prefix + strconv.Itoa(i)
		if inner, ok := l.(*nn.Sequential); ok {
			r, err := replace(inner, name+".", want)
			if err != nil {
				return nil, err
			}
			out.Append(r)
			continue
		}
		spec, ok := want[name]
		if !ok {
			out.Append(l)
			continue
		}
		delete(want, name)
		q, err := quantizeLayer(name, l, spec)
		if err != nil {
			return nil, err
		}
		out.Append(q)
	}
	return out, nil
}

// quantizeLayer is the int8 version of layer l (state-dict name name) as
// spec describes it; errors name the layer.
func quantizeLayer(name string, l nn.Layer, spec Layer) (nn.Layer, error) {
	if kind, _ := quantizable(l); kind != spec.Kind {
		return nil, fmt.Errorf("quantization: layer %q is a %T, the spec says %s", name, l, spec.Kind)
	}
	switch f := l.(type) {
	case *nn.Linear:
		return NewLinear(f, spec.InputScale), nil
	case *nn.Conv2D:
		q, err := NewConv2D(f, spec.InputScale)
		if err != nil {
			return nil, fmt.Errorf("quantization: layer %q: %w", name, err)
		}
		return q, nil
	}
	return nil, fmt.Errorf("quantization: layer %q is a %T, not a Linear or Conv2D", name, l)
}
