//go:build !(amd64 || arm64) || noasm

package kernel

// Without assembly every helper is its pure-Go version.

func axpy(alpha float32, x, y []float32)              { axpyGo(alpha, x, y) }
func dot(x, y []float32) float32                      { return dotGo(x, y) }
func sum(x []float32) float32                         { return sumGo(x) }
func vmax(x []float32) float32                        { return maxGo(x) }
func add(dst, a, b []float32)                         { addGo(dst, a, b) }
func mul(dst, a, b []float32)                         { mulGo(dst, a, b) }
func scale(dst []float32, s float32, x []float32)     { scaleGo(dst, s, x) }
func addScalar(dst []float32, s float32, x []float32) { addScalarGo(dst, s, x) }
func relu(dst, x []float32)                           { reluGo(dst, x) }
