//go:build !amd64 || noasm

package kernel

func maxPool2x2Vec(dst, r0, r1 []float32) int          { return 0 }
func maxPool2x2BwdVec(d0, d1, x0, x1, g []float32) int { return 0 }
