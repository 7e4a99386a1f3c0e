package onnx

import (
	"fmt"
	"math"

	"github.com/shenml/shen/internal/kernel"
)

func init() {
	register(buildConv, "Conv")
	register(buildConvTranspose, "ConvTranspose")
	register(buildPool, "MaxPool", "AveragePool", "LpPool")
	register(buildGlobalPool, "GlobalAveragePool", "GlobalMaxPool")
}

// geom is the geometry of a convolution or pooling window, with up to
// three spatial axes; missing leading axes are 1 (kernel 1, stride 1).
type geom struct {
	in, k, out, stride, dil, padB, padE [3]int
}

// windowAttrs are the attributes Conv and the pools share.
type windowAttrs struct {
	autoPad                  string
	kernel, strides, dils    []int
	pads, outPadding, outShp []int
	ceil                     bool
}

func readWindowAttrs(n *node) windowAttrs {
	return windowAttrs{
		autoPad: n.attr.str("auto_pad", "NOTSET"), kernel: n.attr.ints("kernel_shape"),
		strides: n.attr.ints("strides"), dils: n.attr.ints("dilations"), pads: n.attr.ints("pads"),
		outPadding: n.attr.ints("output_padding"), outShp: n.attr.ints("output_shape"),
		ceil: n.attr.int("ceil_mode", 0) != 0,
	}
}

func at(v []int, i, def int) int {
	if i < len(v) {
		return v[i]
	}
	return def
}

// makeGeom computes a forward window's output size for spatial input in
// and kernel k.
func (w *windowAttrs) makeGeom(in, k []int) (geom, error) {
	nd := len(in)
	var g geom
	if nd == 0 || nd > 3 || len(k) != nd {
		return g, fmt.Errorf("%d spatial axes (kernel %v) are not supported; 1 to 3 are", nd, k)
	}
	for i := range 3 {
		g.in[i], g.k[i], g.out[i], g.stride[i], g.dil[i] = 1, 1, 1, 1, 1
	}
	off := 3 - nd
	for i := 0; i < nd; i++ {
		j := i + off
		g.in[j], g.k[j] = in[i], k[i]
		g.stride[j], g.dil[j] = at(w.strides, i, 1), at(w.dils, i, 1)
		if g.stride[j] <= 0 || g.dil[j] <= 0 || g.k[j] <= 0 {
			return g, fmt.Errorf("kernel %v, strides %v and dilations %v must be positive", k, w.strides, w.dils)
		}
		ext := (g.k[j]-1)*g.dil[j] + 1
		switch w.autoPad {
		case "SAME_UPPER", "SAME_LOWER":
			g.out[j] = (in[i] + g.stride[j] - 1) / g.stride[j]
			total := max(0, (g.out[j]-1)*g.stride[j]+ext-in[i])
			g.padB[j] = total / 2
			if w.autoPad == "SAME_LOWER" {
				g.padB[j] = total - total/2
			}
			g.padE[j] = total - g.padB[j]
		case "VALID":
			g.out[j] = (in[i]-ext)/g.stride[j] + 1
		case "NOTSET", "":
			pb, pe := at(w.pads, i, 0), at(w.pads, i+nd, 0)
			g.padB[j], g.padE[j] = pb, pe
			span := in[i] + pb + pe - ext
			if w.ceil {
				g.out[j] = (span+g.stride[j]-1)/g.stride[j] + 1
				if (g.out[j]-1)*g.stride[j] >= in[i]+pb {
					g.out[j]--
				}
			} else {
				g.out[j] = span/g.stride[j] + 1
			}
		default:
			return g, fmt.Errorf("auto_pad %q is not supported", w.autoPad)
		}
		if g.out[j] <= 0 {
			return g, fmt.Errorf("window %v does not fit input %v", k, in)
		}
	}
	return g, nil
}

func (g *geom) outN() int { return g.out[0] * g.out[1] * g.out[2] }
func (g *geom) inN() int  { return g.in[0] * g.in[1] * g.in[2] }
func (g *geom) kN() int   { return g.k[0] * g.k[1] * g.k[2] }

// im2col lays out one image's c channels as a (c*kN) x outN matrix of
// window taps, zero where a tap falls in the padding.
func (g *geom) im2col(col, img []float32, c int) {
	on := g.outN()
	row := 0
	for ch := 0; ch < c; ch++ {
		src := img[ch*g.inN():]
		for kd := 0; kd < g.k[0]; kd++ {
			for kh := 0; kh < g.k[1]; kh++ {
				for kw := 0; kw < g.k[2]; kw++ {
					dst := col[row*on : (row+1)*on]
					row++
					p := 0
					for od := 0; od < g.out[0]; od++ {
						id := od*g.stride[0] - g.padB[0] + kd*g.dil[0]
						for oh := 0; oh < g.out[1]; oh++ {
							ih := oh*g.stride[1] - g.padB[1] + kh*g.dil[1]
							okDH := id >= 0 && id < g.in[0] && ih >= 0 && ih < g.in[1]
							base := (id*g.in[1] + ih) * g.in[2]
							for ow := 0; ow < g.out[2]; ow++ {
								iw := ow*g.stride[2] - g.padB[2] + kw*g.dil[2]
								if okDH && iw >= 0 && iw < g.in[2] {
									dst[p] = src[base+iw]
								} else {
									dst[p] = 0
								}
								p++
							}
						}
					}
				}
			}
		}
	}
}

// col2im adds a (c*kN) x outN tap matrix back into an image of c
// channels: the adjoint of im2col, used by ConvTranspose.
func (g *geom) col2im(img, col []float32, c int) {
	on := g.outN()
	row := 0
	for ch := 0; ch < c; ch++ {
		dst := img[ch*g.inN():]
		for kd := 0; kd < g.k[0]; kd++ {
			for kh := 0; kh < g.k[1]; kh++ {
				for kw := 0; kw < g.k[2]; kw++ {
					src := col[row*on : (row+1)*on]
					row++
					p := 0
					for od := 0; od < g.out[0]; od++ {
						id := od*g.stride[0] - g.padB[0] + kd*g.dil[0]
						for oh := 0; oh < g.out[1]; oh++ {
							ih := oh*g.stride[1] - g.padB[1] + kh*g.dil[1]
							okDH := id >= 0 && id < g.in[0] && ih >= 0 && ih < g.in[1]
							base := (id*g.in[1] + ih) * g.in[2]
							for ow := 0; ow < g.out[2]; ow++ {
								iw := ow*g.stride[2] - g.padB[2] + kw*g.dil[2]
								if okDH && iw >= 0 && iw < g.in[2] {
									dst[base+iw] += src[p]
								}
								p++
							}
						}
					}
				}
			}
		}
	}
}

// is1x1 reports whether im2col would be the identity.
func (g *geom) is1x1() bool {
	return g.kN() == 1 && g.outN() == g.inN() && g.stride == [3]int{1, 1, 1} && g.padB == [3]int{}
}

func buildConv(n *node) (opFunc, error) {
	w := readWindowAttrs(n)
	group := n.attr.int("group", 1)
	return func(x *exec, in, out []*Tensor) error {
		return conv(x, &w, group, in[0], in[1], get(in, 2), out[0], false)
	}, nil
}

// convBatchFloats caps the tap matrix of a batched convolution (64 MiB).
const convBatchFloats = 16 << 20

// conv is an N-d grouped convolution: im2col, then SGEMM of the filters
// with the tap matrix. Several images share one SGEMM when the geometry
// is 1-D or 2-D without groups, which keeps small filter counts efficient
// at large batch. relu applies a fused ReLU.
func conv(x *exec, w *windowAttrs, group int, a, wt, bias, out *Tensor, relu bool) error {
	if len(a.Shape) < 3 || len(wt.Shape) != len(a.Shape) {
		return fmt.Errorf("input %v and weight %v do not fit a convolution", a.Shape, wt.Shape)
	}
	nb, c, m := a.Shape[0], a.Shape[1], wt.Shape[0]
	if group <= 0 || c%group != 0 || m%group != 0 || wt.Shape[1] != c/group {
		return fmt.Errorf("input %v, weight %v and group %d do not agree", a.Shape, wt.Shape, group)
	}
	kshape := wt.Shape[2:]
	if w.kernel != nil && !sameShape(w.kernel, kshape) {
		return fmt.Errorf("kernel_shape %v differs from the weight's %v", w.kernel, kshape)
	}
	g, err := w.makeGeom(a.Shape[2:], kshape)
	if err != nil {
		return err
	}
	shape := append(append(x.ints(0, 0), nb, m), g.out[3-len(kshape):]...)
	x.i[0] = shape
	out.set(Float, shape)
	cg, mg := c/group, m/group
	rows, on := cg*g.kN(), g.outN()
	if useShift(&g, c, m, group) {
		convShift(x, &g, a, wt, bias, out, relu)
		return nil
	}
	if nb > 1 && group == 1 && g.flat2D() && !g.is1x1() && rows*on <= convBatchFloats/2 {
		convBatched(x, &g, a, wt, bias, out, relu)
		return nil
	}
	var col []float32
	if !g.is1x1() {
		col = x.floats(0, rows*on)
	}
	for b := 0; b < nb; b++ {
		for gr := 0; gr < group; gr++ {
			img := a.F[(b*c+gr*cg)*g.inN():]
			src := img
			if col != nil {
				if g.flat2D() {
					x.im2colFast(&g, col, img, cg, on, 0)
				} else {
					g.im2col(col, img, cg)
				}
				src = col
			}
			dst := out.F[(b*m+gr*mg)*on:]
			kernel.Sgemm(false, false, mg, on, rows, 1, wt.F[gr*mg*rows:], rows, src, on, 0, dst, on)
		}
	}
	if bias != nil {
		addChannelBias(out.F, bias.F, nb, m, on)
	}
	if relu {
		kernel.Relu(out.F, out.F)
	}
	return nil
}

// convBatched lays the taps of a chunk of images side by side, runs one
// SGEMM per chunk and scatters the [m, images*positions] result into NCHW
// with the bias (and ReLU) applied on the way.
func convBatched(x *exec, g *geom, a, wt, bias, out *Tensor, relu bool) {
	nb, c, m := a.Shape[0], a.Shape[1], wt.Shape[0]
	rows, on := c*g.kN(), g.outN()
	chunk := max(1, min(nb, convBatchFloats/(rows*on)))
	col := x.floats(0, rows*chunk*on)
	tmp := x.floats(1, m*chunk*on)
	for b0 := 0; b0 < nb; b0 += chunk {
		cnt := min(chunk, nb-b0)
		ld := cnt * on
		for b := 0; b < cnt; b++ {
			x.im2colFast(g, col, a.F[(b0+b)*c*g.inN():], c, ld, b*on)
		}
		kernel.Sgemm(false, false, m, ld, rows, 1, wt.F, rows, col, ld, 0, tmp, ld)
		for b := 0; b < cnt; b++ {
			for ch := 0; ch < m; ch++ {
				dst := out.F[((b0+b)*m+ch)*on : ((b0+b)*m+ch+1)*on]
				src := tmp[ch*ld+b*on : ch*ld+(b+1)*on]
				if bias != nil {
					kernel.AddScalar(dst, bias.F[ch], src)
				} else {
					copy(dst, src)
				}
				if relu {
					kernel.Relu(dst, dst)
				}
			}
		}
	}
}

func addChannelBias(dst, bias []float32, nb, c, inner int) {
	for b := 0; b < nb; b++ {
		for ch := 0; ch < c; ch++ {
			seg := dst[(b*c+ch)*inner : (b*c+ch+1)*inner]
			kernel.AddScalar(seg, bias[ch], seg)
		}
	}
}

func buildConvTranspose(n *node) (opFunc, error) {
	w := readWindowAttrs(n)
	group := n.attr.int("group", 1)
	return func(x *exec, in, out []*Tensor) error {
		a, wt, bias := in[0], in[1], get(in, 2)
		if len(a.Shape) < 3 || len(wt.Shape) != len(a.Shape) {
			return fmt.Errorf("ConvTranspose input %v and weight %v", a.Shape, wt.Shape)
		}
		nb, c := a.Shape[0], a.Shape[1]
		if group <= 0 || c%group != 0 || wt.Shape[0] != c {
			return fmt.Errorf("ConvTranspose input %v, weight %v and group %d do not agree", a.Shape, wt.Shape, group)
		}
		mg := wt.Shape[1]
		m, cg := mg*group, c/group
		g, err := w.transposeGeom(a.Shape[2:], wt.Shape[2:])
		if err != nil {
			return err
		}
		nd := len(wt.Shape) - 2
		shape := append(append(x.ints(0, 0), nb, m), g.in[3-nd:]...)
		x.i[0] = shape
		out[0].set(Float, shape)
		clear(out[0].F)
		rows, on := mg*g.kN(), g.outN()
		col := x.floats(0, rows*on)
		for b := 0; b < nb; b++ {
			for gr := 0; gr < group; gr++ {
				src := a.F[(b*c+gr*cg)*on:]
				kernel.Sgemm(true, false, rows, on, cg, 1, wt.F[gr*cg*rows:], rows, src, on, 0, col, on)
				g.col2im(out[0].F[(b*m+gr*mg)*g.inN():], col, mg)
			}
		}
		if bias != nil {
			addChannelBias(out[0].F, bias.F, nb, m, g.inN())
		}
		return nil
	}, nil
}

// transposeGeom returns the geometry of the forward convolution whose
// adjoint is this ConvTranspose: its "in" is the transposed output.
func (w *windowAttrs) transposeGeom(in, k []int) (geom, error) {
	nd := len(in)
	var g geom
	if nd == 0 || nd > 3 {
		return g, fmt.Errorf("%d spatial axes are not supported", nd)
	}
	for i := range 3 {
		g.in[i], g.k[i], g.out[i], g.stride[i], g.dil[i] = 1, 1, 1, 1, 1
	}
	off := 3 - nd
	for i := 0; i < nd; i++ {
		j := i + off
		s, d := at(w.strides, i, 1), at(w.dils, i, 1)
		if s <= 0 || d <= 0 || k[i] <= 0 {
			return g, fmt.Errorf("strides %v and dilations %v must be positive", w.strides, w.dils)
		}
		ext := (k[i]-1)*d + 1
		full := s*(in[i]-1) + at(w.outPadding, i, 0) + ext
		var size, pb int
		switch {
		case w.outShp != nil:
			size = at(w.outShp, len(w.outShp)-nd+i, 0)
			total := full - size
			pb = floorDiv(total, 2) // as the ONNX reference computes it, negative totals included
			if w.autoPad != "SAME_UPPER" {
				pb = total - floorDiv(total, 2)
			}
		case w.autoPad == "SAME_UPPER" || w.autoPad == "SAME_LOWER":
			size = in[i] * s
			total := full - size
			pb = total / 2
			if w.autoPad == "SAME_LOWER" {
				pb = total - total/2
			}
		default:
			pb = at(w.pads, i, 0)
			size = full - pb - at(w.pads, i+nd, 0)
		}
		if size <= 0 {
			return g, fmt.Errorf("output size %d on axis %d", size, i)
		}
		g.in[j], g.k[j], g.out[j], g.stride[j], g.dil[j], g.padB[j] = size, k[i], in[i], s, d, pb
	}
	return g, nil
}

func buildPool(n *node) (opFunc, error) {
	w := readWindowAttrs(n)
	if w.kernel == nil {
		return nil, fmt.Errorf("kernel_shape is required")
	}
	op := n.op
	countPad := n.attr.int("count_include_pad", 0) != 0
	p := float64(n.attr.int("p", 2))
	if n.attr.int("storage_order", 0) != 0 {
		return nil, fmt.Errorf("column-major storage_order is not supported")
	}
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		if len(a.Shape) != len(w.kernel)+2 {
			return fmt.Errorf("input %v for kernel %v", a.Shape, w.kernel)
		}
		g, err := w.makeGeom(a.Shape[2:], w.kernel)
		if err != nil {
			return err
		}
		nd := len(w.kernel)
		shape := append(append(x.ints(0, 0), a.Shape[0], a.Shape[1]), g.out[3-nd:]...)
		x.i[0] = shape
		out[0].set(Float, shape)
		var idx []int64
		if len(out) > 1 && out[1] != nil {
			out[1].set(Int64, shape)
			idx = out[1].I
		}
		planes := a.Shape[0] * a.Shape[1]
		if idx == nil && op != "LpPool" && g.flat2D() && g.dil == [3]int{1, 1, 1} {
			x.poolFast(&g, op, countPad, a.F, out[0].F, planes)
			return nil
		}
		for pl := 0; pl < planes; pl++ {
			pool(&g, op, countPad, p, a.F[pl*g.inN():(pl+1)*g.inN()], out[0].F[pl*g.outN():], idx, pl)
		}
		return nil
	}, nil
}

// pool computes one plane of a max, average or Lp pool; idx (MaxPool's
// Indices) gets flat indices into the whole input.
func pool(g *geom, op string, countPad bool, p float64, src, dst []float32, idx []int64, plane int) {
	o := 0
	for od := 0; od < g.out[0]; od++ {
		for oh := 0; oh < g.out[1]; oh++ {
			for ow := 0; ow < g.out[2]; ow++ {
				best, bi := float32(math.Inf(-1)), -1
				var sum float64
				cnt, padCnt := 0, 0
				for kd := 0; kd < g.k[0]; kd++ {
					id := od*g.stride[0] - g.padB[0] + kd*g.dil[0]
					for kh := 0; kh < g.k[1]; kh++ {
						ih := oh*g.stride[1] - g.padB[1] + kh*g.dil[1]
						for kw := 0; kw < g.k[2]; kw++ {
							iw := ow*g.stride[2] - g.padB[2] + kw*g.dil[2]
							if id < 0 || id >= g.in[0] || ih < 0 || ih >= g.in[1] || iw < 0 || iw >= g.in[2] {
								if id < g.in[0]+g.padE[0] && ih < g.in[1]+g.padE[1] && iw < g.in[2]+g.padE[2] {
									padCnt++
								}
								continue
							}
							j := (id*g.in[1]+ih)*g.in[2] + iw
							v := src[j]
							cnt++
							switch op {
							case "MaxPool":
								if v > best || bi < 0 {
									best, bi = v, j
								}
							case "LpPool":
								sum += math.Pow(math.Abs(float64(v)), p)
							default:
								sum += float64(v)
							}
						}
					}
				}
				switch op {
				case "MaxPool":
					dst[o] = best
					if idx != nil {
						idx[plane*g.outN()+o] = int64(plane*g.inN() + bi)
					}
				case "LpPool":
					dst[o] = float32(math.Pow(sum, 1/p))
				default:
					if countPad {
						cnt += padCnt
					}
					dst[o] = float32(sum / float64(max(cnt, 1)))
				}
				o++
			}
		}
	}
}

func buildGlobalPool(n *node) (opFunc, error) {
	isMax := n.op == "GlobalMaxPool"
	return func(x *exec, in, out []*Tensor) error {
		a := in[0]
		if len(a.Shape) < 2 {
			return fmt.Errorf("input %v has no channel axis", a.Shape)
		}
		shape := append(x.ints(0, 0), a.Shape[0], a.Shape[1])
		for range a.Shape[2:] {
			shape = append(shape, 1)
		}
		x.i[0] = shape
		out[0].set(Float, shape)
		inner := numel(a.Shape[2:])
		for pl := range out[0].F {
			seg := a.F[pl*inner : (pl+1)*inner]
			if isMax {
				out[0].F[pl] = kernel.Max(seg)
			} else {
				out[0].F[pl] = kernel.Sum(seg) / float32(inner)
			}
		}
		return nil
	}, nil
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
