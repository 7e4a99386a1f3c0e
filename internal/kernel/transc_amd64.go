//go:build amd64 && !noasm

package kernel

import "golang.org/x/sys/cpu"

// AVX-512 transcendentals (transc_amd64.s). Every one handles any length,
// including 0, with a masked final vector, so there is no Go tail loop.

//go:noescape
func expAVX512(dst, x []float32)

//go:noescape
func tanhAVX512(dst, x []float32)

//go:noescape
func sigmoidAVX512(dst, x []float32)

//go:noescape
func erfAVX512(dst, x []float32)

//go:noescape
func expSumAVX512(dst, x []float32, shift float32) float32

//go:noescape
func sumExpAVX512(x []float32, shift float32) float32

// hasAVX512Math selects the assembly. Only AVX512F instructions are used
// (VSCALEFPS, VRNDSCALEPS, VPTERNLOGD, opmask loads and stores).
var hasAVX512Math = cpu.X86.HasAVX512F

func vexp(dst, x []float32) {
	if hasAVX512Math {
		expAVX512(dst, x)
		return
	}
	expGo(dst, x)
}

func vtanh(dst, x []float32) {
	if hasAVX512Math {
		tanhAVX512(dst, x)
		return
	}
	tanhGo(dst, x)
}

func vsigmoid(dst, x []float32) {
	if hasAVX512Math {
		sigmoidAVX512(dst, x)
		return
	}
	sigmoidGo(dst, x)
}

func verf(dst, x []float32) {
	if hasAVX512Math {
		erfAVX512(dst, x)
		return
	}
	erfGo(dst, x)
}

func vexpSum(dst, x []float32, shift float32) float32 {
	if hasAVX512Math {
		return expSumAVX512(dst, x, shift)
	}
	return expSumGo(dst, x, shift)
}

func vsumExp(x []float32, shift float32) float32 {
	if hasAVX512Math {
		return sumExpAVX512(x, shift)
	}
	return sumExpGo(x, shift)
}
