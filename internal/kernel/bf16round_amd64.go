//go:build amd64 && !noasm

package kernel

// roundBF16AVX2 is RoundBF16 over 8 lanes at a time (bf16round_amd64.s);
// len(src) is a multiple of 8 and len(dst) >= len(src).
//
//go:noescape
func roundBF16AVX2(dst, src []float32, alpha float32)

// roundBF16Vec rounds the longest multiple of 8 elements with AVX2 and
// returns how many it wrote (0 without AVX2).
func roundBF16Vec(dst, src []float32, alpha float32) int {
	n := len(src) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	roundBF16AVX2(dst[:n], src[:n], alpha)
	return n
}
