//go:build !amd64 || noasm

package kernel

// Without assembly the direct convolution runs its Go loops.
var (
	convPaths = []convImpl{convGo}
	convPath  = convGo
)

func shiftGemmTile(mo, nv, k int, off []int, in []float32, wt []float32, ldw int, out []float32, ldo int, bias *float32) {
	panic("kernel: shiftGemmTile without assembly")
}

func shiftDotsTile(ma, ns, nvec int, rows *[9]*float32, sa, sb int, part *[320]float32) {
	panic("kernel: shiftDotsTile without assembly")
}
