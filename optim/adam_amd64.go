//go:build amd64 && !noasm

package optim

import "golang.org/x/sys/cpu"

// adamParams are the per-step scalars of the vector Adam kernel, laid out
// for adam_amd64.s (nine float32 in this order).
type adamParams struct {
	b1, c1, b2, c2, nss, bc2s, eps, wd, decay float32
}

var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// adamAVX2 updates 8·⌊len(w)/8⌋ elements; see adam_amd64.s.
//
//go:noescape
func adamAVX2(w, g, m, v []float32, p *adamParams)

// adamVector runs the AVX2 kernel over the longest multiple-of-8 prefix
// and returns how many elements it updated; the caller finishes the tail.
// The kernel performs the same float32 operations, with the same single
// roundings, as the scalar loop, so both paths give identical weights.
func adamVector(w, g, m, v []float32, p *adamParams) int {
	n := len(w) &^ 7
	if !hasAVX2FMA || n == 0 {
		return 0
	}
	adamAVX2(w[:n], g[:n], m[:n], v[:n], p)
	return n
}

// sgdParams are the per-step scalars of the vector SGD kernel, laid out for
// sgd_amd64.s.
type sgdParams struct {
	wd, damp1, mom, nlr float32
	mode                int32 // 0 plain, 1 momentum, 2 Nesterov momentum
}

// sgdAVX2 updates 8·⌊len(w)/8⌋ elements; see sgd_amd64.s.
//
//go:noescape
func sgdAVX2(w, g, buf []float32, p *sgdParams)

// sgdVector runs the AVX2 kernel over the longest multiple-of-8 prefix and
// returns how many elements it updated (buf is ignored in mode 0). Like
// adamVector it performs the scalar loop's operations with its roundings.
func sgdVector(w, g, buf []float32, p *sgdParams) int {
	n := len(w) &^ 7
	if !hasAVX2FMA || n == 0 {
		return 0
	}
	if p.mode == 0 {
		buf = w // unused; any slice of length n satisfies the kernel
	}
	sgdAVX2(w[:n], g[:n], buf[:n], p)
	return n
}
