package data

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestDetectDates(t *testing.T) {
	col := func(name string, v ...string) *Column { return &Column{Name: name, Type: Categorical, Cat: v} }
	f := &Frame{Columns: []*Column{
		col("iso", "2024-03-31", "", "2024-12-01"),
		col("stamp", "2024-03-31T14:05:00Z", "2024-04-01T00:00:00+02:00"),
		col("us", "3/31/2024", "12/1/2024"),
		col("eu", "31/3/2024", "1/12/2024"),
		col("dots", "31.3.2024", "1.12.2024"),
		col("words", "Mar 31 2024", "Dec 1 2024"),
		col("city", "Paris", "2024-03-31"),
		col("empty", "", ""),
		{Name: "n", Type: Numeric, Num: []float64{1, 2}},
	}}
	got := DetectDates(f)
	want := []string{"iso", "stamp", "us", "eu", "dots", "words"}
	if !slices.Equal(got, want) {
		t.Errorf("DetectDates = %v, want %v", got, want)
	}
	// Ambiguous slashes read month first; a day past 12 forces day first.
	if l := dateLayoutOf([]string{"1/2/2024", "3/4/2024"}); l != "1/2/2006" {
		t.Errorf("ambiguous layout %q", l)
	}
	if l := dateLayoutOf([]string{"1/2/2024", "13/4/2024"}); l != "2/1/2006" {
		t.Errorf("day-first layout %q", l)
	}
}

func TestDateFeaturesValues(t *testing.T) {
	f := &Frame{Source: "d.csv", Lines: []int{2, 3, 4, 5}, Columns: []*Column{
		{Name: "when", Type: Categorical, Cat: []string{"2024-01-01T00:00:00Z", "2024-07-01T18:00:00Z", "", "2023-12-31T06:00:00+05:00"}},
		{Name: "x", Type: Numeric, Num: []float64{1, 2, 3, 4}},
	}}
	p := NewPipeline(DateFeatures())
	p.AllowNaN = true
	if err := p.Fit(f); err != nil {
		t.Fatal(err)
	}
	wantNames := []string{"when_year", "when_month_sin", "when_month_cos", "when_dow_sin", "when_dow_cos", "when_doy_sin", "when_doy_cos", "when_hour_sin", "when_hour_cos", "x"}
	if !slices.Equal(p.Outputs(), wantNames) {
		t.Fatalf("outputs %v", p.Outputs())
	}
	m, err := p.TransformMatrix(f)
	if err != nil {
		t.Fatal(err)
	}
	near32 := func(a float32, b float64) bool { return math.Abs(float64(a)-b) < 1e-6 }
	// 2024-01-01 is a Monday, first day of the year, midnight.
	r := m[0]
	if !near32(r[1], 0) || !near32(r[2], 1) || !near32(r[3], math.Sin(2*math.Pi/7)) || !near32(r[5], 0) || !near32(r[6], 1) || !near32(r[7], 0) || !near32(r[8], 1) {
		t.Errorf("2024-01-01T00:00 features %v", r)
	}
	// 18:00 is three quarters of the day round: sin -1, cos 0.
	if !near32(m[1][7], -1) || !near32(m[1][8], 0) {
		t.Errorf("18:00 hour features %v", m[1][7:9])
	}
	// A missing date gives missing features.
	if !math.IsNaN(float64(m[2][0])) || !math.IsNaN(float64(m[2][5])) {
		t.Errorf("missing date features %v", m[2])
	}
	// Local time of an offset: 06:00 on 31 December in its own zone.
	if !near32(m[3][7], 1) || !near32(m[3][6], math.Cos(2*math.Pi*364/365)) {
		t.Errorf("offset time features %v", m[3])
	}
	// The fitted layout travels in the pipeline JSON; predict applies it
	// identically and names the line of a date in another layout.
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"kind":"dates"`) || !strings.Contains(string(b), `"layouts":["2006-01-02T15:04:05.999999999Z07:00"]`) {
		t.Errorf("pipeline JSON %s", b)
	}
	var q Pipeline
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	q.AllowNaN = true
	m2, err := q.TransformMatrix(f)
	if err != nil || !slices.EqualFunc(m, m2, func(a, b []float32) bool {
		return slices.EqualFunc(a, b, func(x, y float32) bool { return x == y || (x != x && y != y) })
	}) {
		t.Errorf("reloaded pipeline differs: %v", err)
	}
	bad := &Frame{Source: "new.csv", Lines: []int{2, 3}, Columns: []*Column{
		{Name: "when", Type: Categorical, Cat: []string{"2024-01-01T00:00:00Z", "01/02/2024"}},
		{Name: "x", Type: Numeric, Num: []float64{1, 2}},
	}}
	if _, err := q.TransformMatrix(bad); err == nil || !strings.Contains(err.Error(), "new.csv:3") || !strings.Contains(err.Error(), "layout") {
		t.Errorf("a date in another layout: %v", err)
	}
	// Mixed layouts name the first value out of step.
	mixed := &Frame{Source: "m.csv", Lines: []int{2, 3, 4}, Columns: []*Column{{Name: "d", Type: Categorical, Cat: []string{"2024-01-31", "2024-02-01", "31.1.2024"}}}}
	if err := NewPipeline(DateFeatures("d")).Fit(mixed); err == nil || !strings.Contains(err.Error(), "m.csv:4") || !strings.Contains(err.Error(), "one layout") {
		t.Errorf("fit on mixed layouts: %v", err)
	}
	// Fitting on a value that is no date names its line.
	g := &Frame{Source: "g.csv", Lines: []int{2, 3}, Columns: []*Column{{Name: "d", Type: Categorical, Cat: []string{"2024-01-01", "soon"}}}}
	if err := NewPipeline(DateFeatures("d")).Fit(g); err == nil || !strings.Contains(err.Error(), "g.csv:3") || !strings.Contains(err.Error(), `"soon"`) {
		t.Errorf("fit on a non-date: %v", err)
	}
}

// TestDateFeaturesHelpWeather fits the same linear regression on the
// committed daily weather table three ways: without the date, with the
// date one-hot encoded (what happened before: every day its own
// category), and with DateFeatures. Trained on 2021-2022, scored on 2023.
// Date features must cut the error to near the noise (2.0) and at least
// match a random forest given the date as numbers (weather_daily_rf.json,
// scikit-learn).
func TestDateFeaturesHelpWeather(t *testing.T) {
	f, err := ReadCSV(td("weather_daily.csv"), CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := DetectDates(f); !slices.Equal(got, []string{"date"}) {
		t.Fatalf("DetectDates = %v", got)
	}
	var tr, te []int
	for i, d := range f.Col("date").Cat {
		if d < "2023" {
			tr = append(tr, i)
		} else {
			te = append(te, i)
		}
	}
	y := f.Col("temp_max").Num
	x := f.Drop("temp_max")
	rmse := func(steps ...Step) float64 {
		p := NewPipeline(steps...)
		if err := p.Fit(x.Take(tr)); err != nil {
			t.Fatal(err)
		}
		xtr, _ := p.TransformMatrix(x.Take(tr))
		xte, err := p.TransformMatrix(x.Take(te))
		if err != nil {
			t.Fatal(err)
		}
		w := ridge(xtr, pick(y, tr), 1e-3)
		var se float64
		for k, row := range xte {
			d := predictLinear(w, row) - y[te[k]]
			se += d * d
		}
		return math.Sqrt(se / float64(len(te)))
	}
	without := rmse(DropColumns("date"), Standardize())
	onehot := math.Inf(1) // 730 one-hot columns: a few seconds of normal equations
	if !testing.Short() {
		onehot = rmse(OneHot("date"), Standardize("humidity", "wind"))
	}
	dates := rmse(DateFeatures("date"), Standardize("humidity", "wind"))
	var rf struct {
		With    float64 `json:"rf_rmse_with_dates"`
		Without float64 `json:"rf_rmse_without_dates"`
	}
	b, err := os.ReadFile(td("weather_daily_rf.json"))
	if err != nil || json.Unmarshal(b, &rf) != nil {
		t.Fatal(err)
	}
	t.Logf("2023 test RMSE of temp_max: linear without date %.3f, date one-hot %.3f, date features %.3f; random forest with date %.3f, without %.3f",
		without, onehot, dates, rf.With, rf.Without)
	if !(dates < 0.5*without && dates < 0.5*onehot) {
		t.Errorf("date features do not help: %.3f vs %.3f without and %.3f one-hot", dates, without, onehot)
	}
	if dates > rf.With*1.02 {
		t.Errorf("date features %.3f do not match the random forest's %.3f", dates, rf.With)
	}
}

func pick(v []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for k, i := range idx {
		out[k] = v[i]
	}
	return out
}

// ridge solves min |Xw + b - y|² + λ|w|² by the normal equations, the
// intercept unpenalised; it returns w with b last.
func ridge(x [][]float32, y []float64, lambda float64) []float64 {
	d := len(x[0]) + 1
	a := make([][]float64, d)
	for i := range a {
		a[i] = make([]float64, d+1)
	}
	row := make([]float64, d)
	for k, xr := range x {
		for j, v := range xr {
			row[j] = float64(v)
		}
		row[d-1] = 1
		for i := range d {
			for j := range d {
				a[i][j] += row[i] * row[j]
			}
			a[i][d] += row[i] * y[k]
		}
	}
	for i := range d - 1 {
		a[i][i] += lambda * float64(len(x))
	}
	// Gauss-Jordan with partial pivoting.
	for c := range d {
		p := c
		for r := c + 1; r < d; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		a[c], a[p] = a[p], a[c]
		for r := range d {
			if r != c && a[c][c] != 0 {
				f := a[r][c] / a[c][c]
				for j := c; j <= d; j++ {
					a[r][j] -= f * a[c][j]
				}
			}
		}
	}
	w := make([]float64, d)
	for i := range d {
		if a[i][i] != 0 {
			w[i] = a[i][d] / a[i][i]
		}
	}
	return w
}

func predictLinear(w []float64, x []float32) float64 {
	s := w[len(w)-1]
	for j, v := range x {
		s += w[j] * float64(v)
	}
	return s
}
