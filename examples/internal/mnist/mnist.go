// Package mnist is the command-line plumbing the MNIST examples share:
// flags, the RESULT line bench/mnist.sh reads, and input layouts. Loading
// is data.LoadMNISTDir and the training loop fit.Classifier, both public;
// each example keeps its model in its own main.go.
package mnist

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime/pprof"
	"testing"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/fit"
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
	// CPUProfile names a file for a pprof CPU profile of the whole run
	// (go tool pprof FILE): where an epoch's time goes, not a benchmark's.
	CPUProfile string
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
	flag.StringVar(&f.CPUProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	return f
}

// Main is each example's main: it parses the flags with the example's
// default epochs and learning rate, runs the example, and prints the
// RESULT line that bench/mnist.sh reads.
func Main(name string, epochs int, lr float64, run func(*Flags) (acc, secPerEpoch float64, err error)) {
	f := ParseFlags(epochs, lr)
	if f.CPUProfile != "" {
		pf, err := os.Create(f.CPUProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			log.Fatal(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			pf.Close()
		}()
	}
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

// Load reads the training and test sets, normalised as PyTorch's MNIST
// examples do and cut to the flags' limits.
func Load(f *Flags) (train, test *data.ArrayDataset, err error) {
	train, test, err = data.LoadMNISTDir(f.Dir, data.MNISTOptions{Normalize: true, TrainLimit: f.Limit, TestLimit: f.TestLimit})
	if err != nil {
		return nil, nil, fmt.Errorf("%w (pass -data DIR with the MNIST files)", err)
	}
	return train, test, nil
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

// Train fits model with fit.Classifier as f says (epochs, batch, seed,
// gradient clipping when clipNorm > 0, the schedule stepped per epoch),
// printing one line per epoch, and returns the final test accuracy and the
// mean seconds per training epoch.
func Train(f *Flags, model nn.Layer, opt optim.Optimizer, trainSet, testSet *data.ArrayDataset, clipNorm float64, input func(b *data.Batch) *tensor.Tensor, sched optim.Scheduler) (acc, secPerEpoch float64, err error) {
	hist, err := fit.Classifier(model, opt, trainSet, fit.Options{Epochs: f.Epochs, BatchSize: f.Batch, Seed: f.Seed,
		Input: input, ClipNorm: clipNorm, Scheduler: sched, Test: testSet, Log: os.Stdout})
	if err != nil {
		return 0, 0, err
	}
	var total float64
	for _, e := range hist {
		total += e.Seconds
	}
	return hist[len(hist)-1].Test, total / float64(max(len(hist), 1)), nil
}

// Images returns the batch as [N, 1, 28, 28] (no copy).
func Images(b *data.Batch) *tensor.Tensor { return fit.Input(b) }

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
