package report

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

	"github.com/shenml/shen/internal/safeio"
	"github.com/shenml/shen/metrics"
)

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
	Classification *metrics.ClassificationReport
	// Regression is the final regression evaluation, if any.
	Regression *metrics.RegressionReport
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
// safeio.WriteFileAtomic), so a reader never sees half a report.
func WriteReport(dir string, s RunSummary) error {
	s = s.withDefaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	loss, metric, cm := s.charts()
	withDecl := func(svg []byte) []byte { return append([]byte(xml.Header), svg...) }
	var html bytes.Buffer
	if err := reportTmpl.Execute(&html, s.view(loss, metric, cm)); err != nil {
		return fmt.Errorf("report: render report: %w", err)
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
		if err := safeio.WriteFileAtomic(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
