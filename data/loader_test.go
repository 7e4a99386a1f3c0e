package data

import (
	"errors"
	"slices"
	"testing"
)

func seqDataset(n int) *ArrayDataset {
	x := make([]float32, n*2)
	y := make([]int64, n)
	for i := range n {
		x[2*i], x[2*i+1] = float32(i), float32(-i)
		y[i] = int64(i)
	}
	d, _ := NewArrayDataset(x, []int{2}, y)
	return d
}

func collect(t *testing.T, l *Loader, epoch int) (order []int, sizes []int) {
	t.Helper()
	for b, err := range l.Epoch(epoch) {
		if err != nil {
			t.Fatal(err)
		}
		if b.XShape[0] != b.Size || b.XShape[1] != 2 || len(b.X) != 2*b.Size || len(b.Y) != b.Size || b.YShape[0] != b.Size {
			t.Fatalf("batch shapes %v %v len %d", b.XShape, b.YShape, len(b.X))
		}
		for j := 0; j < b.Size; j++ {
			i := b.Indices[j]
			if b.X[2*j] != float32(i) || b.X[2*j+1] != float32(-i) || b.Y[j] != int64(i) {
				t.Fatalf("batch row %d holds %v,%v,%d for sample %d", j, b.X[2*j], b.X[2*j+1], b.Y[j], i)
			}
			order = append(order, i)
		}
		sizes = append(sizes, b.Size)
	}
	return order, sizes
}

func TestLoader(t *testing.T) {
	const n = 103
	tests := []struct {
		name string
		opts LoaderOptions
	}{
		{"sync", LoaderOptions{BatchSize: 10, Shuffle: true, Seed: 5}},
		{"prefetch", LoaderOptions{BatchSize: 10, Shuffle: true, Seed: 5, Prefetch: 3}},
		{"prefetch workers", LoaderOptions{BatchSize: 10, Shuffle: true, Seed: 5, Prefetch: 4, Workers: 3}},
		{"drop last", LoaderOptions{BatchSize: 10, DropLast: true, Prefetch: 2, Workers: 2}},
		{"no shuffle", LoaderOptions{BatchSize: 7}},
	}
	var ref []int
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := NewLoader(seqDataset(n), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			o0, sizes := collect(t, l, 0)
			wantN := n
			if tc.opts.DropLast {
				wantN = 100
			}
			if len(o0) != wantN || len(sizes) != l.Len() {
				t.Fatalf("%d samples in %d batches, want %d in %d", len(o0), len(sizes), wantN, l.Len())
			}
			seen := map[int]bool{}
			for _, i := range o0 {
				if seen[i] {
					t.Fatalf("sample %d twice in an epoch", i)
				}
				seen[i] = true
			}
			if !slices.Equal(o0, l.Order(0)[:wantN]) {
				t.Error("batches do not follow Order")
			}
			again, _ := collect(t, l, 0)
			if !slices.Equal(o0, again) {
				t.Error("epoch 0 not reproducible")
			}
			o1, _ := collect(t, l, 1)
			if tc.opts.Shuffle && slices.Equal(o0, o1) {
				t.Error("epochs 0 and 1 have the same order")
			}
			if tc.opts.Shuffle {
				if ref == nil {
					ref = o0
				} else if !slices.Equal(ref, o0) {
					t.Error("order depends on prefetch settings")
				}
			}
			// Stop early, then run a full epoch: the pool must be intact.
			for range l.Epoch(2) {
				break
			}
			if o, _ := collect(t, l, 0); !slices.Equal(o, o0) {
				t.Error("early stop broke the loader")
			}
		})
	}
}

type failing struct{ *ArrayDataset }

func (f failing) Get(i int, s Sample) error {
	if i == 42 {
		return errors.New("boom")
	}
	return f.ArrayDataset.Get(i, s)
}

func TestLoaderError(t *testing.T) {
	for _, pf := range []int{0, 2} {
		l, _ := NewLoader(failing{seqDataset(100)}, LoaderOptions{BatchSize: 8, Prefetch: pf, Workers: 2})
		var got error
		for _, err := range l.Epoch(0) {
			if err != nil {
				got = err
			}
		}
		if got == nil || !errors.Is(got, got) || got.Error() != "data: sample 42 (epoch 0, batch 5): boom" {
			t.Errorf("prefetch %d: err = %v", pf, got)
		}
	}
	if _, err := NewLoader(seqDataset(3), LoaderOptions{}); err == nil {
		t.Error("batch size 0 accepted")
	}
}

func TestLoaderNoAllocs(t *testing.T) {
	for _, pf := range []int{0, 2} {
		l, _ := NewLoader(seqDataset(4096), LoaderOptions{BatchSize: 64, Shuffle: true, Prefetch: pf, Workers: 2})
		for range l.Epoch(0) {
		}
		allocs := testing.AllocsPerRun(3, func() {
			for range l.Epoch(1) {
			}
		})
		// Per epoch: the permutation, the iterator and, with prefetch, the
		// goroutines and channels; nothing per batch (64 batches here).
		if allocs > 20 {
			t.Errorf("prefetch %d: %v allocations per epoch of 64 batches", pf, allocs)
		}
	}
}

func BenchmarkLoader(b *testing.B) {
	d := seqDataset(60000)
	l, _ := NewLoader(d, LoaderOptions{BatchSize: 64, Shuffle: true, Prefetch: 4, Workers: 2})
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		for bt := range l.Epoch(i) {
			n += bt.Size
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "samples/s")
}
