package data

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// DateLayouts are the date and datetime layouts (Go reference-time
// notation) that DetectDates and the DateFeatures step recognise, tried in
// this order: ISO 8601 first, then slashes month first (US) before day
// first, so a column whose every value also reads day first is read month
// first unless some value only fits day first (13/01/2024). Layouts with
// one-digit fields accept two digits too.
var DateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-1-2",
	"2006/1/2 15:04:05",
	"2006/1/2 15:04",
	"2006/1/2",
	"1/2/2006 15:04:05",
	"1/2/2006 15:04",
	"1/2/2006",
	"2/1/2006 15:04:05",
	"2/1/2006 15:04",
	"2/1/2006",
	"2.1.2006 15:04",
	"2.1.2006",
	"Jan 2 2006",
	"Jan 2, 2006",
	"January 2, 2006",
	"2 Jan 2006",
	"2 January 2006",
	"02-Jan-2006",
}

// dateLayoutOf returns the first of DateLayouts under which every
// non-missing value of v parses, or "" when none does (or there are no
// values).
func dateLayoutOf(v []string) string {
	first := -1
	for i, s := range v {
		if s != "" {
			first = i
			break
		}
	}
	if first < 0 {
		return ""
	}
next:
	for _, l := range DateLayouts {
		if _, err := time.Parse(l, v[first]); err != nil {
			continue
		}
		for _, s := range v[first+1:] {
			if s == "" {
				continue
			}
			if _, err := time.Parse(l, s); err != nil {
				continue next
			}
		}
		return l
	}
	return ""
}

// DetectDates returns the categorical columns of f whose every
// non-missing value is a date or datetime in one of DateLayouts: the
// columns to give DateFeatures rather than one-hot encode. It parses each
// value at most once per layout tried and stops at a column's first value
// that fits no layout.
func DetectDates(f *Frame) []string {
	var out []string
	for _, c := range f.Columns {
		if c.Type == Categorical && dateLayoutOf(c.Cat) != "" {
			out = append(out, c.Name)
		}
	}
	return out
}

// dateStep turns date columns into features (see DateFeatures).
type dateStep struct {
	Cols []string `json:"columns"`
	// Layouts holds each column's layout, fitted from DateLayouts.
	Layouts []string `json:"layouts"`
	// Hour says the column holds times of day (its layout has a clock).
	Hour []bool `json:"hour"`
	// YearMean and YearStd standardise the fractional year.
	YearMean []float64 `json:"year_mean"`
	YearStd  []float64 `json:"year_std"`
}

// DateFeatures replaces each named date column (every column DetectDates
// finds, when none is named) by numeric features a model can use, fitted
// on the training split and applied identically when predicting:
//
//	<col>_year                   the fractional year (2024.5 mid-2024), standardised
//	<col>_month_sin, _month_cos  the month on a circle (December next to January)
//	<col>_dow_sin, _dow_cos      the day of the week on a circle
//	<col>_doy_sin, _doy_cos      the day of the year on a circle (the season)
//	<col>_hour_sin, _hour_cos    the time of day on a circle, when the layout has a clock
//
// Fit picks each column's layout from DateLayouts (the first under which
// every training value parses; a value that fits none is an error naming
// its line). A value that does not fit the fitted layout when applying is
// an error naming its line; missing values give missing features (impute
// them with a later step, or set AllowNaN). Times with a zone offset are
// read in that zone: the season and the hour are the data's local ones.
// Place it before steps that take all categorical columns (OneHot,
// Ordinal), which would otherwise encode the dates as categories.
func DateFeatures(cols ...string) Step { return &dateStep{Cols: cols} }

func (s *dateStep) Kind() string { return "dates" }

func (s *dateStep) fit(f *Frame) error {
	if len(s.Cols) == 0 {
		s.Cols = DetectDates(f)
	}
	s.Layouts, s.Hour, s.YearMean, s.YearStd = nil, nil, nil, nil
	for _, name := range s.Cols {
		c, _, err := column(f, name, Categorical)
		if err != nil {
			return fmt.Errorf("dates: %w (dates are read as text)", err)
		}
		l := dateLayoutOf(c.Cat)
		if l == "" {
			return s.noLayout(f, c)
		}
		var sum, sq float64
		n := 0
		for _, v := range c.Cat {
			if v == "" {
				continue
			}
			t, _ := time.Parse(l, v)
			y := fracYear(t)
			sum += y
			sq += y * y
			n++
		}
		mean, std := 0.0, 1.0
		if n > 0 {
			mean = sum / float64(n)
			if v := sq/float64(n) - mean*mean; v > 1e-12 {
				std = math.Sqrt(v)
			}
		}
		s.Layouts = append(s.Layouts, l)
		s.Hour = append(s.Hour, strings.Contains(l, "15"))
		s.YearMean = append(s.YearMean, mean)
		s.YearStd = append(s.YearStd, std)
	}
	return nil
}

// noLayout reports the first value of c that no layout reads, with its
// line, or that c has no values.
func (s *dateStep) noLayout(f *Frame, c *Column) error {
	for i, v := range c.Cat {
		if v == "" {
			continue
		}
		ok := false
		for _, l := range DateLayouts {
			if _, err := time.Parse(l, v); err == nil {
				ok = true
				break
			}
		}
		if !ok {
			return Issue{File: f.name(), Line: f.line(i), Column: c.Name, Value: v,
				Msg: fmt.Sprintf("%s is not a date in any known layout (ISO 8601 such as 2024-03-31 or 2024-03-31T14:05:00Z, 3/31/2024, 31.3.2024, Mar 31 2024)", excerpt(v))}
		}
	}
	// Every value is a date, but no one layout reads them all: name the
	// first value the first value's layouts cannot read.
	first := -1
	for i, v := range c.Cat {
		if v == "" {
			continue
		}
		if first < 0 {
			first = i
			continue
		}
		fits := false
		for _, l := range DateLayouts {
			_, e1 := time.Parse(l, c.Cat[first])
			_, e2 := time.Parse(l, v)
			if e1 == nil && e2 == nil {
				fits = true
				break
			}
		}
		if !fits {
			return Issue{File: f.name(), Line: f.line(i), Column: c.Name, Value: v,
				Msg: fmt.Sprintf("%s is a date in another layout than %s (row %d); the column must use one layout", excerpt(v), excerpt(c.Cat[first]), first+1)}
		}
	}
	return fmt.Errorf("dates: column %q has no values to fit a date layout on", c.Name)
}

func (s *dateStep) check() error {
	if err := checkLens(len(s.Cols), "dates", len(s.Layouts), len(s.Hour), len(s.YearMean), len(s.YearStd)); err != nil {
		return err
	}
	for k, name := range s.Cols {
		if s.Layouts[k] == "" {
			return fmt.Errorf("column %q has no layout", name)
		}
		if !(s.YearStd[k] > 0) {
			return fmt.Errorf("column %q: year_std %v must be positive", name, s.YearStd[k])
		}
	}
	return checkFinite("dates", s.YearMean, s.YearStd)
}

// dateFeatureNames are the suffixes of a date column's outputs.
var dateFeatureNames = []string{"year", "month_sin", "month_cos", "dow_sin", "dow_cos", "doy_sin", "doy_cos", "hour_sin", "hour_cos"}

func (s *dateStep) apply(f *Frame) (*Frame, error) {
	repl := map[int][]*Column{}
	for k, name := range s.Cols {
		c, i, err := column(f, name, Categorical)
		if err != nil {
			return nil, err
		}
		nf := 7
		if s.Hour[k] {
			nf = 9
		}
		cols := make([]*Column, nf)
		for j := range cols {
			cols[j] = &Column{Name: name + "_" + dateFeatureNames[j], Type: Numeric, Num: make([]float64, len(c.Cat))}
		}
		for r, v := range c.Cat {
			if v == "" {
				for _, nc := range cols {
					nc.Num[r] = math.NaN()
				}
				continue
			}
			t, err := time.Parse(s.Layouts[k], v)
			if err != nil {
				return nil, Issue{File: f.name(), Line: f.line(r), Column: name, Value: v,
					Msg: fmt.Sprintf("%s does not fit the date layout %q fitted in training", excerpt(v), s.Layouts[k])}
			}
			feats := dateFeatures(t)
			feats[0] = (feats[0] - s.YearMean[k]) / s.YearStd[k]
			for j, nc := range cols {
				nc.Num[r] = feats[j]
			}
		}
		repl[i] = cols
	}
	return replaceColumns(f, repl)
}

// dateFeatures returns the fractional year and the cyclic encodings of t
// in dateFeatureNames order.
func dateFeatures(t time.Time) [9]float64 {
	days := float64(daysIn(t.Year()))
	month := 2 * math.Pi * float64(t.Month()-1) / 12
	dow := 2 * math.Pi * float64(t.Weekday()) / 7
	doy := 2 * math.Pi * float64(t.YearDay()-1) / days
	hour := 2 * math.Pi * (float64(t.Hour()) + float64(t.Minute())/60 + float64(t.Second())/3600) / 24
	return [9]float64{fracYear(t),
		math.Sin(month), math.Cos(month), math.Sin(dow), math.Cos(dow),
		math.Sin(doy), math.Cos(doy), math.Sin(hour), math.Cos(hour)}
}

// fracYear is the year plus the elapsed fraction of it.
func fracYear(t time.Time) float64 {
	return float64(t.Year()) + float64(t.YearDay()-1)/float64(daysIn(t.Year()))
}

func daysIn(y int) int {
	if (y%4 == 0 && y%100 != 0) || y%400 == 0 {
		return 366
	}
	return 365
}

// replaceColumns returns f with the column at each index of repl replaced
// by the columns it maps to, failing on a duplicate output name.
func replaceColumns(f *Frame, repl map[int][]*Column) (*Frame, error) {
	out := &Frame{Source: f.Source, Lines: f.Lines, Issues: f.Issues}
	seen := map[string]bool{}
	for i, c := range f.Columns {
		cols, ok := repl[i]
		if !ok {
			cols = []*Column{c}
		}
		for _, nc := range cols {
			if seen[nc.Name] {
				return nil, fmt.Errorf("output column %q already exists", nc.Name)
			}
			seen[nc.Name] = true
			out.Columns = append(out.Columns, nc)
		}
	}
	return out, nil
}
