package tune

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/shenml/shen/report"
)

// The study report: one self-contained HTML page of inline SVG charts. The
// optimisation history is package report's line chart, as in the run
// report; the scatter, parallel-coordinates and bar charts, which report
// does not draw, come from the small writer below.

const (
	chartW, chartH = 640, 300
	padL, padR     = 64, 16
	padT, padB     = 24, 40
)

// scale maps [lo, hi] (log10 when logScale) onto [a, b].
type scale struct {
	lo, hi, a, b float64
	log          bool
}

func newScale(values []float64, a, b float64, logScale bool) scale {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range values {
		if logScale {
			v = math.Log10(v)
		}
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 0, 1
	}
	if hi == lo {
		lo, hi = lo-0.5, hi+0.5
	}
	pad := (hi - lo) * 0.05
	return scale{lo: lo - pad, hi: hi + pad, a: a, b: b, log: logScale}
}

func (s scale) at(v float64) float64 {
	if s.log {
		v = math.Log10(v)
	}
	return s.a + (v-s.lo)/(s.hi-s.lo)*(s.b-s.a)
}

// ticks returns about five round values inside the scale.
func (s scale) ticks() []float64 {
	if s.log { // powers of ten, with 2 and 5 times them when the range is short
		for _, ms := range [][]float64{{1}, {1, 2, 5}} {
			var t []float64
			for e := math.Floor(s.lo); e <= s.hi; e++ {
				for _, m := range ms {
					if v := m * math.Pow(10, e); math.Log10(v) >= s.lo && math.Log10(v) <= s.hi {
						t = append(t, v)
					}
				}
			}
			if len(t) >= 3 {
				return t
			}
		}
	}
	lo, hi := s.lo, s.hi
	if s.log {
		lo, hi = math.Pow(10, lo), math.Pow(10, hi)
	}
	step := math.Pow(10, math.Floor(math.Log10((hi-lo)/5)))
	for (hi-lo)/step > 8 {
		step *= 2
	}
	var t []float64
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		t = append(t, math.Round(v/step)*step)
	}
	return t
}

// svg accumulates one chart.
type svg struct{ b bytes.Buffer }

func newSVG(w, h int, title string) *svg {
	s := &svg{}
	fmt.Fprintf(&s.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`, w, h, w, h)
	fmt.Fprintf(&s.b, `<title>%s</title><rect width="%d" height="%d" fill="#fff"/>`, html.EscapeString(title), w, h)
	return s
}

func (s *svg) line(x1, y1, x2, y2 float64, style string) {
	fmt.Fprintf(&s.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" %s/>`, x1, y1, x2, y2, style)
}

func (s *svg) text(x, y float64, anchor, txt string) {
	fmt.Fprintf(&s.b, `<text x="%.1f" y="%.1f" text-anchor="%s">%s</text>`, x, y, anchor, html.EscapeString(txt))
}

func (s *svg) circle(x, y, r float64, fill, tip string) {
	fmt.Fprintf(&s.b, `<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s"><title>%s</title></circle>`, x, y, r, fill, html.EscapeString(tip))
}

func (s *svg) polyline(pts [][2]float64, style string) {
	var b strings.Builder
	for _, p := range pts {
		fmt.Fprintf(&b, "%.1f,%.1f ", p[0], p[1])
	}
	fmt.Fprintf(&s.b, `<polyline points="%s" fill="none" %s/>`, strings.TrimSpace(b.String()), style)
}

// axes draws the frame, the ticks and the labels of a chart.
func (s *svg) axes(x, y scale, xLabel, yLabel string, xTicks []float64, xNames []string) {
	s.line(padL, chartH-padB, chartW-padR, chartH-padB, `stroke="#444"`)
	s.line(padL, padT, padL, chartH-padB, `stroke="#444"`)
	for _, t := range y.ticks() {
		yy := y.at(t)
		s.line(padL-4, yy, chartW-padR, yy, `stroke="#eee"`)
		s.text(padL-6, yy+4, "end", fmt.Sprintf("%.3g", t))
	}
	if xTicks == nil {
		xTicks = x.ticks()
	}
	for i, t := range xTicks {
		xx := x.at(t)
		s.line(xx, chartH-padB, xx, chartH-padB+4, `stroke="#444"`)
		label := fmt.Sprintf("%.3g", t)
		if xNames != nil {
			label = xNames[i]
		}
		s.text(xx, chartH-padB+16, "middle", label)
	}
	s.text((padL+chartW-padR)/2, chartH-6, "middle", xLabel)
	fmt.Fprintf(&s.b, `<text x="14" y="%d" text-anchor="middle" transform="rotate(-90 14 %d)">%s</text>`, chartH/2, chartH/2, html.EscapeString(yLabel))
}

func (s *svg) String() string { return s.b.String() + "</svg>" }

// color maps a rank in [0, 1] (0: best) from dark blue to light orange.
func color(r float64) string {
	r = math.Max(0, math.Min(1, r))
	return fmt.Sprintf("rgb(%d,%d,%d)", int(30+r*220), int(60+r*120), int(160-r*120))
}

// complete returns the complete trials.
func complete(st *Study) []*TrialRecord {
	var out []*TrialRecord
	for _, t := range st.Trials {
		if t.State == Complete {
			out = append(out, t)
		}
	}
	return out
}

// rankOf gives each complete trial's rank in [0, 1] by objective (0: best).
func rankOf(st *Study, ts []*TrialRecord) map[int]float64 {
	s := slices.Clone(ts)
	sort.SliceStable(s, func(a, b int) bool { return rank(s[a], st.Spec) < rank(s[b], st.Spec) })
	out := map[int]float64{}
	for i, t := range s {
		out[t.Number] = float64(i) / math.Max(1, float64(len(s)-1))
	}
	return out
}

// historyChart: every complete trial's value by trial number and the best
// value so far, drawn by package report's line chart (as the run report's
// learning curves are).
func historyChart(st *Study) string {
	sp := st.Spec
	var xs, ys, best []float64
	for _, t := range complete(st) {
		xs, ys = append(xs, float64(t.Number)), append(ys, t.Value)
		b := t.Value
		if n := len(best); n > 0 && (sp.Maximize && best[n-1] > b || !sp.Maximize && best[n-1] < b) {
			b = best[n-1]
		}
		best = append(best, b)
	}
	c := report.LineChart{
		Title: "Optimisation history", XLabel: "trial", YLabel: sp.Metric,
		Series: []report.Series{{Name: "trial " + sp.Metric, X: xs, Y: ys, Dashed: true}, {Name: "best so far", X: xs, Y: best}},
	}
	return string(c.SVG())
}

// axisScale is the scale of a parameter's axis; for a choice, its values
// are the choice indices and names labels them.
func axisScale(p *Param, ts []*TrialRecord, idx int, a, b float64) (scale, []float64, []string) {
	if p.Kind == Categorical {
		var ticks []float64
		var names []string
		for c := range p.Choices {
			ticks = append(ticks, float64(c))
			names = append(names, yamlFlow(p.Choices[c]))
		}
		return newScale(ticks, a, b, false), ticks, names
	}
	vals := make([]float64, 0, len(ts))
	for _, t := range ts {
		vals = append(vals, t.Values[idx])
	}
	return newScale(vals, a, b, p.Log), nil, nil
}

// sliceCharts: one scatter per parameter, its value against the objective.
func sliceCharts(st *Study) []string {
	sp := st.Spec
	ts := complete(st)
	ranks := rankOf(st, ts)
	vals := make([]float64, 0, len(ts))
	for _, t := range ts {
		vals = append(vals, t.Value)
	}
	var out []string
	for i := range sp.Params {
		p := &sp.Params[i]
		s := newSVG(chartW, chartH, p.Key+" against "+sp.Metric)
		x, ticks, names := axisScale(p, ts, i, padL, chartW-padR)
		y := newScale(vals, chartH-padB, padT, false)
		s.axes(x, y, p.Key, sp.Metric, ticks, names)
		for k, t := range ts {
			xv := t.Values[i]
			if p.Kind == Categorical { // spread equal choices a little
				xv += (float64(k%7) - 3) * 0.03
			}
			s.circle(x.at(xv), y.at(t.Value), 4, color(ranks[t.Number]), fmt.Sprintf("trial %d: %s=%s, %.5g", t.Number, p.Key, valueText(t.Params[p.Key]), t.Value))
		}
		out = append(out, s.String())
	}
	return out
}

// parallelChart: one vertical axis per parameter and one for the
// objective; each complete trial a line across them, darker when better.
func parallelChart(st *Study) string {
	sp := st.Spec
	ts := complete(st)
	ranks := rankOf(st, ts)
	n := len(sp.Params) + 1
	w := max(chartW, 140*n)
	s := newSVG(w, chartH, "Parallel coordinates")
	right := 80.0 // room for the last axis' labels
	xs := func(i int) float64 { return padL + float64(i)*(float64(w)-padL-right)/float64(max(1, n-1)) }
	scales := make([]scale, n)
	for i := range sp.Params {
		p := &sp.Params[i]
		sc, ticks, names := axisScale(p, ts, i, chartH-padB, padT)
		scales[i] = sc
		s.line(xs(i), padT, xs(i), chartH-padB, `stroke="#444"`)
		s.text(xs(i), chartH-padB+16, "middle", p.Key)
		if ticks == nil {
			ticks = sc.ticks()
		}
		for k, t := range ticks {
			label := fmt.Sprintf("%.3g", t)
			if names != nil {
				label = names[k]
			}
			s.text(xs(i)+4, sc.at(t)+4, "start", label)
		}
	}
	vals := make([]float64, 0, len(ts))
	for _, t := range ts {
		vals = append(vals, t.Value)
	}
	scales[n-1] = newScale(vals, chartH-padB, padT, false)
	s.line(xs(n-1), padT, xs(n-1), chartH-padB, `stroke="#444"`)
	s.text(xs(n-1), chartH-padB+16, "middle", sp.Metric)
	for _, t := range scales[n-1].ticks() {
		s.text(xs(n-1)-4, scales[n-1].at(t)+4, "end", fmt.Sprintf("%.3g", t))
	}
	order := slices.Clone(ts)
	sort.SliceStable(order, func(a, b int) bool { return ranks[order[a].Number] > ranks[order[b].Number] }) // best drawn last, on top
	for _, t := range order {
		pts := make([][2]float64, n)
		for i := range sp.Params {
			pts[i] = [2]float64{xs(i), scales[i].at(t.Values[i])}
		}
		pts[n-1] = [2]float64{xs(n - 1), scales[n-1].at(t.Value)}
		s.polyline(pts, fmt.Sprintf(`stroke="%s" stroke-width="1.5" stroke-opacity="0.8"`, color(ranks[t.Number])))
	}
	return s.String()
}

// Importance estimates how much of the objective's spread each parameter
// explains on its own: the correlation ratio η² = between-group variance
// / total variance of the complete trials' values, the groups being the
// choices of a categorical parameter or quartile bins of a numeric one
// (log-spaced values binned by rank alike), normalised to sum to 1. It is
// a simpler estimate than fANOVA (which fits a random forest and also
// credits interactions); with few trials it is noisy.
func Importance(st *Study) []float64 {
	ts := complete(st)
	out := make([]float64, len(st.Spec.Params))
	if len(ts) < 3 {
		return out
	}
	mean, total := 0.0, 0.0
	for _, t := range ts {
		mean += t.Value
	}
	mean /= float64(len(ts))
	for _, t := range ts {
		total += (t.Value - mean) * (t.Value - mean)
	}
	if total == 0 {
		return out
	}
	sum := 0.0
	for i, p := range st.Spec.Params {
		group := make([]int, len(ts))
		if p.Kind == Categorical {
			for k, t := range ts {
				group[k] = int(t.Values[i])
			}
		} else {
			order := make([]int, len(ts))
			for k := range order {
				order[k] = k
			}
			sort.SliceStable(order, func(a, b int) bool { return ts[order[a]].Values[i] < ts[order[b]].Values[i] })
			bins := min(4, len(ts))
			for r, k := range order {
				group[k] = r * bins / len(ts)
			}
			// Equal values share a bin.
			for r := 1; r < len(order); r++ {
				if ts[order[r]].Values[i] == ts[order[r-1]].Values[i] {
					group[order[r]] = group[order[r-1]]
				}
			}
		}
		gsum, gn := map[int]float64{}, map[int]float64{}
		for k, t := range ts {
			gsum[group[k]] += t.Value
			gn[group[k]]++
		}
		between := 0.0
		for g, n := range gn {
			m := gsum[g] / n
			between += n * (m - mean) * (m - mean)
		}
		out[i] = between / total
		sum += out[i]
	}
	if sum > 0 {
		for i := range out {
			out[i] /= sum
		}
	}
	return out
}

// importanceChart draws Importance as horizontal bars.
func importanceChart(st *Study) string {
	imp := Importance(st)
	h := padT + 28*len(imp) + padB
	s := newSVG(chartW, h, "Parameter importance")
	left := 220.0
	for i, p := range st.Spec.Params {
		y := float64(padT + 28*i)
		s.text(left-8, y+15, "end", p.Key)
		w := imp[i] * (chartW - padR - left - 50)
		fmt.Fprintf(&s.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="20" fill="#2c6fbb"/>`, left, y, w)
		s.text(left+w+6, y+15, "start", fmt.Sprintf("%.2f", imp[i]))
	}
	return s.String()
}

// WriteReport writes the study page to path.
func WriteReport(path string, st *Study) error {
	sp := st.Spec
	var b bytes.Buffer
	c := counts(st.Trials)
	b.WriteString(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>Study ` + html.EscapeString(filepath.Base(st.Dir)) + `</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}svg{display:block;margin:8px 0 24px}</style></head><body>`)
	fmt.Fprintf(&b, "<h1>Study: %s</h1>", html.EscapeString(st.Dir))
	dir := "minimise"
	if sp.Maximize {
		dir = "maximise"
	}
	fmt.Fprintf(&b, "<p>%s %s; sampler %s, pruner %s, seed %d; %d trials: %d complete, %d pruned, %d failed.</p>",
		dir, html.EscapeString(sp.Metric), sp.Sampler, sp.Pruner, sp.Seed, len(st.Trials), c[Complete], c[Pruned], c[Failed])
	if st.Best != nil {
		fmt.Fprintf(&b, "<p><b>Best: trial %d, %s = %.5g</b>, %s. Its artifact is in best/model.</p>", st.Best.Number, html.EscapeString(sp.Metric), st.Best.Value, html.EscapeString(paramsText(sp, st.Best)))
	}
	b.WriteString("<h2>Optimisation history</h2>" + historyChart(st))
	b.WriteString("<h2>Parallel coordinates</h2>" + parallelChart(st))
	b.WriteString("<h2>Parameter importance</h2><p>Share of the objective's variance explained by each parameter alone (correlation ratio η² over choices or quartile bins, normalised to sum to 1): a simpler estimate than fANOVA, which also credits interactions.</p>" + importanceChart(st))
	b.WriteString("<h2>Each parameter against the objective</h2>")
	for _, s := range sliceCharts(st) {
		b.WriteString(s)
	}
	b.WriteString("<h2>Trials</h2><table><tr><th>trial</th><th>state</th><th>" + html.EscapeString(sp.Metric) + "</th><th>epochs</th><th>seconds</th>")
	for _, p := range sp.Params {
		b.WriteString("<th>" + html.EscapeString(p.Key) + "</th>")
	}
	b.WriteString("</tr>")
	for _, t := range st.Trials {
		v := "-"
		if t.State == Complete {
			v = fmt.Sprintf("%.5g", t.Value)
		}
		fmt.Fprintf(&b, "<tr><td>%d</td><td>%s</td><td>%s</td><td>%d</td><td>%.1f</td>", t.Number, t.State, v, len(t.Steps), t.Seconds)
		for _, p := range sp.Params {
			b.WriteString("<td>" + html.EscapeString(valueText(t.Params[p.Key])) + "</td>")
		}
		if t.Error != "" {
			b.WriteString(`<td style="text-align:left">` + html.EscapeString(t.Error) + "</td>")
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</table></body></html>\n")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
