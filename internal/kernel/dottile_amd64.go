//go:build amd64 && !noasm

package kernel

import "golang.org/x/sys/cpu"

//go:noescape
func dotTile4x4AVX512(k int, a0, a1, a2, a3, b0, b1, b2, b3 *float32, part *float32)

var hasDotTile = cpu.X86.HasAVX512F

func dotTile4x4(k int, a, b *[4][]float32, part *[256]float32) {
	dotTile4x4AVX512(k, &a[0][0], &a[1][0], &a[2][0], &a[3][0], &b[0][0], &b[1][0], &b[2][0], &b[3][0], &part[0])
}
