package onnx

import (
	"math/rand/v2"
	"testing"

	"github.com/shenml/shen/internal/kernel"
)

// naiveConv2D is the definition: out[n,o,y,x] = b[o] + sum w[o,c,i,j] *
// in[n,c,y+i-p,x+j-p] at stride 1.
func naiveConv2D(in, w, b *Tensor, pad int) *Tensor {
	nb, c, h, wd := in.Shape[0], in.Shape[1], in.Shape[2], in.Shape[3]
	m, kh, kw := w.Shape[0], w.Shape[2], w.Shape[3]
	oh, ow := h+2*pad-kh+1, wd+2*pad-kw+1
	out := NewFloat(make([]float32, nb*m*oh*ow), nb, m, oh, ow)
	for n := 0; n < nb; n++ {
		for o := 0; o < m; o++ {
			for y := 0; y < oh; y++ {
				for x := 0; x < ow; x++ {
					s := float64(b.F[o])
					for ch := 0; ch < c; ch++ {
						for i := 0; i < kh; i++ {
							for j := 0; j < kw; j++ {
								iy, ix := y+i-pad, x+j-pad
								if iy >= 0 && iy < h && ix >= 0 && ix < wd {
									s += float64(w.F[((o*c+ch)*kh+i)*kw+j]) * float64(in.F[((n*c+ch)*h+iy)*wd+ix])
								}
							}
						}
					}
					out.F[((n*m+o)*oh+y)*ow+x] = float32(s)
				}
			}
		}
	}
	return out
}

// Every convolution path (direct with images or channel slices split
// over workers, batched im2col, per-image im2col) against the definition.
func TestConvPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	prev := kernel.SetThreads(2)
	defer kernel.SetThreads(prev)
	for _, tc := range []struct {
		name          string
		nb, c, m, k   int
		h, pad, group int
	}{
		{"direct, channels split", 1, 3, 32, 3, 9, 1, 1},
		{"direct, images split", 5, 2, 8, 5, 12, 2, 1},
		{"im2col batched (too many taps)", 3, 48, 8, 5, 7, 0, 1},
		{"im2col per image (groups)", 2, 4, 8, 3, 6, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newGraph()
			b.input("x", int64(tc.nb), int64(tc.c), int64(tc.h), int64(tc.h))
			w := randTensor(r, tc.m, tc.c/tc.group, tc.k, tc.k)
			bias := randTensor(r, tc.m)
			b.init("w", w)
			b.init("b", bias)
			p := int64(tc.pad)
			b.node("Conv", []string{"x", "w", "b"}, []string{"y"}, intsAttr("pads", p, p, p, p),
				intAttr("group", int64(tc.group)))
			b.output("y")
			m, err := Compile(b.model(13), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			x := randTensor(r, tc.nb, tc.c, tc.h, tc.h)
			got, err := m.NewSession().Run(x)
			if err != nil {
				t.Fatal(err)
			}
			if tc.group == 1 {
				assertClose(t, got[0], naiveConv2D(x, w, bias, tc.pad), 1e-4)
				return
			}
			// Groups: each half of the channels against the definition.
			for g := 0; g < tc.group; g++ {
				cg, mg := tc.c/tc.group, tc.m/tc.group
				xs := sliceChannels(x, g*cg, cg)
				ws := NewFloat(w.F[g*mg*cg*tc.k*tc.k:(g+1)*mg*cg*tc.k*tc.k], mg, cg, tc.k, tc.k)
				bs := NewFloat(bias.F[g*mg:(g+1)*mg], mg)
				assertClose(t, sliceChannels(got[0], g*mg, mg), naiveConv2D(xs, ws, bs, tc.pad), 1e-4)
			}
		})
	}
}

// sliceChannels copies channels [c0, c0+n) of an NCHW tensor.
func sliceChannels(x *Tensor, c0, n int) *Tensor {
	nb, c, plane := x.Shape[0], x.Shape[1], x.Shape[2]*x.Shape[3]
	out := NewFloat(make([]float32, nb*n*plane), nb, n, x.Shape[2], x.Shape[3])
	for b := 0; b < nb; b++ {
		copy(out.F[b*n*plane:(b+1)*n*plane], x.F[(b*c+c0)*plane:(b*c+c0+n)*plane])
	}
	return out
}
