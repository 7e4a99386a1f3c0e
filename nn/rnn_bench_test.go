package nn

import (
	"testing"

	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/tensor"
)

// benchRNN times one training step's worth of a recurrent layer: forward
// over a [seq, batch, input] batch, a loss on the top layer's final hidden
// state, backward, and FreeGraph, as a training loop runs it. It reports
// samples/s; allocs/op shows what the step allocates once the buffer pool
// is warm.
func benchRNN(b *testing.B, m *RNNBase, seq, batch, input int) {
	x := tensor.RandN(tensor.NewRNG(1), seq, batch, input)
	step := func() {
		_, fin := m.Forward(x, nil, nil)
		loss := tensor.Sum(m.LastHidden(fin), false)
		loss.Backward()
		loss.FreeGraph()
	}
	for range 3 {
		step() // warm the pool
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		step()
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkLSTMMNISTRows is the row-by-row MNIST LSTM (28 steps of 28
// pixels, batch 64, hidden 128) forward and backward on 2 threads, the
// setting bench/torch_lstm.py times PyTorch in.
func BenchmarkLSTMMNISTRows(b *testing.B) {
	defer kernel.SetThreads(kernel.SetThreads(2))
	benchRNN(b, &NewLSTM(28, 128, RNNConfig{}).RNNBase, 28, 64, 28)
}

// BenchmarkGRUMNISTRows is the same model with a GRU.
func BenchmarkGRUMNISTRows(b *testing.B) {
	defer kernel.SetThreads(kernel.SetThreads(2))
	benchRNN(b, &NewGRU(28, 128, RNNConfig{}).RNNBase, 28, 64, 28)
}

// BenchmarkLSTMMNISTRowsInference is the forward pass alone, under NoGrad.
func BenchmarkLSTMMNISTRowsInference(b *testing.B) {
	defer kernel.SetThreads(kernel.SetThreads(2))
	m := NewLSTM(28, 128, RNNConfig{})
	x := tensor.RandN(tensor.NewRNG(1), 28, 64, 28)
	b.ReportAllocs()
	for b.Loop() {
		NoGrad(m, func() {
			out, fin := m.Forward(x, nil, nil)
			out.Release()
			fin.H.Release()
			fin.C.Release()
		})
	}
	b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "samples/s")
}
