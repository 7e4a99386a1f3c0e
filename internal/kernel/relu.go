package kernel

// ReluForward computes dst[i] = max(x[i], 0) over len(dst) elements with
// PyTorch's semantics: NaN propagates and -0 becomes +0. dst may alias x.
func ReluForward(dst, x []float32) {
	x = x[:len(dst)]
	n := reluForwardVec(dst, x)
	reluForwardGo(dst[n:], x[n:])
}

// ReluBackward computes dst[i] = g[i] where y[i] != 0 and 0 elsewhere,
// over len(dst) elements: the gradient of ReLU given its output y (a NaN
// output passes the gradient, as in PyTorch).
func ReluBackward(dst, g, y []float32) {
	g, y = g[:len(dst)], y[:len(dst)]
	n := reluBackwardVec(dst, g, y)
	reluBackwardGo(dst[n:], g[n:], y[n:])
}

func reluForwardGo(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = max(v, 0) // Go's max keeps NaN and orders -0 below +0
	}
}

func reluBackwardGo(dst, g, y []float32) {
	g, y = g[:len(dst)], y[:len(dst)]
	for i, v := range y {
		if v != 0 {
			dst[i] = g[i]
		} else {
			dst[i] = 0
		}
	}
}
