package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// palette is matplotlib's tab10, readable on white and by most colour-blind
// readers when paired with dashes.
var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}

// Series is one line of a LineChart. Points with a NaN or infinite Y leave a
// gap in the line.
type Series struct {
	// Name is shown in the legend.
	Name string
	// X and Y are the points; they must have the same length.
	X, Y []float64
	// Dashed draws the line dashed (validation curves, by convention).
	Dashed bool
}

// LineChart is a line plot rendered as a standalone SVG by SVG.
type LineChart struct {
	// Title is drawn above the plot.
	Title string
	// XLabel and YLabel name the axes.
	XLabel, YLabel string
	// Series are the lines, coloured in order.
	Series []Series
	// Width and Height are the size in pixels (default 640×360).
	Width, Height int
}

// svgWriter builds SVG text; every string that came from outside goes
// through text, which escapes it for XML.
type svgWriter struct{ b bytes.Buffer }

func (w *svgWriter) f(format string, args ...any) { fmt.Fprintf(&w.b, format, args...) }

func (w *svgWriter) text(s string) { _ = xml.EscapeText(&w.b, []byte(s)) }

// label writes a <text> element holding s, escaped.
func (w *svgWriter) label(x, y float64, anchor, extra, s string) {
	w.f(`<text x="%.1f" y="%.1f" text-anchor="%s"%s>`, x, y, anchor, extra)
	w.text(s)
	w.b.WriteString("</text>\n")
}

func (w *svgWriter) open(width, height int) {
	w.f(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12">`+"\n", width, height, width, height)
	w.f(`<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
}

// SVG renders the chart as an SVG element (no XML declaration, so it can be
// inlined in HTML as it is; WriteReport adds one to the standalone files).
func (c LineChart) SVG() []byte {
	width, height := c.Width, c.Height
	if width <= 0 {
		width = 640
	}
	if height <= 0 {
		height = 360
	}
	const left, right, top, bottom = 72.0, 20.0, 40.0, 52.0
	f := frame{left: left, top: top, pw: float64(width) - left - right, ph: float64(height) - top - bottom}
	f.fit(c.Series)
	var w svgWriter
	w.open(width, height)
	if c.Title != "" {
		w.label(float64(width)/2, 22, "middle", ` font-size="15" font-weight="bold"`, c.Title)
	}
	f.axes(&w)
	if c.XLabel != "" {
		w.label(left+f.pw/2, float64(height)-12, "middle", "", c.XLabel)
	}
	if c.YLabel != "" {
		w.f(`<text x="0" y="0" text-anchor="middle" transform="translate(16 %.1f) rotate(-90)">`, top+f.ph/2)
		w.text(c.YLabel)
		w.b.WriteString("</text>\n")
	}
	for i, s := range c.Series {
		f.series(&w, s, palette[i%len(palette)])
	}
	f.legend(&w, c.Series)
	w.b.WriteString("</svg>\n")
	return w.b.Bytes()
}

// frame is the plot area of a line chart and the data range it shows.
type frame struct {
	left, top, pw, ph      float64 // plot area in pixels
	xmin, xmax, ymin, ymax float64
	xt, yt                 []float64 // tick positions
	xstep, ystep           float64
}

func (f *frame) px(x float64) float64 { return f.left + (x-f.xmin)/(f.xmax-f.xmin)*f.pw }
func (f *frame) py(y float64) float64 { return f.top + (f.ymax-y)/(f.ymax-f.ymin)*f.ph }

// fit sets the data range to the series' finite points, padded, and
// picks the ticks (whole numbers on an integer x axis such as epochs).
func (f *frame) fit(series []Series) {
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	intX := true
	for _, s := range series {
		for i, x := range s.X {
			if i >= len(s.Y) || !finite(s.Y[i]) || !finite(x) {
				continue
			}
			xmin, xmax = min(xmin, x), max(xmax, x)
			ymin, ymax = min(ymin, s.Y[i]), max(ymax, s.Y[i])
			intX = intX && x == math.Trunc(x)
		}
	}
	if xmin > xmax { // no finite points
		xmin, xmax, ymin, ymax = 0, 1, 0, 1
	}
	if xmin == xmax {
		xmin, xmax = xmin-1, xmax+1
	}
	if ymin == ymax {
		d := max(math.Abs(ymin)*0.1, 1e-3)
		ymin, ymax = ymin-d, ymax+d
	}
	pad := (ymax - ymin) * 0.05
	f.xmin, f.xmax, f.ymin, f.ymax = xmin, xmax, ymin-pad, ymax+pad
	f.xt, f.xstep = niceTicks(f.xmin, f.xmax, 6)
	if intX && f.xstep < 1 {
		f.xt, f.xstep = nil, 1
		for v := math.Ceil(f.xmin); v <= f.xmax; v++ {
			f.xt = append(f.xt, v)
		}
	}
	f.yt, f.ystep = niceTicks(f.ymin, f.ymax, 5)
}

// axes draws the grid, the frame and the tick labels.
func (f *frame) axes(w *svgWriter) {
	w.b.WriteString(`<g stroke="#e5e5e5" stroke-width="1">` + "\n")
	for _, v := range f.yt {
		w.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", f.left, f.py(v), f.left+f.pw, f.py(v))
	}
	for _, v := range f.xt {
		w.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", f.px(v), f.top, f.px(v), f.top+f.ph)
	}
	w.b.WriteString("</g>\n")
	w.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#333333"/>`+"\n", f.left, f.top, f.pw, f.ph)
	w.b.WriteString(`<g fill="#333333">` + "\n")
	for _, v := range f.yt {
		w.label(f.left-6, f.py(v)+4, "end", "", formatTick(v, f.ystep))
	}
	for _, v := range f.xt {
		w.label(f.px(v), f.top+f.ph+16, "middle", "", formatTick(v, f.xstep))
	}
	w.b.WriteString("</g>\n")
}

// series draws one line (broken at non-finite points) and, for up to 60
// points, its markers.
func (f *frame) series(w *svgWriter, s Series, color string) {
	dash := ""
	if s.Dashed {
		dash = ` stroke-dasharray="6 4"`
	}
	var d strings.Builder
	pen := false
	n := min(len(s.X), len(s.Y))
	for j := range n {
		if !finite(s.X[j]) || !finite(s.Y[j]) {
			pen = false
			continue
		}
		cmd := 'L'
		if !pen {
			cmd = 'M'
		}
		fmt.Fprintf(&d, "%c%.2f %.2f ", cmd, f.px(s.X[j]), f.py(s.Y[j]))
		pen = true
	}
	if d.Len() > 0 {
		w.f(`<path d="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.TrimSpace(d.String()), color, dash)
	}
	if n <= 60 {
		w.f(`<g fill="%s">`+"\n", color)
		for j := range n {
			if finite(s.X[j]) && finite(s.Y[j]) {
				w.f(`<circle cx="%.2f" cy="%.2f" r="3"/>`+"\n", f.px(s.X[j]), f.py(s.Y[j]))
			}
		}
		w.b.WriteString("</g>\n")
	}
}

// legend draws the series names inside the plot, in the corner that hides
// the fewest points.
func (f *frame) legend(w *svgWriter, series []Series) {
	if len(series) == 0 {
		return
	}
	maxLen := 0
	for _, s := range series {
		maxLen = max(maxLen, utf8.RuneCountInString(s.Name))
	}
	lw, lh := 40+7*float64(maxLen), 8+18*float64(len(series))
	lx, ly, best := 0.0, 0.0, -1
	right, bottom := f.left+f.pw, f.top+f.ph
	for _, corner := range [][2]float64{{right - lw - 8, f.top + 8}, {right - lw - 8, bottom - lh - 8}, {f.left + 8, f.top + 8}, {f.left + 8, bottom - lh - 8}} {
		hidden := 0
		for _, s := range series {
			for j := range min(len(s.X), len(s.Y)) {
				x, y := f.px(s.X[j]), f.py(s.Y[j])
				if x >= corner[0]-4 && x <= corner[0]+lw+4 && y >= corner[1]-4 && y <= corner[1]+lh+4 {
					hidden++
				}
			}
		}
		if best < 0 || hidden < best {
			lx, ly, best = corner[0], corner[1], hidden
		}
	}
	w.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#ffffff" fill-opacity="0.85" stroke="#cccccc"/>`+"\n", lx, ly, lw, lh)
	for i, s := range series {
		y := ly + 16 + 18*float64(i)
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		w.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/>`+"\n", lx+6, y-4, lx+30, y-4, palette[i%len(palette)], dash)
		w.label(lx+36, y, "start", "", s.Name)
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// niceTicks returns about n round tick values covering [lo, hi] and their
// step (1, 2 or 5 times a power of ten, the nearest to (hi-lo)/n).
func niceTicks(lo, hi float64, n int) ([]float64, float64) {
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	switch r := raw / mag; {
	case r >= 7:
		step = 10 * mag
	case r >= 3:
		step = 5 * mag
	case r >= 1.5:
		step = 2 * mag
	}
	var ticks []float64
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		// Snap to the step grid to avoid 0.30000000000000004.
		ticks = append(ticks, math.Round(v/step)*step)
	}
	return ticks, step
}

// formatTick prints v with as many decimals as the tick step needs.
func formatTick(v, step float64) string {
	if v == 0 {
		return "0"
	}
	if a := math.Abs(v); a >= 1e6 || a < 1e-4 {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	dec := max(0, int(math.Ceil(-math.Log10(step)-1e-9)))
	return strconv.FormatFloat(v, 'f', dec, 64)
}

// LearningCurves builds two charts from run-log records: loss against epoch,
// and metric (a key of Record.Metrics, such as "accuracy") against epoch,
// each with one line per split (train solid, the others dashed). Records
// with Epoch 0 (evaluations outside training) are left out; when a split has
// several records for one epoch, the last one counts.
func LearningCurves(recs []Record, metric string) (loss, metricChart LineChart) {
	loss = LineChart{Title: "Loss", XLabel: "epoch", YLabel: "loss"}
	metricChart = LineChart{Title: metricTitle(metric), XLabel: "epoch", YLabel: metric}
	for _, split := range splitsOf(recs) {
		last := map[int]Record{}
		for _, r := range recs {
			if r.Split == split && r.Epoch > 0 {
				last[r.Epoch] = r
			}
		}
		epochs := make([]int, 0, len(last))
		for e := range last {
			epochs = append(epochs, e)
		}
		slices.Sort(epochs)
		ls := Series{Name: split, Dashed: split != SplitTrain}
		ms := ls
		for _, e := range epochs {
			r := last[e]
			ls.X, ls.Y = append(ls.X, float64(e)), append(ls.Y, r.Loss)
			if v, ok := r.Metrics[metric]; ok {
				ms.X, ms.Y = append(ms.X, float64(e)), append(ms.Y, v)
			}
		}
		if len(ls.X) > 0 {
			loss.Series = append(loss.Series, ls)
		}
		if len(ms.X) > 0 {
			metricChart.Series = append(metricChart.Series, ms)
		}
	}
	return loss, metricChart
}

func metricTitle(metric string) string {
	if metric == "" {
		return "Metric"
	}
	t := strings.ReplaceAll(metric, "_", " ")
	r, n := utf8.DecodeRuneInString(t)
	return strings.ToUpper(string(r)) + t[n:]
}

// splitsOf returns the splits in recs: train, val, test first, then the
// others in order of appearance.
func splitsOf(recs []Record) []string {
	seen := map[string]bool{}
	var others []string
	for _, r := range recs {
		if !seen[r.Split] {
			seen[r.Split] = true
			if r.Split != SplitTrain && r.Split != SplitVal && r.Split != SplitTest {
				others = append(others, r.Split)
			}
		}
	}
	var out []string
	for _, s := range []string{SplitTrain, SplitVal, SplitTest} {
		if seen[s] {
			out = append(out, s)
		}
	}
	return append(out, others...)
}
