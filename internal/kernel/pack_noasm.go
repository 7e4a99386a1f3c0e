//go:build !amd64 || noasm

package kernel

// packT is the transposing pack of packA and packB; see packTGo.
func packT(dst []float32, ldd, width int, src []float32, lds, rows, kc int, alpha float32) {
	packTGo(dst, ldd, width, src, lds, rows, kc, alpha)
}
