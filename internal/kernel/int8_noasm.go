//go:build !amd64 || noasm

package kernel

// int8Block is never reached without assembly kernels (int8Micro stays
// int8Generic).
func int8Block(kind, kp int, a0, a1, b *int8, ldb int, sums, c0, c1 *int32) {
	panic("kernel: no int8 assembly kernel in this build")
}

// int8Kernels lists the kernels this CPU can run, for the tests: none
// beyond pure Go here.
func int8Kernels() map[string]int { return map[string]int{} }

func quantizeVec(dst []int8, x []float32, inv float32) int { return 0 }
