package quant

import (
	"time"

	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
)

// LayerTime is how long one quantisable layer takes on this machine in
// float32 and in int8, on the same input batch.
type LayerTime struct {
	Name        string
	Float, Int8 time.Duration
}

// Slower reports whether int8 loses to float32 for this layer.
func (t LayerTime) Slower() bool { return t.Int8 > t.Float }

// TimingRuns is how many times TimeLayers runs each layer; the fastest run counts,
// the one other work on the machine disturbed least.
const TimingRuns = 5

// TimeLayers runs x (a batch of model inputs) through net and times every
// layer that s lists, float32 against int8, on the input that layer sees.
// Whether int8 pays depends on the CPU (VNNI or not) and on the layer's
// shape (a convolution of one input channel reads 25 values per output, too
// few for an int8 dot product), so shen quantize --float auto keeps in
// float32 the layers that run slower in int8 here. Errors name the layer.
func TimeLayers(net nn.Layer, s *Spec, x *tensor.Tensor) ([]LayerTime, error) {
	seq, err := sequentialOf(net)
	if err != nil {
		return nil, err
	}
	want := s.byName()
	var times []LayerTime
	nn.Train(net, false)
	nn.NoGrad(net, func() {
		var y *tensor.Tensor
		y, err = walk(seq, "", x, func(name string, l nn.Layer, x *tensor.Tensor) error {
			spec, ok := want[name]
			if !ok {
				return nil
			}
			q, err := quantizeLayer(name, l, spec)
			if err != nil {
				return err
			}
			times = append(times, LayerTime{Name: name, Float: bestOf(l, x), Int8: bestOf(q, x)})
			return nil
		})
		if y != nil && y != x {
			y.Release()
		}
	})
	return times, err
}

// bestOf is the fastest of TimingRuns forward passes of l on x.
func bestOf(l nn.Layer, x *tensor.Tensor) time.Duration {
	best := time.Duration(1<<63 - 1)
	for range TimingRuns {
		t := time.Now()
		l.Forward(x).Release()
		best = min(best, time.Since(t))
	}
	return best
}
