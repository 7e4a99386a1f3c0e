package tune

import (
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"
)

// progress is the live status line: on a terminal one line rewritten in
// place at every event, elsewhere a line each time a trial ends.
type progress struct {
	w        io.Writer
	tty      bool
	start    time.Time
	limit    int
	finished int
}

func newProgress(w io.Writer, sp *Spec) *progress {
	p := &progress{w: w, start: time.Now(), limit: sp.Trials}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	return p
}

// counts tallies trials by state.
func counts(trials []*TrialRecord) map[State]int {
	c := map[State]int{}
	for _, t := range trials {
		c[t.State]++
	}
	return c
}

// update redraws the line (callers hold the study's lock).
func (p *progress) update(trials []*TrialRecord, best *TrialRecord, sp *Spec) {
	if p.w == nil {
		return
	}
	c := counts(trials)
	finished := c[Complete] + c[Pruned] + c[Failed]
	if !p.tty && finished == p.finished {
		return
	}
	p.finished = finished
	total := "?"
	if p.limit > 0 {
		total = fmt.Sprint(p.limit)
	}
	line := fmt.Sprintf("trials %d/%s: %d complete, %d pruned, %d failed, %d running | %s", finished, total, c[Complete], c[Pruned], c[Failed], c[Running], time.Since(p.start).Round(time.Second))
	if best != nil {
		line += fmt.Sprintf(" | best #%d %s=%.5g %s", best.Number, sp.Metric, best.Value, paramsText(sp, best))
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r\x1b[K%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
}

// note prints a message on its own line.
func (p *progress) note(msg string) {
	if p.w != nil {
		fmt.Fprintln(p.w, msg)
	}
}

// done ends the live line.
func (p *progress) done() {
	if p.w != nil && p.tty {
		fmt.Fprintln(p.w)
	}
}

// paramsText is a trial's values as {key: value, ...} in space order.
func paramsText(sp *Spec, t *TrialRecord) string {
	parts := make([]string, 0, len(sp.Params))
	for _, p := range sp.Params {
		parts = append(parts, p.Key+": "+valueText(t.Params[p.Key]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func valueText(v any) string {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return fmt.Sprint(int64(x))
		}
		return fmt.Sprintf("%.4g", x)
	case int64:
		return fmt.Sprint(x)
	case nil:
		return "-"
	}
	return yamlFlow(v)
}

// WriteTable prints the trials, best first, then the rest by number.
func WriteTable(w io.Writer, st *Study) {
	sp := st.Spec
	rows := append([]*TrialRecord(nil), st.Trials...)
	sort.SliceStable(rows, func(a, b int) bool {
		ra, rb := rank(rows[a], sp), rank(rows[b], sp)
		if ra != rb {
			return ra < rb
		}
		return rows[a].Number < rows[b].Number
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"trial", "state", sp.Metric, "epochs", "seconds"}
	for _, p := range sp.Params {
		head = append(head, p.Key)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, t := range rows {
		val := "-"
		if t.State == Complete {
			val = fmt.Sprintf("%.5g", t.Value)
		} else if len(t.Steps) > 0 && t.State == Pruned {
			val = fmt.Sprintf("(%.5g)", t.Steps[len(t.Steps)-1].Value)
		}
		cols := []string{fmt.Sprint(t.Number), string(t.State), val, fmt.Sprint(len(t.Steps)), fmt.Sprintf("%.1f", t.Seconds)}
		for _, p := range sp.Params {
			cols = append(cols, valueText(t.Params[p.Key]))
		}
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
	}
	tw.Flush()
	if st.Best != nil {
		fmt.Fprintf(w, "best: trial %d, %s %.5g, %s\n", st.Best.Number, sp.Metric, st.Best.Value, paramsText(sp, st.Best))
		fmt.Fprintf(w, "model: %s\n", st.Dir+"/"+BestDir+"/model")
	} else {
		fmt.Fprintln(w, "no trial completed")
	}
}

// rank orders complete trials by objective ahead of the others.
func rank(t *TrialRecord, sp *Spec) float64 {
	if t.State != Complete {
		return math.Inf(1)
	}
	if sp.Maximize {
		return -t.Value
	}
	return t.Value
}
