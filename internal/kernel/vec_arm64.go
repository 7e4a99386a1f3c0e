//go:build arm64 && !noasm

package kernel

// NEON versions of the reductions and Axpy (vec_arm64.s): 16 floats per
// iteration in four independent 4-lane accumulators, which the pure-Go
// loops cannot match (the compiler does not vectorise). The assembly takes
// a multiple of 4 elements; Go runs the last 0-3. The other helpers are
// still the Go loops: Go's assembler lacks the vector FADD/FMUL/FMAX forms
// they need. Verified under qemu-aarch64; speed not measured on hardware.

//go:noescape
func axpyNEON(alpha float32, x, y []float32)

//go:noescape
func dotNEON(x, y []float32) float32

//go:noescape
func sumNEON(x []float32) float32

// Below 8 elements the call costs more than the Go loop.

func axpy(alpha float32, x, y []float32) {
	n := len(y) &^ 3
	if n < 8 {
		axpyGo(alpha, x, y)
		return
	}
	axpyNEON(alpha, x[:n], y[:n])
	axpyGo(alpha, x[n:len(y)], y[n:])
}

func dot(x, y []float32) float32 {
	n := len(x) &^ 3
	if n < 8 {
		return dotGo(x, y)
	}
	return dotNEON(x[:n], y[:n]) + dotGo(x[n:], y[n:len(x)])
}

func sum(x []float32) float32 {
	n := len(x) &^ 3
	if n < 8 {
		return sumGo(x)
	}
	return sumNEON(x[:n]) + sumGo(x[n:])
}

func vmax(x []float32) float32                        { return maxGo(x) }
func add(dst, a, b []float32)                         { addGo(dst, a, b) }
func mul(dst, a, b []float32)                         { mulGo(dst, a, b) }
func scale(dst []float32, s float32, x []float32)     { scaleGo(dst, s, x) }
func addScalar(dst []float32, s float32, x []float32) { addScalarGo(dst, s, x) }
func relu(dst, x []float32)                           { reluGo(dst, x) }
