package report

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/shenml/shen/metrics"
)

// ConfusionMatrixSVG renders cm as a heat map: rows are true classes,
// columns predicted classes, each cell shaded by its share of the row (the
// class's recall on the diagonal) and labelled with its count when there is
// room. Class names longer than 18 characters are shortened.
func ConfusionMatrixSVG(cm metrics.ConfusionMatrix, title string) []byte {
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
