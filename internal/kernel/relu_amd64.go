//go:build amd64 && !noasm

package kernel

//go:noescape
func reluForwardAVX2(dst, x []float32)

//go:noescape
func reluBackwardAVX2(dst, g, y []float32)

// reluForwardVec runs the AVX2 loop over the longest multiple of 8 and
// returns how many elements it wrote.
func reluForwardVec(dst, x []float32) int {
	n := len(dst) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	reluForwardAVX2(dst[:n], x[:n])
	return n
}

func reluBackwardVec(dst, g, y []float32) int {
	n := len(dst) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	reluBackwardAVX2(dst[:n], g[:n], y[:n])
	return n
}
