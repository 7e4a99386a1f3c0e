//go:build !amd64 || noasm

package kernel

// Without assembly the transcendentals are their scalar Go versions.

var (
	transcPaths = []transcImpl{transcGo}
	transcPath  = transcGo
)

func vexp(dst, x []float32)                           { expGo(dst, x) }
func vtanh(dst, x []float32)                          { tanhGo(dst, x) }
func vsigmoid(dst, x []float32)                       { sigmoidGo(dst, x) }
func verf(dst, x []float32)                           { erfGo(dst, x) }
func vexpSum(dst, x []float32, shift float32) float32 { return expSumGo(dst, x, shift) }
func vsumExp(x []float32, shift float32) float32      { return sumExpGo(x, shift) }
