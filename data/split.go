package data

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// newRand returns a PCG generator for a seed; the stream constant separates
// uses of the same seed.
func newRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream^0xDA3E39CB94B95BDB))
}

// SplitOptions controls Split. Val and Test are fractions in [0,1) of the
// samples; training gets the rest.
type SplitOptions struct {
	Val, Test float64
	// Stratify, when not nil, holds one class label per sample; each class
	// is then split in the same proportions.
	Stratify []int64
	// Seed seeds the shuffle.
	Seed uint64
}

// Split returns shuffled, disjoint train, validation and test indices
// covering 0..n-1. Counts are rounded per class when stratified (per split
// otherwise), and the same seed always gives the same split.
func Split(n int, opts SplitOptions) (train, val, test []int, err error) {
	if n < 0 || opts.Val < 0 || opts.Test < 0 || opts.Val+opts.Test >= 1 || math.IsNaN(opts.Val+opts.Test) {
		return nil, nil, nil, fmt.Errorf("data: split fractions val %g test %g must be >= 0 with a sum below 1", opts.Val, opts.Test)
	}
	if opts.Stratify != nil && len(opts.Stratify) != n {
		return nil, nil, nil, fmt.Errorf("data: split: %d samples but %d labels", n, len(opts.Stratify))
	}
	rng := newRand(opts.Seed, 1)
	for _, g := range groups(n, opts.Stratify) {
		rng.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
		nv := int(math.Round(opts.Val * float64(len(g))))
		nt := int(math.Round(opts.Test * float64(len(g))))
		if nv+nt > len(g) {
			nt = len(g) - nv
		}
		val = append(val, g[:nv]...)
		test = append(test, g[nv:nv+nt]...)
		train = append(train, g[nv+nt:]...)
	}
	for _, s := range [][]int{train, val, test} {
		rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	}
	return train, val, test, nil
}

// groups returns the indices of each class in label order (one group of all
// indices when labels is nil).
func groups(n int, labels []int64) [][]int {
	if labels == nil {
		g := make([]int, n)
		for i := range g {
			g[i] = i
		}
		return [][]int{g}
	}
	byClass := map[int64][]int{}
	for i, y := range labels {
		byClass[y] = append(byClass[y], i)
	}
	classes := make([]int64, 0, len(byClass))
	for c := range byClass {
		classes = append(classes, c)
	}
	slices.Sort(classes)
	out := make([][]int, len(classes))
	for i, c := range classes {
		out[i] = byClass[c]
	}
	return out
}

// Fold is one fold of KFold: indices to train on and to validate on.
type Fold struct {
	Train, Val []int
}

// KFold splits 0..n-1 into k folds after a seeded shuffle; fold i validates
// on the i-th part and trains on the rest. With labels (stratified), each
// class is dealt round-robin over the folds so every fold has nearly the
// same class proportions.
func KFold(n, k int, labels []int64, seed uint64) ([]Fold, error) {
	if k < 2 || k > n {
		return nil, fmt.Errorf("data: k-fold needs 2 <= k <= n, got k=%d n=%d", k, n)
	}
	if labels != nil && len(labels) != n {
		return nil, errors.New("data: k-fold: labels length differs from n")
	}
	rng := newRand(seed, 2)
	parts := make([][]int, k)
	next := 0
	for _, g := range groups(n, labels) {
		rng.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
		for _, i := range g {
			parts[next] = append(parts[next], i)
			next = (next + 1) % k
		}
	}
	folds := make([]Fold, k)
	for i := range folds {
		folds[i].Val = parts[i]
		for j, p := range parts {
			if j != i {
				folds[i].Train = append(folds[i].Train, p...)
			}
		}
		slices.Sort(folds[i].Train)
	}
	return folds, nil
}
