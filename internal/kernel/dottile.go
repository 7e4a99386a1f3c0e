package kernel

// HasDotTile reports whether DotTile4x4 runs an assembly kernel (AVX-512,
// or AVX2+FMA; the path is convPath). Without it DotTile4x4 is correct but
// slow, and callers should prefer a packed Sgemm.
func HasDotTile() bool { return convPath != convGo }

// DotTile4x4 adds to c (row stride ldc) the 4×4 dot products of rows a[i]
// and b[j] over their first k elements: c[i*ldc+j] += a[i][:k]·b[j][:k],
// for i < ma and j < nb (the rows of a and b past ma and nb are not read;
// the kernel repeats row 0 for them). This is the product A·Bᵀ of two
// matrices whose rows are contiguous in the reduction dimension (a
// convolution's weight gradient dY·colsᵀ), so nothing is packed or
// transposed: with AVX-512 each step loads four vectors of each operand and
// issues 16 FMAs into 16 accumulators; AVX2's 16 ymm registers hold half
// that tile, so it runs as two 2×4 halves over L1-sized chunks of k.
func DotTile4x4(k int, a, b [4][]float32, ma, nb int, c []float32, ldc int) {
	if ma < 1 || ma > 4 || nb < 1 || nb > 4 {
		panic("kernel.DotTile4x4: tile size out of range")
	}
	for i := 0; i < 4; i++ {
		if i >= ma {
			a[i] = a[0]
		}
		if i >= nb {
			b[i] = b[0]
		}
		a[i], b[i] = a[i][:k], b[i][:k]
	}
	_ = c[(ma-1)*ldc+nb-1]
	// The assembly covers whole vectors (16 floats, or 8 with AVX2) and
	// leaves the lanes of each of the 16 sums in part.
	lanes := 16
	if convPath == convAVX2 {
		lanes = 8
	}
	kl := 0
	if convPath != convGo {
		kl = k &^ (lanes - 1)
	}
	var sums [16]float32
	if kl > 0 {
		var part [256]float32
		dotTile4x4(kl, &a, &b, &part)
		for t := range sums {
			var s float32
			for _, v := range part[t*lanes : (t+1)*lanes] {
				s += v
			}
			sums[t] = s
		}
	}
	for i := 0; i < ma; i++ {
		for j := 0; j < nb; j++ {
			s := sums[i*4+j]
			if kl < k {
				s += dotGo(a[i][kl:], b[j][kl:])
			}
			c[i*ldc+j] += s
		}
	}
}
