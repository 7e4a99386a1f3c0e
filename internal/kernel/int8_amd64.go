//go:build amd64 && !noasm

package kernel

import "golang.org/x/sys/cpu"

// int8x2x4AVX2 is the AVX2 int8Kernel: VPMOVSXBW + VPMADDWD, 16 byte
// products per row pair per step.
//
//go:noescape
func int8x2x4AVX2(kp int, a0, a1, b *int8, ldb int, sums, c0, c1 *int32)

// int8x2x4VNNI is the AVX512-VNNI int8Kernel: VPDPBUSD on (a+128) as
// unsigned bytes, 64 products per row pair per step; 128·sums is
// subtracted at the end.
//
//go:noescape
func int8x2x4VNNI(kp int, a0, a1, b *int8, ldb int, sums, c0, c1 *int32)

// quantizeAVX2 codes len(x) (a multiple of 32) floats as quantizeOne does.
//
//go:noescape
func quantizeAVX2(dst []int8, x []float32, inv float32)

// quantizeVec codes the longest multiple of 32 values of x with AVX2 and
// returns how many it did.
func quantizeVec(dst []int8, x []float32, inv float32) int {
	n := len(x) &^ 31
	if !cpu.X86.HasAVX2 || n == 0 {
		return 0
	}
	quantizeAVX2(dst[:n], x[:n], inv)
	return n
}

var hasVNNI = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI

func init() {
	switch {
	case hasVNNI:
		int8Micro, int8Name, int8Align = int8VNNI, "avx512vnni", 64
	case cpu.X86.HasAVX2:
		int8Micro, int8Name = int8AVX2, "avx2"
	}
}

func int8Block(kind, kp int, a0, a1, b *int8, ldb int, sums, c0, c1 *int32) {
	if kind == int8VNNI {
		int8x2x4VNNI(kp, a0, a1, b, ldb, sums, c0, c1)
	} else {
		int8x2x4AVX2(kp, a0, a1, b, ldb, sums, c0, c1)
	}
}

// int8Kernels lists the kernels this CPU can run, by name, for the tests.
func int8Kernels() map[string]int {
	k := map[string]int{}
	if cpu.X86.HasAVX2 {
		k["avx2"] = int8AVX2
	}
	if hasVNNI {
		k["avx512vnni"] = int8VNNI
	}
	return k
}
