package data

import (
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"sync"
)

// Spec describes one sample of a Dataset. A shape of length 0 (or a length
// of 0) means the part is absent.
type Spec struct {
	// XShape is the shape of the float features of one sample, e.g. [1 28 28].
	XShape []int `json:"x_shape,omitempty"`
	// XIntShape is the shape of integer inputs (token ids), e.g. [64].
	XIntShape []int `json:"x_int_shape,omitempty"`
	// YLen is the number of int64 targets per sample (1 for a class label,
	// the sequence length for a language model).
	YLen int `json:"y_len,omitempty"`
	// YFloatLen is the number of float targets per sample (regression).
	YFloatLen int `json:"y_float_len,omitempty"`
}

func prod(s []int) int {
	if len(s) == 0 {
		return 0
	}
	p := 1
	for _, d := range s {
		p *= d
	}
	return p
}

// Sample holds the buffers that Dataset.Get fills; each has exactly the
// length given by the dataset's Spec (nil when that part is absent).
type Sample struct {
	X      []float32
	XInt   []int64
	Y      []int64
	YFloat []float32
}

// Dataset is random-access data for a Loader. Get must be safe for
// concurrent calls with different buffers.
type Dataset interface {
	// Len returns the number of samples.
	Len() int
	// Spec returns the sample layout; it must not change.
	Spec() Spec
	// Get copies sample i into the provided buffers.
	Get(i int, s Sample) error
}

// EpochSetter is implemented by datasets whose samples depend on the epoch
// (seeded augmentation). A Loader calls SetEpoch before producing an epoch.
type EpochSetter interface {
	SetEpoch(epoch int)
}

// ArrayDataset is an in-memory Dataset of N samples held in flat slices.
type ArrayDataset struct {
	// X holds N*prod(XShape) float features, row-major.
	X      []float32
	XShape []int
	// Y holds N*YLen int64 targets (class labels).
	Y    []int64
	YLen int
	// YFloat holds N*YFloatLen float targets (regression).
	YFloat    []float32
	YFloatLen int
	n         int
}

// NewArrayDataset wraps features of per-sample shape xshape and one class
// label per sample (y may be nil for unlabeled data).
func NewArrayDataset(x []float32, xshape []int, y []int64) (*ArrayDataset, error) {
	w := prod(xshape)
	if w <= 0 {
		return nil, fmt.Errorf("data: invalid sample shape %v", xshape)
	}
	if len(x)%w != 0 {
		return nil, fmt.Errorf("data: %d features is not a multiple of the sample size %d (shape %v)", len(x), w, xshape)
	}
	n := len(x) / w
	d := &ArrayDataset{X: x, XShape: append([]int(nil), xshape...), n: n}
	if y != nil {
		if len(y) != n {
			return nil, fmt.Errorf("data: %d samples but %d labels", n, len(y))
		}
		d.Y, d.YLen = y, 1
	}
	return d, nil
}

// NewRegressionDataset wraps features and yLen float targets per sample.
func NewRegressionDataset(x []float32, xshape []int, y []float32, yLen int) (*ArrayDataset, error) {
	d, err := NewArrayDataset(x, xshape, nil)
	if err != nil {
		return nil, err
	}
	if yLen <= 0 || len(y) != d.n*yLen {
		return nil, fmt.Errorf("data: %d samples need %d float targets of length %d, got %d", d.n, d.n*yLen, yLen, len(y))
	}
	d.YFloat, d.YFloatLen = y, yLen
	return d, nil
}

// Len returns the number of samples.
func (d *ArrayDataset) Len() int { return d.n }

// Spec returns the sample layout.
func (d *ArrayDataset) Spec() Spec {
	return Spec{XShape: d.XShape, YLen: d.YLen, YFloatLen: d.YFloatLen}
}

// Get copies sample i into s.
func (d *ArrayDataset) Get(i int, s Sample) error {
	if i < 0 || i >= d.n {
		return fmt.Errorf("data: sample %d out of range [0,%d)", i, d.n)
	}
	w := len(s.X)
	copy(s.X, d.X[i*w:(i+1)*w])
	if d.YLen > 0 {
		copy(s.Y, d.Y[i*d.YLen:(i+1)*d.YLen])
	}
	if d.YFloatLen > 0 {
		copy(s.YFloat, d.YFloat[i*d.YFloatLen:(i+1)*d.YFloatLen])
	}
	return nil
}

// Subset is a Dataset view of the samples Indices of Base (for splits).
type Subset struct {
	Base    Dataset
	Indices []int
}

// Len returns len(Indices).
func (s *Subset) Len() int { return len(s.Indices) }

// Spec returns the base dataset's Spec.
func (s *Subset) Spec() Spec { return s.Base.Spec() }

// Get returns sample Indices[i] of the base.
func (s *Subset) Get(i int, b Sample) error {
	if i < 0 || i >= len(s.Indices) {
		return fmt.Errorf("data: sample %d out of range [0,%d)", i, len(s.Indices))
	}
	return s.Base.Get(s.Indices[i], b)
}

// SetEpoch forwards to the base when it is an EpochSetter.
func (s *Subset) SetEpoch(e int) {
	if es, ok := s.Base.(EpochSetter); ok {
		es.SetEpoch(e)
	}
}

// Batch is one batch of samples. A Loader reuses its batches: a Batch is only
// valid until the loop asks for the next one.
type Batch struct {
	// Size is the number of samples in the batch (the last may be short).
	Size int
	// X holds Size*prod(XShape[1:]) float features, XShape = [Size, ...].
	X      []float32
	XShape []int
	// XInt holds integer inputs (token ids), XIntShape = [Size, ...].
	XInt      []int64
	XIntShape []int
	// Y holds class targets: shape [Size] when YLen is 1, else [Size, YLen].
	Y      []int64
	YShape []int
	// YFloat holds float targets with shape YFloatShape.
	YFloat      []float32
	YFloatShape []int
	// Indices holds the dataset index of each sample.
	Indices []int
	// Epoch and Index locate the batch in training.
	Epoch, Index int

	xcap, xicap, ycap, yfcap []int // per-sample shapes, cached
	err                      error
}

func newBatch(spec Spec, size int) *Batch {
	b := &Batch{}
	b.xcap, b.xicap = spec.XShape, spec.XIntShape
	if w := prod(spec.XShape); w > 0 {
		b.X = make([]float32, size*w)
	}
	if w := prod(spec.XIntShape); w > 0 {
		b.XInt = make([]int64, size*w)
	}
	if spec.YLen > 0 {
		b.Y = make([]int64, size*spec.YLen)
		if spec.YLen > 1 {
			b.ycap = []int{spec.YLen}
		} else {
			b.ycap = []int{}
		}
	}
	if spec.YFloatLen > 0 {
		b.YFloat = make([]float32, size*spec.YFloatLen)
		if spec.YFloatLen > 1 {
			b.yfcap = []int{spec.YFloatLen}
		} else {
			b.yfcap = []int{}
		}
	}
	b.Indices = make([]int, size)
	b.XShape = make([]int, 0, len(spec.XShape)+1)
	b.XIntShape = make([]int, 0, len(spec.XIntShape)+1)
	b.YShape = make([]int, 0, 2)
	b.YFloatShape = make([]int, 0, 2)
	return b
}

// resize sets Size and reslices buffers (within capacity) and shapes.
func (b *Batch) resize(n int) {
	b.Size = n
	setShape := func(dst *[]int, per []int, present bool) {
		*dst = (*dst)[:0]
		if present {
			*dst = append(*dst, n)
			*dst = append(*dst, per...)
		}
	}
	setShape(&b.XShape, b.xcap, b.X != nil)
	setShape(&b.XIntShape, b.xicap, b.XInt != nil)
	setShape(&b.YShape, b.ycap, b.Y != nil)
	setShape(&b.YFloatShape, b.yfcap, b.YFloat != nil)
	if b.X != nil {
		b.X = b.X[:n*prod(b.xcap)]
	}
	if b.XInt != nil {
		b.XInt = b.XInt[:n*prod(b.xicap)]
	}
	if b.Y != nil {
		b.Y = b.Y[:n*max(1, prod(b.ycap))]
	}
	if b.YFloat != nil {
		b.YFloat = b.YFloat[:n*max(1, prod(b.yfcap))]
	}
	b.Indices = b.Indices[:n]
}

// LoaderOptions controls a Loader.
type LoaderOptions struct {
	// BatchSize is the number of samples per batch (required, > 0).
	BatchSize int
	// Shuffle permutes the samples each epoch, from Seed and the epoch
	// number, so an epoch's order is reproducible.
	Shuffle bool
	// Seed seeds the PCG generator used for shuffling.
	Seed uint64
	// DropLast drops a final batch smaller than BatchSize.
	DropLast bool
	// Prefetch is the number of batches prepared ahead on background
	// goroutines; 0 prepares each batch on the caller's goroutine.
	Prefetch int
	// Workers is the number of goroutines filling batches when Prefetch > 0
	// (default 1). Batch order does not depend on it.
	Workers int
}

// Loader turns a Dataset into batches. All batch memory is allocated when
// the loader is made and recycled afterwards: a steady-state epoch allocates
// only its goroutines and its permutation.
type Loader struct {
	ds   Dataset
	opts LoaderOptions
	spec Spec
	pool chan *Batch // free batches for prefetching
	one  *Batch      // the batch used without prefetch
	busy sync.Mutex
}

// NewLoader checks the options and allocates the batch buffers.
func NewLoader(ds Dataset, opts LoaderOptions) (*Loader, error) {
	if opts.BatchSize <= 0 {
		return nil, errors.New("data: Loader needs BatchSize > 0")
	}
	if opts.Prefetch < 0 || opts.Workers < 0 {
		return nil, errors.New("data: Loader Prefetch and Workers must be >= 0")
	}
	if opts.Workers == 0 {
		opts.Workers = 1
	}
	spec := ds.Spec()
	if prod(spec.XShape) == 0 && prod(spec.XIntShape) == 0 {
		return nil, fmt.Errorf("data: dataset spec %+v has no inputs", spec)
	}
	l := &Loader{ds: ds, opts: opts, spec: spec}
	if opts.Prefetch == 0 {
		l.one = newBatch(spec, opts.BatchSize)
	} else {
		per := (opts.Prefetch + opts.Workers - 1) / opts.Workers
		n := opts.Workers * (per + 1)
		l.pool = make(chan *Batch, n)
		for range n {
			l.pool <- newBatch(spec, opts.BatchSize)
		}
	}
	return l, nil
}

// Len returns the number of batches per epoch.
func (l *Loader) Len() int {
	n := l.ds.Len()
	if l.opts.DropLast {
		return n / l.opts.BatchSize
	}
	return (n + l.opts.BatchSize - 1) / l.opts.BatchSize
}

// Order returns the sample order of an epoch: the identity, or a permutation
// from (Seed, epoch) when shuffling.
func (l *Loader) Order(epoch int) []int {
	n := l.ds.Len()
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	if l.opts.Shuffle {
		rng := rand.New(rand.NewPCG(l.opts.Seed, uint64(epoch)*0x9E3779B97F4A7C15+1))
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	return order
}

func (l *Loader) fill(b *Batch, order []int, epoch, k int) {
	bs := l.opts.BatchSize
	lo := k * bs
	hi := min(lo+bs, len(order))
	b.resize(hi - lo)
	b.Epoch, b.Index, b.err = epoch, k, nil
	xw, xiw := prod(l.spec.XShape), prod(l.spec.XIntShape)
	yw, yfw := l.spec.YLen, l.spec.YFloatLen
	for j := 0; j < hi-lo; j++ {
		i := order[lo+j]
		b.Indices[j] = i
		var s Sample
		if xw > 0 {
			s.X = b.X[j*xw : (j+1)*xw]
		}
		if xiw > 0 {
			s.XInt = b.XInt[j*xiw : (j+1)*xiw]
		}
		if yw > 0 {
			s.Y = b.Y[j*yw : (j+1)*yw]
		}
		if yfw > 0 {
			s.YFloat = b.YFloat[j*yfw : (j+1)*yfw]
		}
		if err := l.ds.Get(i, s); err != nil {
			b.err = fmt.Errorf("data: sample %d (epoch %d, batch %d): %w", i, epoch, k, err)
			return
		}
	}
}

// Epoch returns an iterator over the batches of one epoch. Each yielded
// Batch is reused after the loop body returns; copy what must outlive it.
// A dataset error ends the epoch, yielded with a nil batch. Only one epoch
// of a Loader may run at a time.
func (l *Loader) Epoch(epoch int) iter.Seq2[*Batch, error] {
	return func(yield func(*Batch, error) bool) {
		l.busy.Lock()
		defer l.busy.Unlock()
		if es, ok := l.ds.(EpochSetter); ok {
			es.SetEpoch(epoch)
		}
		order := l.Order(epoch)
		nb := l.Len()
		if l.opts.Prefetch == 0 {
			for k := range nb {
				l.fill(l.one, order, epoch, k)
				if l.one.err != nil {
					yield(nil, l.one.err)
					return
				}
				if !yield(l.one, nil) {
					return
				}
			}
			return
		}
		l.prefetch(order, epoch, nb, yield)
	}
}

// prefetch runs Workers goroutines; worker w fills batches w, w+W, ... into
// its own bounded channel and the consumer reads the channels round-robin,
// so batch order is fixed. The pool holds W*(per+1) batches, enough that
// the worker the consumer waits on can always get one.
func (l *Loader) prefetch(order []int, epoch, nb int, yield func(*Batch, error) bool) {
	W := l.opts.Workers
	per := (l.opts.Prefetch + W - 1) / W
	done := make(chan struct{})
	ready := make([]chan *Batch, W)
	var wg sync.WaitGroup
	for w := range W {
		ready[w] = make(chan *Batch, per)
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for k := w; k < nb; k += W {
				var b *Batch
				select {
				case b = <-l.pool:
				case <-done:
					return
				}
				l.fill(b, order, epoch, k)
				select {
				case ready[w] <- b:
				case <-done:
					l.pool <- b
					return
				}
			}
		}(w)
	}
	defer func() {
		close(done)
		wg.Wait()
		for _, c := range ready {
			for len(c) > 0 {
				l.pool <- <-c
			}
		}
	}()
	for k := range nb {
		b := <-ready[k%W]
		if b.err != nil {
			err := b.err
			l.pool <- b
			yield(nil, err)
			return
		}
		ok := yield(b, nil)
		l.pool <- b
		if !ok {
			return
		}
	}
}

// All iterates over epoch 0; see Epoch.
func (l *Loader) All() iter.Seq2[*Batch, error] { return l.Epoch(0) }
