package data

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// MNISTMean and MNISTStd are the pixel mean and standard deviation of the
// MNIST training set (pixels in [0, 1]), the constants of PyTorch's MNIST
// examples: transforms.Normalize((0.1307,), (0.3081,)).
const (
	MNISTMean = 0.1307
	MNISTStd  = 0.3081
)

// MNISTOptions says how LoadMNISTDir prepares the data.
type MNISTOptions struct {
	// Normalize standardises pixels as (x − MNISTMean) / MNISTStd, as
	// PyTorch's examples do; otherwise they stay in [0, 1].
	Normalize bool
	// TrainLimit and TestLimit keep only the first n samples of each split
	// (0: all), for short runs.
	TrainLimit, TestLimit int
}

// LoadMNISTDir reads the standard MNIST (or Fashion-MNIST) files from dir:
// train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte
// and t10k-labels-idx1-ubyte, each gzipped (.gz) or not, as torchvision's
// MNIST(root) finds them. Samples are [1, 28, 28] images with one class
// label each. Errors name the file at fault, or the files looked for.
func LoadMNISTDir(dir string, opt MNISTOptions) (train, test *ArrayDataset, err error) {
	if opt.TrainLimit < 0 || opt.TestLimit < 0 {
		return nil, nil, fmt.Errorf("data: MNIST limits must not be negative, got %d and %d", opt.TrainLimit, opt.TestLimit)
	}
	load := func(split string, limit int) (*ArrayDataset, error) {
		images, err := mnistFile(dir, split+"-images-idx3-ubyte")
		if err != nil {
			return nil, err
		}
		labels, err := mnistFile(dir, split+"-labels-idx1-ubyte")
		if err != nil {
			return nil, err
		}
		d, err := LoadMNIST(images, labels)
		if err != nil {
			return nil, err
		}
		if opt.Normalize {
			NormalizeMNIST(d.X)
		}
		return headOf(d, limit)
	}
	if train, err = load("train", opt.TrainLimit); err != nil {
		return nil, nil, err
	}
	if test, err = load("t10k", opt.TestLimit); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// mnistFile returns dir/name.gz or dir/name, whichever exists.
func mnistFile(dir, name string) (string, error) {
	for _, p := range []string{filepath.Join(dir, name+".gz"), filepath.Join(dir, name)} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("data: %w", err)
		}
	}
	return "", fmt.Errorf("data: MNIST file %s(.gz) not found in %s", name, dir)
}

// NormalizeMNIST standardises pixels in place: (x − MNISTMean) / MNISTStd.
func NormalizeMNIST(x []float32) {
	for i, v := range x {
		x[i] = (v - MNISTMean) / MNISTStd
	}
}

// headOf keeps the first n samples of d (all when n is 0 or at least
// d.Len()), sharing its storage.
func headOf(d *ArrayDataset, n int) (*ArrayDataset, error) {
	if n <= 0 || n >= d.Len() {
		return d, nil
	}
	w := len(d.X) / d.Len()
	return NewArrayDataset(d.X[:n*w], d.XShape, d.Y[:n])
}
