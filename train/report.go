package train

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
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
	pw, ph := float64(width)-left-right, float64(height)-top-bottom

	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	intX := true
	for _, s := range c.Series {
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
	ymin, ymax = ymin-pad, ymax+pad
	xt, xstep := niceTicks(xmin, xmax, 6)
	if intX && xstep < 1 {
		xt, xstep = nil, 1
		for v := math.Ceil(xmin); v <= xmax; v++ {
			xt = append(xt, v)
		}
	}
	yt, ystep := niceTicks(ymin, ymax, 5)
	px := func(x float64) float64 { return left + (x-xmin)/(xmax-xmin)*pw }
	py := func(y float64) float64 { return top + (ymax-y)/(ymax-ymin)*ph }

	var w svgWriter
	w.open(width, height)
	if c.Title != "" {
		w.label(float64(width)/2, 22, "middle", ` font-size="15" font-weight="bold"`, c.Title)
	}
	// Grid, ticks and tick labels.
	w.b.WriteString(`<g stroke="#e5e5e5" stroke-width="1">` + "\n")
	for _, v := range yt {
		w.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", left, py(v), left+pw, py(v))
	}
	for _, v := range xt {
		w.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", px(v), top, px(v), top+ph)
	}
	w.b.WriteString("</g>\n")
	w.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#333333"/>`+"\n", left, top, pw, ph)
	w.b.WriteString(`<g fill="#333333">` + "\n")
	for _, v := range yt {
		w.label(left-6, py(v)+4, "end", "", formatTick(v, ystep))
	}
	for _, v := range xt {
		w.label(px(v), top+ph+16, "middle", "", formatTick(v, xstep))
	}
	w.b.WriteString("</g>\n")
	if c.XLabel != "" {
		w.label(left+pw/2, float64(height)-12, "middle", "", c.XLabel)
	}
	if c.YLabel != "" {
		w.f(`<text x="0" y="0" text-anchor="middle" transform="translate(16 %.1f) rotate(-90)">`, top+ph/2)
		w.text(c.YLabel)
		w.b.WriteString("</text>\n")
	}
	// Lines and markers.
	for i, s := range c.Series {
		color := palette[i%len(palette)]
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
			fmt.Fprintf(&d, "%c%.2f %.2f ", cmd, px(s.X[j]), py(s.Y[j]))
			pen = true
		}
		if d.Len() > 0 {
			w.f(`<path d="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.TrimSpace(d.String()), color, dash)
		}
		if n <= 60 {
			w.f(`<g fill="%s">`+"\n", color)
			for j := range n {
				if finite(s.X[j]) && finite(s.Y[j]) {
					w.f(`<circle cx="%.2f" cy="%.2f" r="3"/>`+"\n", px(s.X[j]), py(s.Y[j]))
				}
			}
			w.b.WriteString("</g>\n")
		}
	}
	// Legend, inside the plot.
	if len(c.Series) > 0 {
		maxLen := 0
		for _, s := range c.Series {
			maxLen = max(maxLen, utf8.RuneCountInString(s.Name))
		}
		lw, lh := 40+7*float64(maxLen), 8+18*float64(len(c.Series))
		// Put the legend in the corner that hides the fewest points.
		lx, ly, best := 0.0, 0.0, -1
		for _, corner := range [][2]float64{{left + pw - lw - 8, top + 8}, {left + pw - lw - 8, top + ph - lh - 8}, {left + 8, top + 8}, {left + 8, top + ph - lh - 8}} {
			hidden := 0
			for _, s := range c.Series {
				for j := range min(len(s.X), len(s.Y)) {
					x, y := px(s.X[j]), py(s.Y[j])
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
		for i, s := range c.Series {
			y := ly + 16 + 18*float64(i)
			dash := ""
			if s.Dashed {
				dash = ` stroke-dasharray="6 4"`
			}
			w.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/>`+"\n", lx+6, y-4, lx+30, y-4, palette[i%len(palette)], dash)
			w.label(lx+36, y, "start", "", s.Name)
		}
	}
	w.b.WriteString("</svg>\n")
	return w.b.Bytes()
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

// ConfusionMatrixSVG renders cm as a heat map: rows are true classes,
// columns predicted classes, each cell shaded by its share of the row (the
// class's recall on the diagonal) and labelled with its count when there is
// room. Class names longer than 18 characters are shortened.
func ConfusionMatrixSVG(cm ConfusionMatrix, title string) []byte {
	k := len(cm.Counts)
	names := make([]string, k)
	maxLen := 1
	for i := range names {
		name := strconv.Itoa(i)
		if i < len(cm.Classes) {
			name = cm.Classes[i]
		}
		if utf8.RuneCountInString(name) > 18 {
			name = string([]rune(name)[:17]) + "…"
		}
		names[i] = name
		maxLen = max(maxLen, utf8.RuneCountInString(name))
	}
	cell := 56.0
	if k > 0 {
		cell = min(56, max(12, math.Floor(480/float64(k))))
	}
	nameW := 7*float64(maxLen) + 12
	rotate := maxLen*7 > int(cell)-4 // x labels need turning
	left, top := 40+nameW, 48.0
	bottomLabels := 24.0
	if rotate {
		bottomLabels = nameW*0.75 + 12
	}
	width := int(left + cell*float64(k) + 24)
	height := int(top + cell*float64(k) + bottomLabels + 30)
	width = max(width, 240)

	norm := cm.RowNormalized()
	var w svgWriter
	w.open(width, height)
	if title != "" {
		w.label(float64(width)/2, 24, "middle", ` font-size="15" font-weight="bold"`, title)
	}
	fontSize := min(12, cell/3)
	for t := range k {
		for p := range k {
			frac := 0.0
			if p < len(norm[t]) {
				frac = norm[t][p]
			}
			x, y := left+cell*float64(p), top+cell*float64(t)
			w.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" stroke="#ffffff"><title>`, x, y, cell, cell, blues(frac))
			w.text(fmt.Sprintf("true %s, predicted %s: %d (%.1f%% of %s)", names[t], names[p], cm.Counts[t][p], 100*frac, names[t]))
			w.b.WriteString("</title></rect>\n")
			if cell >= 18 {
				fill := "#222222"
				if frac > 0.5 {
					fill = "#ffffff"
				}
				w.label(x+cell/2, y+cell/2+fontSize/3, "middle", fmt.Sprintf(` font-size="%.0f" fill="%s"`, fontSize, fill), strconv.FormatInt(cm.Counts[t][p], 10))
			}
		}
	}
	w.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#333333"/>`+"\n", left, top, cell*float64(k), cell*float64(k))
	for i, name := range names {
		c := cell*float64(i) + cell/2
		w.label(left-6, top+c+4, "end", "", name)
		if rotate {
			x, y := left+c, top+cell*float64(k)+10
			w.f(`<text x="0" y="0" text-anchor="end" transform="translate(%.1f %.1f) rotate(-45)">`, x+4, y)
			w.text(name)
			w.b.WriteString("</text>\n")
		} else {
			w.label(left+c, top+cell*float64(k)+16, "middle", "", name)
		}
	}
	w.label(left+cell*float64(k)/2, float64(height)-10, "middle", ` font-weight="bold"`, "Predicted")
	w.f(`<text x="0" y="0" text-anchor="middle" font-weight="bold" transform="translate(16 %.1f) rotate(-90)">True</text>`+"\n", top+cell*float64(k)/2)
	w.b.WriteString("</svg>\n")
	return w.b.Bytes()
}

// blues maps 0..1 to a white-to-dark-blue ramp.
func blues(v float64) string {
	v = min(max(v, 0), 1)
	lo, hi := [3]float64{247, 251, 255}, [3]float64{8, 48, 107}
	var c [3]int
	for i := range c {
		c[i] = int(math.Round(lo[i] + (hi[i]-lo[i])*v))
	}
	return fmt.Sprintf("#%02x%02x%02x", c[0], c[1], c[2])
}

// RunSummary is what the HTML report shows.
type RunSummary struct {
	// Title heads the page (default "Training report").
	Title string
	// Config holds the settings worth showing (model, optimizer, lr, batch
	// size, seed, config hash, ...), listed sorted by key.
	Config map[string]string
	// Dataset holds the number of samples per split.
	Dataset map[string]int
	// Records is the run log (see ReadRunLog), for the curves and the final
	// metrics table.
	Records []Record
	// Metric is the Records metric drawn beside the loss (default
	// "accuracy").
	Metric string
	// EvalSplit names the split Classification and Regression were
	// computed on (default "val").
	EvalSplit string
	// Classification is the final classification evaluation, if any: its
	// per-class table and confusion matrix are shown.
	Classification *ClassificationReport
	// Regression is the final regression evaluation, if any.
	Regression *RegressionReport
	// Started is when training began.
	Started time.Time
	// TrainingTime is the wall time of training.
	TrainingTime time.Duration
}

// Report file names written by WriteReport.
const (
	ReportHTML             = "report.html"
	LossCurveSVG           = "loss.svg"
	MetricCurveSVG         = "metric.svg"
	ConfusionMatrixSVGFile = "confusion_matrix.svg"
)

type reportRow struct {
	Split  string
	Epoch  int
	Loss   string
	Values []string
}

type reportView struct {
	RunSummary
	ConfigKeys  []string
	Splits      []string
	MetricNames []string
	Final       []reportRow
	LossSVG     template.HTML
	MetricSVG   template.HTML
	CMSVG       template.HTML
	Generated   string
	Duration    string
}

func (s RunSummary) withDefaults() RunSummary {
	if s.Title == "" {
		s.Title = "Training report"
	}
	if s.Metric == "" {
		s.Metric = "accuracy"
	}
	if s.EvalSplit == "" {
		s.EvalSplit = SplitVal
	}
	return s
}

// charts returns the three SVGs (the confusion matrix nil without a
// classification report).
func (s RunSummary) charts() (loss, metric, cm []byte) {
	lc, mc := LearningCurves(s.Records, s.Metric)
	loss, metric = lc.SVG(), mc.SVG()
	if s.Classification != nil {
		cm = ConfusionMatrixSVG(s.Classification.Confusion, "Confusion matrix ("+s.EvalSplit+")")
	}
	return
}

func (s RunSummary) view(loss, metric, cm []byte) reportView {
	v := reportView{RunSummary: s, LossSVG: template.HTML(loss), MetricSVG: template.HTML(metric), CMSVG: template.HTML(cm)}
	for k := range s.Config {
		v.ConfigKeys = append(v.ConfigKeys, k)
	}
	slices.Sort(v.ConfigKeys)
	for k := range s.Dataset {
		v.Splits = append(v.Splits, k)
	}
	order := map[string]int{SplitTrain: 0, SplitVal: 1, SplitTest: 2}
	slices.SortFunc(v.Splits, func(a, b string) int {
		oa, ok := order[a]
		if !ok {
			oa = 3
		}
		ob, ok := order[b]
		if !ok {
			ob = 3
		}
		if oa != ob {
			return oa - ob
		}
		return strings.Compare(a, b)
	})
	// Final metrics: the last record of each split.
	names := map[string]bool{}
	var lasts []Record
	for _, split := range splitsOf(s.Records) {
		r, _ := LastRecord(s.Records, split)
		lasts = append(lasts, r)
		for k := range r.Metrics {
			names[k] = true
		}
	}
	for k := range names {
		v.MetricNames = append(v.MetricNames, k)
	}
	slices.Sort(v.MetricNames)
	for _, r := range lasts {
		row := reportRow{Split: r.Split, Epoch: r.Epoch, Loss: formatNum(r.Loss)}
		for _, k := range v.MetricNames {
			if x, ok := r.Metrics[k]; ok {
				row.Values = append(row.Values, formatNum(x))
			} else {
				row.Values = append(row.Values, "–")
			}
		}
		v.Final = append(v.Final, row)
	}
	v.Generated = time.Now().UTC().Format(time.RFC3339)
	if s.TrainingTime > 0 {
		v.Duration = FormatDuration(s.TrainingTime)
	}
	return v
}

func formatNum(v float64) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	if a := math.Abs(v); a < 1e-3 || a >= 1e6 {
		return strconv.FormatFloat(v, 'e', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"num": formatNum,
	"auc": func(p *float64) string {
		if p == nil {
			return "–"
		}
		return formatNum(*p)
	},
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; max-width: 1400px; margin: 24px auto; padding: 0 16px; color: #222; }
h1 { margin-bottom: 4px; } .sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 8px 0 20px; font-size: 14px; }
th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
.row { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
svg { max-width: 100%; height: auto; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="sub">{{if not .Started.IsZero}}started {{.Started.Format "2006-01-02 15:04:05 MST"}} · {{end}}{{if .Duration}}training time {{.Duration}} · {{end}}generated {{.Generated}}</p>
<div class="row">
{{if .ConfigKeys}}<div><h2>Configuration</h2>
<table>{{range .ConfigKeys}}<tr><th>{{.}}</th><td>{{index $.Config .}}</td></tr>
{{end}}</table></div>{{end}}
{{if .Splits}}<div><h2>Dataset</h2>
<table><tr><th>split</th><th>samples</th></tr>
{{range .Splits}}<tr><td>{{.}}</td><td>{{index $.Dataset .}}</td></tr>
{{end}}</table></div>{{end}}
{{if .Final}}<div><h2>Final metrics</h2>
<table><tr><th>split</th><th>epoch</th><th>loss</th>{{range .MetricNames}}<th>{{.}}</th>{{end}}</tr>
{{range .Final}}<tr><td>{{.Split}}</td><td>{{if .Epoch}}{{.Epoch}}{{else}}–{{end}}</td><td>{{.Loss}}</td>{{range .Values}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table></div>{{end}}
</div>
<h2>Learning curves</h2>
<div class="row">{{.LossSVG}}{{.MetricSVG}}</div>
{{with .Classification}}<h2>Evaluation on {{$.EvalSplit}} ({{.Samples}} samples)</h2>
<table><tr><th>accuracy</th><th>macro F1</th><th>weighted F1</th><th>log loss</th><th>ROC AUC</th></tr>
<tr><td>{{num .Accuracy}}</td><td>{{num .MacroF1}}</td><td>{{num .WeightedF1}}</td><td>{{auc .LogLoss}}</td><td>{{auc .ROCAUC}}</td></tr></table>
<div class="row"><div>
<h3>Per class</h3>
<table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th><th>ROC AUC</th></tr>
{{range .PerClass}}<tr><td>{{.Class}}</td><td>{{num .Precision}}</td><td>{{num .Recall}}</td><td>{{num .F1}}</td><td>{{.Support}}</td><td>{{auc .AUC}}</td></tr>
{{end}}<tr><th>macro avg</th><td>{{num .MacroPrecision}}</td><td>{{num .MacroRecall}}</td><td>{{num .MacroF1}}</td><td>{{.Samples}}</td><td></td></tr>
<tr><th>weighted avg</th><td>{{num .WeightedPrecision}}</td><td>{{num .WeightedRecall}}</td><td>{{num .WeightedF1}}</td><td>{{.Samples}}</td><td></td></tr>
</table></div>
<div><h3>Confusion matrix</h3>{{$.CMSVG}}</div></div>{{end}}
{{with .Regression}}<h2>Evaluation on {{$.EvalSplit}} ({{.Samples}} samples)</h2>
<table><tr><th>MAE</th><th>MSE</th><th>RMSE</th><th>R²</th></tr>
<tr><td>{{num .MAE}}</td><td>{{num .MSE}}</td><td>{{num .RMSE}}</td><td>{{num .R2}}</td></tr></table>{{end}}
</body>
</html>
`))

// RenderReport writes the one-page HTML report of s to w, with its charts
// inline.
func RenderReport(w io.Writer, s RunSummary) error {
	s = s.withDefaults()
	return reportTmpl.Execute(w, s.view(s.charts()))
}

// WriteReport writes report.html and the standalone charts loss.svg,
// metric.svg and (with a classification report) confusion_matrix.svg into
// dir, creating dir if needed. Each file is written atomically (see
// WriteFileAtomic), so a reader never sees half a report.
func WriteReport(dir string, s RunSummary) error {
	s = s.withDefaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	loss, metric, cm := s.charts()
	withDecl := func(svg []byte) []byte { return append([]byte(xml.Header), svg...) }
	var html bytes.Buffer
	if err := reportTmpl.Execute(&html, s.view(loss, metric, cm)); err != nil {
		return fmt.Errorf("train: render report: %w", err)
	}
	type file struct {
		name string
		data []byte
	}
	files := []file{{LossCurveSVG, withDecl(loss)}, {MetricCurveSVG, withDecl(metric)}}
	if cm != nil {
		files = append(files, file{ConfusionMatrixSVGFile, withDecl(cm)})
	}
	files = append(files, file{ReportHTML, html.Bytes()})
	for _, f := range files {
		if err := WriteFileAtomic(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory, synced and then renamed over path, so that readers and crashes
// see either the old file or the whole new one.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		os.Remove(name)
		return fmt.Errorf("train: write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return fmt.Errorf("train: write %s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return fmt.Errorf("train: write %s: %w", path, err)
	}
	// Sync the directory so the rename itself survives a crash.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
