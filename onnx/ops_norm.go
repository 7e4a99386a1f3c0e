package onnx

import (
	"fmt"
	"math"
)

func init() {
	register(buildBatchNorm, "BatchNormalization")
	register(buildInstanceNorm, "InstanceNormalization")
	register(buildLayerNorm, "LayerNormalization")
}

func buildBatchNorm(n *node) (opFunc, error) {
	eps := n.attr.float("epsilon", 1e-5)
	if n.attr.int("training_mode", 0) != 0 {
		return nil, fmt.Errorf("training-mode BatchNormalization is not supported (inference only)")
	}
	return func(x *exec, in, out []*Tensor) error {
		a, scale, bias, mean, vari := in[0], in[1], in[2], in[3], in[4]
		if len(a.Shape) < 2 {
			return fmt.Errorf("input shape %v has no channel axis", a.Shape)
		}
		c := a.Shape[1]
		if scale.Len() != c || bias.Len() != c || mean.Len() != c || vari.Len() != c {
			return fmt.Errorf("parameters do not have %d channels", c)
		}
		out[0].set(Float, a.Shape)
		inner := numel(a.Shape[2:])
		for b := 0; b < a.Shape[0]; b++ {
			for ch := 0; ch < c; ch++ {
				s := scale.F[ch] / float32(math.Sqrt(float64(vari.F[ch]+eps)))
				t := bias.F[ch] - mean.F[ch]*s
				off := (b*c + ch) * inner
				src, dst := a.F[off:off+inner], out[0].F[off:off+inner]
				for i, v := range src {
					dst[i] = v*s + t
				}
			}
		}
		return nil
	}, nil
}

func buildInstanceNorm(n *node) (opFunc, error) {
	eps := n.attr.float("epsilon", 1e-5)
	return func(x *exec, in, out []*Tensor) error {
		a, scale, bias := in[0], in[1], in[2]
		if len(a.Shape) < 2 || scale.Len() != a.Shape[1] || bias.Len() != a.Shape[1] {
			return fmt.Errorf("input %v and %d scales do not match", a.Shape, scale.Len())
		}
		c, inner := a.Shape[1], numel(a.Shape[2:])
		out[0].set(Float, a.Shape)
		for b := 0; b < a.Shape[0]; b++ {
			for ch := 0; ch < c; ch++ {
				off := (b*c + ch) * inner
				normalize(out[0].F[off:off+inner], a.F[off:off+inner], eps, scale.F[ch:ch+1], bias.F[ch:ch+1])
			}
		}
		return nil
	}, nil
}

// normalize writes (src-mean)/sqrt(var+eps)*g+b into dst; g and b are
// either one value or len(src) values. It returns mean and 1/std.
func normalize(dst, src []float32, eps float32, g, b []float32) (float32, float32) {
	var sum float64
	for _, v := range src {
		sum += float64(v)
	}
	mean := sum / float64(len(src))
	var ss float64
	for _, v := range src {
		d := float64(v) - mean
		ss += d * d
	}
	inv := 1 / math.Sqrt(ss/float64(len(src))+float64(eps))
	m, is := float32(mean), float32(inv)
	for i, v := range src {
		gi, bi := g[0], float32(0)
		if len(g) > 1 {
			gi = g[i]
		}
		if len(b) == 1 {
			bi = b[0]
		} else if len(b) > 1 {
			bi = b[i]
		}
		dst[i] = (v-m)*is*gi + bi
	}
	return m, is
}

func buildLayerNorm(n *node) (opFunc, error) {
	axis := n.attr.int("axis", -1)
	eps := n.attr.float("epsilon", 1e-5)
	return func(x *exec, in, out []*Tensor) error {
		a, scale := in[0], in[1]
		bias := get(in, 2)
		ax, err := normAxis(axis, len(a.Shape))
		if err != nil {
			return err
		}
		outer, d := numel(a.Shape[:ax]), numel(a.Shape[ax:])
		if scale.Len() != d && scale.Len() != 1 {
			return fmt.Errorf("scale has %d values for normalised size %d", scale.Len(), d)
		}
		var bf []float32
		if bias != nil {
			bf = bias.F
		}
		out[0].set(Float, a.Shape)
		stat := append(x.ints(0, 0), a.Shape[:ax]...)
		for range a.Shape[ax:] {
			stat = append(stat, 1)
		}
		x.i[0] = stat
		for k := 1; k < len(out); k++ {
			out[k].set(Float, stat)
		}
		for o := 0; o < outer; o++ {
			m, is := normalize(out[0].F[o*d:(o+1)*d], a.F[o*d:(o+1)*d], eps, scale.F, bf)
			if len(out) > 1 && out[1] != nil {
				out[1].F[o] = m
			}
			if len(out) > 2 && out[2] != nil {
				out[2].F[o] = is
			}
		}
		return nil
	}, nil
}
