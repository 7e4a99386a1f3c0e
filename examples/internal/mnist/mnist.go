// Package mnist is the shared plumbing of the MNIST examples: loading the
// IDX files, the epoch loop with a progress line, and test accuracy. Each
// example keeps its model and its training step in its own main.go.
package mnist

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/optim"
	"github.com/shenml/shen/tensor"
)

// Flags are the options every MNIST example takes.
type Flags struct {
	Dir       string
	Epochs    int
	Batch     int
	LR        float64
	Seed      uint64
	Threads   int
	Limit     int // use only the first Limit training samples (0 = all)
	TestLimit int
}

// ParseFlags registers and parses the common flags with the example's defaults.
func ParseFlags(epochs int, lr float64) *Flags {
	f := &Flags{}
	flag.StringVar(&f.Dir, "data", defaultDir(), "folder holding the MNIST IDX files (train-images-idx3-ubyte.gz, ...)")
	flag.IntVar(&f.Epochs, "epochs", epochs, "training epochs")
	flag.IntVar(&f.Batch, "batch", 64, "batch size")
	flag.Float64Var(&f.LR, "lr", lr, "learning rate")
	flag.Uint64Var(&f.Seed, "seed", 1, "seed for initialisation and shuffling")
	flag.IntVar(&f.Threads, "threads", 0, "kernel threads (0 = GOMAXPROCS)")
	flag.IntVar(&f.Limit, "limit", 0, "train on the first N samples only (0 = all 60000)")
	flag.IntVar(&f.TestLimit, "test-limit", 0, "evaluate on the first N test samples only (0 = all 10000)")
	flag.Parse()
	return f
}

// Main is each example's main: it parses the flags with the example's
// default epochs and learning rate, runs the example, and prints the
// RESULT line that bench/mnist.sh reads.
func Main(name string, epochs int, lr float64, run func(*Flags) (acc, secPerEpoch float64, err error)) {
	f := ParseFlags(epochs, lr)
	acc, sec, err := run(f)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("RESULT model=%s test_acc=%.4f sec_per_epoch=%.2f\n", name, acc, sec)
}

// Setup applies the flags that configure the process (threads, seed); call
// it before building the model.
func (f *Flags) Setup() {
	kernel.SetThreads(f.Threads)
	nn.SetSeed(f.Seed)
}

// TestFlags returns flags for a shortened run in tests: one epoch on the
// first n training and n/4 test samples. It reports whether the MNIST
// files are present.
func TestFlags(n int, lr float64) (*Flags, bool) {
	f := &Flags{Dir: defaultDir(), Epochs: 1, Batch: 64, LR: lr, Seed: 1, Limit: n, TestLimit: n / 4}
	_, err := os.Stat(filepath.Join(f.Dir, "train-images-idx3-ubyte.gz"))
	return f, err == nil
}

// defaultDir finds ../shared/data/mnist from the repository root or from
// an example's folder.
func defaultDir() string {
	for _, d := range []string{"../shared/data/mnist", "../../shared/data/mnist", "../../../shared/data/mnist"} {
		if _, err := os.Stat(filepath.Join(d, "train-images-idx3-ubyte.gz")); err == nil {
			return d
		}
	}
	return "../shared/data/mnist"
}

// Load reads the training and test sets.
func Load(f *Flags) (train, test *data.ArrayDataset, err error) {
	train, err = data.LoadMNIST(filepath.Join(f.Dir, "train-images-idx3-ubyte.gz"), filepath.Join(f.Dir, "train-labels-idx1-ubyte.gz"))
	if err != nil {
		return nil, nil, fmt.Errorf("%w (pass -data DIR with the MNIST files)", err)
	}
	test, err = data.LoadMNIST(filepath.Join(f.Dir, "t10k-images-idx3-ubyte.gz"), filepath.Join(f.Dir, "t10k-labels-idx1-ubyte.gz"))
	if err != nil {
		return nil, nil, err
	}
	normalize(train.X)
	normalize(test.X)
	return limit(train, f.Limit), limit(test, f.TestLimit), nil
}

// normalize applies MNIST's usual (x − 0.1307) / 0.3081, as the PyTorch
// reference (bench/peers/torch_mnist.py) does, so results compare.
func normalize(x []float32) {
	for i, v := range x {
		x[i] = (v - 0.1307) / 0.3081
	}
}

func limit(d *data.ArrayDataset, n int) *data.ArrayDataset {
	if n <= 0 || n >= d.Len() {
		return d
	}
	w := len(d.X) / d.Len()
	out, err := data.NewArrayDataset(d.X[:n*w], d.Spec().XShape, d.Y[:n])
	if err != nil {
		panic(err)
	}
	return out
}

// Step trains on one batch and returns the loss and the number of correct predictions.
type Step func(x *tensor.Tensor, y *tensor.IntTensor) (loss float32, correct int)

// ClassifierStep returns the usual supervised step: forward, cross-entropy,
// backward, optional clipping of the global gradient norm (clipNorm > 0),
// optimizer step, and FreeGraph so the next step reuses this one's memory.
func ClassifierStep(net nn.Layer, opt optim.Optimizer, clipNorm float64) Step {
	params := nn.Parameters(net)
	return func(x *tensor.Tensor, y *tensor.IntTensor) (float32, int) {
		logits := net.Forward(x)
		loss := nn.CrossEntropy(logits, y)
		opt.ZeroGrad()
		loss.Backward()
		if clipNorm > 0 {
			optim.ClipGradNorm(params, clipNorm, 2)
		}
		opt.Step()
		l, c := loss.Item(), Correct(logits, y.Data())
		loss.FreeGraph()
		return l, c
	}
}

// ShortRun is the body of each example's test: it trains one epoch on the
// first n samples with run and fails unless test accuracy reaches minAcc,
// skipping under -short or when the MNIST files are absent.
func ShortRun(t *testing.T, n int, lr, minAcc float64, run func(*Flags) (acc, sec float64, err error)) {
	if testing.Short() {
		t.Skip("trains a model; skipped with -short")
	}
	f, ok := TestFlags(n, lr)
	if !ok {
		t.Skip("MNIST files not found in " + f.Dir + " (../shared/data/mnist)")
	}
	acc, _, err := run(f)
	if err != nil {
		t.Fatal(err)
	}
	if acc < minAcc {
		t.Errorf("test accuracy %.3f after a short run, want at least %.2f (chance is 0.10)", acc, minAcc)
	}
}

// Train runs epochs of step over the training set, printing one line per
// epoch with loss, accuracy, samples/s and test accuracy, and returns the
// final test accuracy and the mean seconds per epoch (training only). A
// non-nil sched is stepped after each epoch.
func Train(f *Flags, model nn.Layer, trainSet, testSet *data.ArrayDataset, step Step, input func(b *data.Batch) *tensor.Tensor, sched optim.Scheduler) (acc, secPerEpoch float64, err error) {
	loader, err := data.NewLoader(trainSet, data.LoaderOptions{BatchSize: f.Batch, Shuffle: true, Seed: f.Seed, Prefetch: 2})
	if err != nil {
		return 0, 0, err
	}
	var total time.Duration
	for epoch := 0; epoch < f.Epochs; epoch++ {
		nn.Train(model, true)
		start := time.Now()
		var lossSum float64
		var correct, seen int
		for b, err := range loader.Epoch(epoch) {
			if err != nil {
				return 0, 0, err
			}
			y := tensor.IntFromSlice(b.Y, b.Size)
			l, c := step(input(b), y)
			lossSum += float64(l) * float64(b.Size)
			correct += c
			seen += b.Size
		}
		el := time.Since(start)
		total += el
		if sched != nil {
			sched.Step()
		}
		acc, err = Evaluate(model, testSet, input)
		if err != nil {
			return 0, 0, err
		}
		fmt.Printf("epoch %d/%d  loss %.4f  train acc %.4f  test acc %.4f  %.1fs  %.0f samples/s\n",
			epoch+1, f.Epochs, lossSum/float64(seen), float64(correct)/float64(seen), acc, el.Seconds(), float64(seen)/el.Seconds())
	}
	return acc, total.Seconds() / float64(max(f.Epochs, 1)), nil
}

// Evaluate returns the accuracy of model on ds, in evaluation mode and without gradients.
func Evaluate(model nn.Layer, ds *data.ArrayDataset, input func(b *data.Batch) *tensor.Tensor) (float64, error) {
	nn.Train(model, false)
	defer nn.Train(model, true)
	loader, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: 500})
	if err != nil {
		return 0, err
	}
	correct := 0
	for b, err := range loader.Epoch(0) {
		if err != nil {
			return 0, err
		}
		nn.NoGrad(model, func() {
			out := model.Forward(input(b))
			correct += Correct(out, b.Y)
			out.Release()
		})
	}
	return float64(correct) / float64(ds.Len()), nil
}

// Correct counts rows of logits whose argmax equals the label.
func Correct(logits *tensor.Tensor, y []int64) int {
	pred := tensor.Argmax(logits, 1, false).Data()
	n := 0
	for i, p := range pred {
		if p == y[i] {
			n++
		}
	}
	return n
}

// Images returns the batch as [N, 1, 28, 28] (no copy).
func Images(b *data.Batch) *tensor.Tensor { return tensor.FromSlice(b.X, b.XShape...) }

// Flat returns the batch as [N, 784] (no copy).
func Flat(b *data.Batch) *tensor.Tensor { return tensor.FromSlice(b.X, b.Size, len(b.X)/b.Size) }

// Patches returns the batch as 49 tokens of 4x4 pixels, [N, 49, 16]: the
// 28x28 image cut into a 7x7 grid of patches, row-major, as the vision
// transformer reads it.
func Patches(b *data.Batch) *tensor.Tensor {
	x := tensor.FromSlice(b.X, b.Size, 1, 7, 4, 7, 4)
	return x.Permute(0, 2, 4, 1, 3, 5).Reshape(b.Size, 49, 16)
}

// Rows returns the batch as a sequence [N, 28, 28] (no copy).
func Rows(b *data.Batch) *tensor.Tensor { return tensor.FromSlice(b.X, b.Size, 28, 28) }
