package onnx

import (
	"fmt"
	"math"
)

func init() { register(buildResize, "Resize") }

// resizeTaps are, for one axis, the input positions and weights each
// output coordinate reads; out marks coordinates outside the crop box
// (tf_crop_and_resize), which take the extrapolation value.
type resizeTaps struct {
	n   int // taps per coordinate
	idx []int
	w   []float64
	out []bool
}

// buildResize is Resize (opsets 10 to 17) as the ONNX reference computes
// it: each axis maps output coordinates to input coordinates by the
// coordinate transformation mode and interpolates (nearest, linear or
// cubic) from the nearest input positions, the data edge-padded; the N-d
// result is the tensor product of the per-axis taps.
func buildResize(n *node) (opFunc, error) {
	mode := n.attr.str("mode", "nearest")
	ctm := n.attr.str("coordinate_transformation_mode", "half_pixel")
	if n.opset < 11 {
		ctm = "asymmetric"
	}
	nearest := n.attr.str("nearest_mode", "round_prefer_floor")
	a := n.attr.float("cubic_coeff_a", -0.75)
	exclude := n.attr.int("exclude_outside", 0) != 0
	extrap := n.attr.float("extrapolation_value", 0)
	if mode != "nearest" && mode != "linear" && mode != "cubic" {
		return nil, fmt.Errorf("mode %q", mode)
	}
	opset := n.opset
	return func(x *exec, in, out []*Tensor) error {
		xt := in[0]
		r := len(xt.Shape)
		var roi, scalesT, sizesT *Tensor
		if opset < 11 {
			scalesT = get(in, 1)
		} else {
			roi, scalesT, sizesT = get(in, 1), get(in, 2), get(in, 3)
		}
		shape := make([]int, r)
		scale := make([]float64, r)
		switch {
		case sizesT != nil && sizesT.Len() == r:
			for i := range shape {
				shape[i] = int(sizesT.I[i])
				scale[i] = float64(shape[i]) / float64(xt.Shape[i])
			}
		case scalesT != nil && scalesT.Len() == r:
			for i := range shape {
				scale[i] = float64(scalesT.F[i])
				shape[i] = int(math.Floor(float64(xt.Shape[i]) * scale[i]))
			}
		default:
			return fmt.Errorf("neither scales nor sizes give %d values", r)
		}
		if err := x.checkSize(shape); err != nil {
			return err
		}
		taps := make([]resizeTaps, r)
		for ax := range taps {
			var lo, hi float64
			if roi != nil && roi.Len() == 2*r {
				lo, hi = roi.scalarF(ax), roi.scalarF(ax+r)
			}
			taps[ax] = axisTaps(xt.Shape[ax], shape[ax], scale[ax], lo, hi, mode, ctm, nearest, float64(a), exclude)
		}
		out[0].set(Float, shape)
		st := strides(make([]int, r), xt.Shape)
		forEachIndex(make([]int, r), shape, func(o int, pos []int) {
			for ax, p := range pos {
				if taps[ax].out != nil && taps[ax].out[p] {
					out[0].F[o] = extrap
					return
				}
			}
			out[0].F[o] = float32(resizeSum(xt, taps, pos, st, 0, 0, 1))
		})
		return nil
	}, nil
}

// resizeSum adds, over the taps of axes ax.., weight * input value.
func resizeSum(xt *Tensor, taps []resizeTaps, pos, st []int, ax, off int, w float64) float64 {
	if ax == len(taps) {
		return w * float64(xt.F[off])
	}
	t := &taps[ax]
	s := 0.0
	for k := 0; k < t.n; k++ {
		wk := t.w[pos[ax]*t.n+k]
		if wk == 0 {
			continue
		}
		s += resizeSum(xt, taps, pos, st, ax+1, off+t.idx[pos[ax]*t.n+k]*st[ax], w*wk)
	}
	return s
}

// axisTaps computes the taps of every output coordinate of one axis.
func axisTaps(inLen, outLen int, scale, roiLo, roiHi float64, mode, ctm, nearest string, a float64, exclude bool) resizeTaps {
	n := map[string]int{"nearest": 2, "linear": 2, "cubic": 4}[mode]
	t := resizeTaps{n: n, idx: make([]int, outLen*n), w: make([]float64, outLen*n)}
	outW := scale * float64(inLen)
	for o := 0; o < outLen; o++ {
		xf := float64(o)
		var xo float64
		switch ctm {
		case "asymmetric":
			xo = xf / scale
		case "pytorch_half_pixel":
			if outW > 1 {
				xo = (xf+0.5)/scale - 0.5
			}
		case "align_corners":
			if outW > 1 {
				xo = xf * float64(inLen-1) / (outW - 1)
			}
		case "tf_half_pixel_for_nn":
			xo = (xf + 0.5) / scale
		case "tf_crop_and_resize":
			if outW > 1 {
				xo = roiLo*float64(inLen-1) + xf*(roiHi-roiLo)*float64(inLen-1)/(outW-1)
			} else {
				xo = 0.5 * (roiLo + roiHi) * float64(inLen-1)
			}
			if xo < 0 || xo > float64(inLen-1) {
				if t.out == nil {
					t.out = make([]bool, outLen)
				}
				t.out[o] = true
			}
		default: // half_pixel
			xo = (xf+0.5)/scale - 0.5
		}
		// The left neighbour f and ratio r in (0, 1], as the reference picks them.
		f := math.Floor(xo)
		ratio := xo - f
		if ratio == 0 {
			f, ratio = f-1, 1
		}
		coeffs := resizeCoeffs(mode, nearest, ratio, a)
		first := int(f) - (n/2 - 1)
		sum := 0.0
		for k := 0; k < n; k++ {
			i := first + k
			if exclude && (i < 0 || i >= inLen) {
				coeffs[k] = 0
			}
			sum += coeffs[k]
			t.idx[o*n+k] = max(0, min(inLen-1, i))
		}
		for k := 0; k < n; k++ {
			if exclude && sum != 0 {
				coeffs[k] /= sum
			}
			t.w[o*n+k] = coeffs[k]
		}
	}
	return t
}

// resizeCoeffs are the reference's interpolation weights for ratio r.
func resizeCoeffs(mode, nearest string, r, a float64) []float64 {
	switch mode {
	case "linear":
		return []float64{1 - r, r}
	case "cubic":
		s := 1 - r
		return []float64{
			((a*(r+1)-5*a)*(r+1)+8*a)*(r+1) - 4*a,
			((a+2)*r-(a+3))*r*r + 1,
			((a+2)*s-(a+3))*s*s + 1,
			((a*(s+1)-5*a)*(s+1)+8*a)*(s+1) - 4*a,
		}
	}
	if r == 1 {
		return []float64{0, 1}
	}
	right := false
	switch nearest {
	case "round_prefer_ceil":
		right = r >= 0.5
	case "floor":
		right = false
	case "ceil":
		right = true
	default: // round_prefer_floor
		right = r > 0.5
	}
	if right {
		return []float64{0, 1}
	}
	return []float64{1, 0}
}
