// Package fit is the training loop a PyTorch user writes by hand for a
// hand-written module, written once: epochs over a data.Loader with a
// classification or regression step (forward, loss, backward, optional
// gradient clipping, optimizer step, FreeGraph), a schedule stepped per
// epoch, evaluation without gradients, and one log line per epoch.
//
// It is for Go programs that build their own nn modules. The train package
// is the configuration-driven pipeline behind the shen CLI (data
// preparation, checkpoints, run directories); fit does not import it and
// holds no state beyond its arguments.
//
//	hist, err := fit.Classifier(net, opt, trainSet, fit.Options{
//		Epochs: 5, BatchSize: 64, ClipNorm: 1, Scheduler: sched, Test: testSet, Log: os.Stdout})
package fit

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/optim"
	"github.com/shenml/shen/tensor"
)

// Options configures Classifier and Regressor. The zero value of each
// optional field turns it off.
type Options struct {
	// Epochs is the number of passes over the training set (required, > 0).
	Epochs int
	// BatchSize is the number of samples per step (required, > 0).
	BatchSize int
	// Seed drives the per-epoch shuffle; the order of epoch e depends only
	// on Seed and e, so runs repeat exactly.
	Seed uint64
	// NoShuffle keeps the dataset order (shuffling is on by default, as
	// a torch DataLoader(shuffle=True) for training).
	NoShuffle bool
	// Input turns a batch into the network's input; nil gives the batch's
	// features in their batch shape (Input below).
	Input func(b *data.Batch) *tensor.Tensor
	// ClipNorm, when positive, clips the global L2 norm of the gradients
	// before each step (torch.nn.utils.clip_grad_norm_).
	ClipNorm float64
	// Scheduler, when set, is stepped once after each epoch.
	Scheduler optim.Scheduler
	// Test, when set, is evaluated after each epoch (accuracy for
	// Classifier, mean squared error for Regressor).
	Test data.Dataset
	// Log, when set, gets one line per epoch.
	Log io.Writer
}

// Epoch is what one pass over the training set measured.
type Epoch struct {
	Epoch int // from 1
	// Loss is the training loss averaged over samples.
	Loss float64
	// TrainAccuracy is the accuracy on the training batches as they were
	// trained (Classifier only).
	TrainAccuracy float64
	// Test is the accuracy (Classifier) or mean squared error (Regressor)
	// on Options.Test after the epoch; NaN without a test set.
	Test float64
	// Seconds is the wall time of the training pass (evaluation excluded)
	// and SamplesPerSecond its throughput.
	Seconds, SamplesPerSecond float64
}

func (o *Options) check() error {
	if o.Epochs <= 0 || o.BatchSize <= 0 {
		return fmt.Errorf("fit: Epochs and BatchSize must be positive, got %d and %d", o.Epochs, o.BatchSize)
	}
	if o.Input == nil {
		o.Input = Input
	}
	return nil
}

// Input returns the batch's features as a tensor of the batch's shape
// ([B, sample shape...]), sharing the batch's memory.
func Input(b *data.Batch) *tensor.Tensor { return tensor.FromSlice(b.X, b.XShape...) }

// Classifier trains net on ds with softmax cross-entropy against the
// batch's class labels, as the usual PyTorch loop does, and returns one
// Epoch per epoch. net is in training mode while it trains and in
// evaluation mode while Test is measured.
func Classifier(net nn.Layer, opt optim.Optimizer, ds data.Dataset, o Options) ([]Epoch, error) {
	if ds.Spec().YLen != 1 {
		return nil, errors.New("fit: Classifier needs one class label per sample (data.NewArrayDataset with labels)")
	}
	step := func(out *tensor.Tensor, b *data.Batch) (*tensor.Tensor, int) {
		return nn.CrossEntropy(out, tensor.IntFromSlice(b.Y, b.Size)), Correct(out, b.Y)
	}
	eval := func() (float64, error) { return Accuracy(net, o.Test, o.Input) }
	return run(net, opt, ds, o, step, eval)
}

// Regressor trains net on ds with the mean squared error against the
// batch's float targets (data.NewRegressionDataset), shaped [B, targets]
// like the network's output, and returns one Epoch per epoch.
func Regressor(net nn.Layer, opt optim.Optimizer, ds data.Dataset, o Options) ([]Epoch, error) {
	if ds.Spec().YFloatLen < 1 {
		return nil, errors.New("fit: Regressor needs float targets (data.NewRegressionDataset)")
	}
	step := func(out *tensor.Tensor, b *data.Batch) (*tensor.Tensor, int) {
		return nn.MSELoss(out, tensor.FromSlice(b.YFloat, out.Shape()...), nn.ReduceMean), 0
	}
	eval := func() (float64, error) { return MSE(net, o.Test, o.Input) }
	return run(net, opt, ds, o, step, eval)
}

type lossFn func(out *tensor.Tensor, b *data.Batch) (loss *tensor.Tensor, correct int)

func run(net nn.Layer, opt optim.Optimizer, ds data.Dataset, o Options, lossOf lossFn, eval func() (float64, error)) ([]Epoch, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	loader, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: o.BatchSize, Shuffle: !o.NoShuffle, Seed: o.Seed, Prefetch: 2})
	if err != nil {
		return nil, err
	}
	params := nn.Parameters(net)
	var hist []Epoch
	for e := 0; e < o.Epochs; e++ {
		nn.Train(net, true)
		start := time.Now()
		var lossSum float64
		var correct, seen int
		for b, err := range loader.Epoch(e) {
			if err != nil {
				return hist, err
			}
			out := net.Forward(o.Input(b))
			loss, c := lossOf(out, b)
			opt.ZeroGrad()
			loss.Backward()
			if o.ClipNorm > 0 {
				optim.ClipGradNorm(params, o.ClipNorm, 2)
			}
			opt.Step()
			l := float64(loss.Item()) // read before FreeGraph frees it
			loss.FreeGraph()
			if math.IsNaN(l) || math.IsInf(l, 0) {
				return hist, fmt.Errorf("fit: epoch %d: the loss is %v (learning rate too high?)", e+1, l)
			}
			lossSum += l * float64(b.Size)
			correct += c
			seen += b.Size
		}
		ep := Epoch{Epoch: e + 1, Seconds: time.Since(start).Seconds(), Test: math.NaN()}
		ep.Loss = lossSum / float64(max(seen, 1))
		ep.TrainAccuracy = float64(correct) / float64(max(seen, 1))
		ep.SamplesPerSecond = float64(seen) / ep.Seconds
		if o.Scheduler != nil {
			o.Scheduler.Step()
		}
		if o.Test != nil {
			if ep.Test, err = eval(); err != nil {
				return hist, err
			}
		}
		hist = append(hist, ep)
		if o.Log != nil {
			fmt.Fprintf(o.Log, "epoch %d/%d  loss %.4f  train acc %.4f  test %.4f  %.1fs  %.0f samples/s\n",
				ep.Epoch, o.Epochs, ep.Loss, ep.TrainAccuracy, ep.Test, ep.Seconds, ep.SamplesPerSecond)
		}
	}
	return hist, nil
}

// Accuracy returns the share of ds's samples whose argmax of net's output
// is the label, in evaluation mode and without gradients (net is put back
// in training mode afterwards). input nil means Input.
func Accuracy(net nn.Layer, ds data.Dataset, input func(*data.Batch) *tensor.Tensor) (float64, error) {
	correct, n := 0, 0
	err := eachEval(net, ds, input, func(out *tensor.Tensor, b *data.Batch) {
		correct += Correct(out, b.Y)
		n += b.Size
	})
	return float64(correct) / float64(max(n, 1)), err
}

// MSE returns the mean squared error of net's output against ds's float
// targets, in evaluation mode and without gradients.
func MSE(net nn.Layer, ds data.Dataset, input func(*data.Batch) *tensor.Tensor) (float64, error) {
	var sum float64
	n := 0
	err := eachEval(net, ds, input, func(out *tensor.Tensor, b *data.Batch) {
		for i, v := range out.Data() {
			d := float64(v) - float64(b.YFloat[i])
			sum += d * d
		}
		n += len(b.YFloat)
	})
	return sum / float64(max(n, 1)), err
}

// eachEval runs net over ds in batches of 500 under nn.NoGrad (scoped to
// net, so training elsewhere keeps recording) and hands each output to fn,
// then releases it.
func eachEval(net nn.Layer, ds data.Dataset, input func(*data.Batch) *tensor.Tensor, fn func(out *tensor.Tensor, b *data.Batch)) error {
	if input == nil {
		input = Input
	}
	nn.Train(net, false)
	defer nn.Train(net, true)
	loader, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: 500})
	if err != nil {
		return err
	}
	for b, err := range loader.Epoch(0) {
		if err != nil {
			return err
		}
		nn.NoGrad(net, func() {
			out := net.Forward(input(b))
			fn(out, b)
			out.Release()
		})
	}
	return nil
}

// Correct counts the rows of logits [B, C] whose argmax equals the label.
func Correct(logits *tensor.Tensor, labels []int64) int {
	pred := tensor.Argmax(logits, 1, false).Data()
	n := 0
	for i, p := range pred {
		if p == labels[i] {
			n++
		}
	}
	return n
}
