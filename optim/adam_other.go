//go:build !amd64 || noasm

package optim

type adamParams struct {
	b1, c1, b2, c2, nss, bc2s, eps, wd, decay float32
}

// adamVector has no vector kernel on this platform: the scalar loop does all.
func adamVector(w, g, m, v []float32, p *adamParams) int { return 0 }

type sgdParams struct {
	wd, damp1, mom, nlr float32
	mode                int32
}

// sgdVector has no vector kernel on this platform.
func sgdVector(w, g, buf []float32, p *sgdParams) int { return 0 }
