//go:build !amd64 || noasm

package kernel

func dotTile4x4(k int, a, b *[4][]float32, part *[256]float32) {
	panic("kernel: dotTile4x4 without assembly")
}
