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

// MaxPool2x2RowBackward writes the gradient of one such row of blocks: x0
// and x1 are the two input rows, d0 and d1 their gradients, and g the
// blocks' output gradients. Each block's four entries are all written: g
// at its first maximum in the order r0[2j], r0[2j+1], r1[2j], r1[2j+1]
// (PyTorch's choice), 0 at the others; in a block holding a NaN the last
// NaN takes it, as a scan that lets NaN beat everything would.
func MaxPool2x2RowBackward(d0, d1, x0, x1, g []float32) {
	n := len(g)
	d0, d1, x0, x1 = d0[:2*n], d1[:2*n], x0[:2*n], x1[:2*n]
	v := maxPool2x2BwdVec(d0, d1, x0, x1, g)
	maxPool2x2BwdGo(d0[2*v:], d1[2*v:], x0[2*v:], x1[2*v:], g[v:])
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
// conditional moves; a block holding a NaN takes the scan.
func maxPool2x2BwdGo(d0, d1, x0, x1, g []float32) {
	n := len(g)
	d0, d1, x0, x1 = d0[:2*n], d1[:2*n], x0[:2*n], x1[:2*n]
	for j, gv := range g {
		v := [4]float32{x0[2*j], x0[2*j+1], x1[2*j], x1[2*j+1]}
		m := max(max(v[0], v[1]), max(v[2], v[3]))
		var out [4]float32
		k := 3
		if m != m {
			best := v[0]
			k = 0
			for i := 1; i < 4; i++ {
				if v[i] > best || v[i] != v[i] {
					best, k = v[i], i
				}
			}
		} else {
			// No NaN: x >= m means x is a maximum; the first one wins.
			if v[2] >= m {
				k = 2
			}
			if v[1] >= m {
				k = 1
			}
			if v[0] >= m {
				k = 0
			}
		}
		out[k] = gv
		d0[2*j], d0[2*j+1], d1[2*j], d1[2*j+1] = out[0], out[1], out[2], out[3]
	}
}
