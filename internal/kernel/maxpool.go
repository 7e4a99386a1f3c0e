package kernel

// MaxPool2x2Row writes into dst the maxima of the 2×2 blocks that rows r0
// and r1 hold side by side (block j is r0[2j], r0[2j+1], r1[2j], r1[2j+1]):
// one output row of a 2×2, stride-2 max pool, the pooling of LeNet and
// most CNNs. A block holding a NaN yields NaN; an all-zero block may give
// either sign of zero, which compares equal.
func MaxPool2x2Row(dst, r0, r1 []float32) {
	r0, r1 = r0[:2*len(dst)], r1[:2*len(dst)]
	n := maxPool2x2Vec(dst, r0, r1)
	maxPool2x2Go(dst[n:], r0[2*n:], r1[2*n:])
}

// MaxPool2x2RowBackward writes the gradient of one such row of blocks: x
// holds the two input rows at x[0:2n] and x[w:w+2n] (w is the row stride),
// d their gradient in the same layout, and g the n blocks' output
// gradients. Each block's four entries are all written: g at its first
// maximum in the order top-left, top-right, bottom-left, bottom-right
// (PyTorch's choice), 0 at the others; in a block holding a NaN the last
// NaN takes it, as a scan that lets NaN beat everything would.
func MaxPool2x2RowBackward(d, x []float32, w int, g []float32) {
	n := len(g)
	if n == 0 {
		return
	}
	d, x = d[:w+2*n], x[:w+2*n]
	v := maxPool2x2BwdVec(d[:2*n], d[w:w+2*n], x[:2*n], x[w:w+2*n], g)
	maxPool2x2BwdGo(d[2*v:], x[2*v:], w, g[v:])
}

// maxPool2x2Go is the portable forward. The builtin max is branch-free (a
// data-dependent branch per element mispredicts half the time on real
// activations) and keeps NaN.
func maxPool2x2Go(dst, r0, r1 []float32) {
	r0, r1 = r0[:2*len(dst)], r1[:2*len(dst)]
	for j := range dst {
		dst[j] = max(max(r0[2*j], r0[2*j+1]), max(r1[2*j], r1[2*j+1]))
	}
}

// maxPool2x2BwdGo is the portable backward. The position is picked with
// conditional moves, as an offset into the two rows (a branch on random
// data mispredicts half the time); a block holding a NaN takes the scan.
func maxPool2x2BwdGo(d, x []float32, w int, g []float32) {
	n := len(g)
	if n == 0 {
		return
	}
	x0, x1 := x[:2*n], x[w:w+2*n]
	d0, d1 := d[:2*n], d[w:w+2*n]
	for j, gv := range g {
		a, b, c, e := x0[2*j], x0[2*j+1], x1[2*j], x1[2*j+1]
		m := max(max(a, b), max(c, e))
		d0[2*j], d0[2*j+1], d1[2*j], d1[2*j+1] = 0, 0, 0, 0
		k := w + 1
		if m != m {
			best := a
			k = 0
			for i, v := range [3]float32{b, c, e} {
				if v > best || v != v {
					best, k = v, [3]int{1, w, w + 1}[i]
				}
			}
		} else {
			// No NaN: x >= m means x is a maximum; the first one wins.
			if c >= m {
				k = w
			}
			if b >= m {
				k = 1
			}
			if a >= m {
				k = 0
			}
		}
		d[2*j+k] = gv
	}
}
