//go:build !amd64 || noasm

package kernel

// Without assembly the transposing pack is packTGo.
var (
	packPaths = []convImpl{convGo}
	packPath  = convGo
)

// packT is the transposing pack of packA and packB; see packTGo.
func packT(dst []float32, ldd, width int, src []float32, lds, rows, kc int, alpha float32) {
	packTGo(dst, ldd, width, src, lds, rows, kc, alpha)
}
