package monitor

import (
	"fmt"
	"html/template"
	"io"
	"strings"
)

// BarsSVG draws a feature's reference and current shares side by side,
// one pair of bars per bin or category: an inline SVG, no script.
func BarsSVG(f *FeatureDrift) template.HTML {
	const w, h, left, bottom, top = 560.0, 200.0, 40.0, 40.0, 10.0
	n := len(f.Shares)
	if n == 0 || len(f.RefShares) != n {
		return ""
	}
	peak := 0.0
	for i := range n {
		peak = max(peak, finite(f.Shares[i]), finite(f.RefShares[i]))
	}
	if peak == 0 {
		peak = 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="%s: reference and current distribution">`, w, h, w, h, template.HTMLEscapeString(f.Feature))
	plotW, plotH := w-left-10, h-bottom-top
	fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="#888"/>`, left, top+plotH, left+plotW, top+plotH)
	for _, t := range []float64{0, 0.5, 1} {
		y := top + plotH*(1-t)
		fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="10" text-anchor="end" fill="#555">%.0f%%</text>`, left-4, y+3, 100*peak*t)
	}
	slot := plotW / float64(n)
	bw := slot * 0.4
	for i := range n {
		x := left + slot*float64(i) + slot*0.1
		for j, v := range []float64{f.RefShares[i], f.Shares[i]} {
			bh := plotH * finite(v) / peak
			color := "#9aa5b1"
			if j == 1 {
				color = "#d9534f"
				if !f.Drifted {
					color = "#3b82c4"
				}
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %.1f%%</title></rect>`,
				x+float64(j)*bw, top+plotH-bh, bw, bh, color, template.HTMLEscapeString(binLabel(f, i)), []string{"reference", "current"}[j], 100*v)
		}
		if n <= 12 || i%((n+11)/12) == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%g" font-size="9" text-anchor="middle" fill="#555">%s</text>`, x+bw, top+plotH+12, template.HTMLEscapeString(binLabel(f, i)))
		}
	}
	fmt.Fprintf(&b, `<rect x="%g" y="%g" width="10" height="10" fill="#9aa5b1"/><text x="%g" y="%g" font-size="10">reference</text>`, left, h-14, left+14, h-5)
	fmt.Fprintf(&b, `<rect x="%g" y="%g" width="10" height="10" fill="#3b82c4"/><text x="%g" y="%g" font-size="10">current</text>`, left+90, h-14, left+104, h-5)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// binLabel names bin i: a category, or the bin's left edge.
func binLabel(f *FeatureDrift, i int) string {
	if i < len(f.Bins) {
		return f.Bins[i]
	}
	if i < len(f.Edges) {
		return fmt.Sprintf("%.3g", f.Edges[i])
	}
	return fmt.Sprint(i)
}

var reportPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"bars": BarsSVG, "pct": func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) },
	"num":  func(v float64) string { return fmt.Sprintf("%.4g", v) },
	"test": func(m string) bool { return m == "ks" || m == "chisquare" },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drift report: {{.Current}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:1rem 0}td,th{padding:.3rem .7rem;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}.drift{color:#c9302c;font-weight:600}.ok{color:#2e7d32}
.feature{display:inline-block;margin:1rem 1rem 0 0;vertical-align:top}h3{margin:.2rem 0;font-size:1rem}
</style></head><body>
<h1>Drift report</h1>
<p>Reference <code>{{.Reference}}</code><br>Current <code>{{.Current}}</code>, {{.Drift.Rows}} rows</p>
<p class="{{if .Drift.Dataset.Dataset}}drift{{else}}ok{{end}}" id="verdict">{{.Drift.Dataset.Drifted}} of {{.Drift.Dataset.Features}} features drifted ({{pct .Drift.Dataset.Share}}):
{{if .Drift.Dataset.Dataset}}dataset drift{{else}}no dataset drift{{end}}</p>
<table><tr><th>feature</th><th>kind</th><th>method</th><th>statistic</th><th>p-value</th><th>threshold</th><th>PSI</th><th>missing</th><th>ref. missing</th><th>unseen</th><th>drift</th></tr>
{{range .Drift.Features}}<tr><td>{{.Feature}}</td><td>{{.Kind}}</td><td>{{.Method}}</td><td>{{num .Statistic}}</td><td>{{if test .Method}}{{num .PValue}}{{else}}-{{end}}</td>
<td>{{num .Threshold}}</td><td>{{num .PSI}}</td><td>{{pct .MissingRate}}</td><td>{{pct .RefMissingRate}}</td><td>{{if eq .Kind "categorical"}}{{pct .UnseenRate}}{{else}}-{{end}}</td>
<td class="{{if .Any}}drift{{else}}ok{{end}}">{{if .Drifted}}drift{{else if .MissingDrifted}}missing{{else if .UnseenDrifted}}unseen{{else}}no{{end}}</td></tr>
{{end}}</table>
{{range .Drift.Features}}<div class="feature"><h3>{{.Feature}} <small>({{.Method}} {{num .Statistic}})</small></h3>{{bars .}}</div>
{{end}}
<p><small>Numeric features: Kolmogorov-Smirnov test up to 1000 rows, Wasserstein distance over the reference standard deviation beyond;
categorical: chi-squared test up to 1000 rows, Jensen-Shannon distance beyond; thresholds p &lt; 0.05, 0.1, 0.1 by default.
The reference distribution is rebuilt from the profile's histogram and quantiles.</small></p>
</body></html>
`))

// WriteHTML writes the report as a self-contained HTML page: a table of
// every feature's statistics and an SVG chart of its reference and
// current distributions. No script, no outside resource.
func (r *Report) WriteHTML(w io.Writer) error { return reportPage.Execute(w, r) }
