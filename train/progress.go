package train

import (
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shenml/shen/report"
	"golang.org/x/term"
)

// Stat is one named number shown on the progress line, such as the running
// loss or accuracy.
type Stat struct {
	// Name is printed before the value ("loss", "acc", "val_loss").
	Name string
	// Value is printed with 4 decimals (or in e-notation when tiny or huge).
	Value float64
}

// Progress reports epoch progress. On a terminal it redraws one line in
// place:
//
//	epoch 3/10 [=====>     ] 512/938 loss 0.1234 acc 0.9712 1234 samples/s ETA 0:12
//
// Elsewhere (CI logs, pipes, files) it prints plain lines, at most one per
// LogEvery or at each 10% of the epoch when at least MinLogGap has passed,
// and one summary line per epoch.
//
// Step is cheap enough to call every batch: it reads the clock and returns
// unless a redraw is due (at most RedrawEvery, 10 Hz by default). Write
// errors are ignored: progress is best-effort and never stops training.
// Set the exported fields before the first StartEpoch. A Progress is safe
// for concurrent use.
type Progress struct {
	// Epochs is the total number of epochs, shown as "epoch 3/10"; 0 hides
	// the total.
	Epochs int
	// Interactive selects in-place redraws; NewProgress sets it to whether
	// the writer is a terminal.
	Interactive bool
	// Width is the terminal width in columns for the interactive line (from
	// the terminal when NewProgress can ask, else 80).
	Width int
	// BarWidth is the number of cells in the bar (default 30).
	BarWidth int
	// RedrawEvery throttles interactive redraws (default 100ms).
	RedrawEvery time.Duration
	// LogEvery is the longest gap between plain log lines (default 30s).
	LogEvery time.Duration
	// MinLogGap is the shortest gap between plain log lines printed at the
	// 10% marks (default 2s), so short epochs print only their summary.
	MinLogGap time.Duration
	// Now is the clock (default time.Now); tests inject a fake one.
	Now func() time.Time

	mu       sync.Mutex
	w        io.Writer
	epoch    int
	steps    int // total steps this epoch; <= 0 means unknown
	step     int
	samples  int64
	start    time.Time
	lastDraw time.Time
	nextMark int // next 10% mark (1..9) for plain logs
	stats    []Stat
	drawn    bool // an interactive line is on screen
	buf      []byte
}

// NewProgress returns a Progress writing to w for a run of epochs epochs.
// It draws in place when w is an *os.File on a terminal.
func NewProgress(w io.Writer, epochs int) *Progress {
	p := &Progress{
		Epochs:      epochs,
		Width:       80,
		BarWidth:    30,
		RedrawEvery: 100 * time.Millisecond,
		LogEvery:    30 * time.Second,
		MinLogGap:   2 * time.Second,
		Now:         time.Now,
		w:           w,
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.Interactive = true
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			p.Width = cols
		}
	}
	return p
}

// StartEpoch begins epoch (1-based) of steps batches (steps <= 0 when the
// number is unknown, which hides the bar and the ETA).
func (p *Progress) StartEpoch(epoch, steps int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		p.buf = append(p.buf[:0], '\n')
		p.flush()
		p.drawn = false
	}
	p.epoch, p.steps, p.step, p.samples = epoch, steps, 0, 0
	p.start = p.now()
	p.lastDraw = p.start
	p.nextMark = 1
	p.stats = p.stats[:0]
	if p.Interactive {
		p.draw(p.start)
	}
}

// Step records one finished batch of samples samples and the stats to show
// (which replace the previous ones; pass running averages). It draws only
// when a redraw or log line is due.
func (p *Progress) Step(samples int, stats ...Stat) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.step++
	p.samples += int64(samples)
	p.setStats(stats)
	now := p.now()
	since := now.Sub(p.lastDraw)
	if p.Interactive {
		if since >= p.RedrawEvery || p.step == p.steps {
			p.draw(now)
		}
		return
	}
	due := since >= p.LogEvery
	if p.steps > 0 && p.nextMark <= 9 && p.step*10 >= p.nextMark*p.steps {
		for p.nextMark <= 9 && p.step*10 >= p.nextMark*p.steps {
			p.nextMark++
		}
		due = due || since >= p.MinLogGap
	}
	if due && p.step != p.steps {
		p.logLine(now)
	}
}

// EndEpoch finishes the epoch with a summary line holding the final stats
// (training and validation values alike), the epoch's time and throughput.
func (p *Progress) EndEpoch(stats ...Stat) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	elapsed := now.Sub(p.start)
	b := p.buf[:0]
	if p.Interactive {
		b = append(b, '\r')
	}
	b = p.appendEpoch(b)
	b = append(b, " done in "...)
	b = report.AppendDuration(b, elapsed)
	b = appendStats(b, stats)
	b = p.appendRate(b, elapsed)
	if p.Interactive {
		b = append(b, "\x1b[K"...)
	}
	p.buf = append(b, '\n')
	p.flush()
	p.drawn = false
}

// Close ends an interactive line left open (say, by an interrupted epoch).
func (p *Progress) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		p.buf = append(p.buf[:0], '\n')
		p.flush()
		p.drawn = false
	}
}

func (p *Progress) now() time.Time {
	if p.Now == nil {
		return time.Now()
	}
	return p.Now()
}

func (p *Progress) setStats(stats []Stat) {
	if len(stats) == 0 {
		return
	}
	p.stats = append(p.stats[:0], stats...)
}

func (p *Progress) flush() {
	if p.w != nil {
		_, _ = p.w.Write(p.buf)
	}
}

// draw redraws the interactive line.
func (p *Progress) draw(now time.Time) {
	p.lastDraw = now
	elapsed := now.Sub(p.start)
	b := append(p.buf[:0], '\r')
	b = p.appendEpoch(b)
	if p.steps > 0 {
		b = append(b, " ["...)
		b = appendBar(b, p.step, p.steps, max(p.BarWidth, 1))
		b = append(b, "] "...)
		b = strconv.AppendInt(b, int64(p.step), 10)
		b = append(b, '/')
		b = strconv.AppendInt(b, int64(p.steps), 10)
	} else {
		b = append(b, " step "...)
		b = strconv.AppendInt(b, int64(p.step), 10)
	}
	b = appendStats(b, p.stats)
	b = p.appendRate(b, elapsed)
	b = p.appendETA(b, elapsed)
	// Keep to one terminal row so that '\r' returns to its start.
	if w := p.Width - 1; w > 0 && len(b)-1 > w {
		b = b[:w+1]
	}
	p.buf = append(b, "\x1b[K"...)
	p.flush()
	p.drawn = true
}

// logLine prints a plain progress line.
func (p *Progress) logLine(now time.Time) {
	p.lastDraw = now
	elapsed := now.Sub(p.start)
	b := p.appendEpoch(p.buf[:0])
	b = append(b, " step "...)
	b = strconv.AppendInt(b, int64(p.step), 10)
	if p.steps > 0 {
		b = append(b, '/')
		b = strconv.AppendInt(b, int64(p.steps), 10)
		b = append(b, " ("...)
		b = strconv.AppendInt(b, int64(100*p.step/p.steps), 10)
		b = append(b, "%)"...)
	}
	b = appendStats(b, p.stats)
	b = p.appendRate(b, elapsed)
	b = p.appendETA(b, elapsed)
	p.buf = append(b, '\n')
	p.flush()
}

func (p *Progress) appendEpoch(b []byte) []byte {
	b = append(b, "epoch "...)
	b = strconv.AppendInt(b, int64(p.epoch), 10)
	if p.Epochs > 0 {
		b = append(b, '/')
		b = strconv.AppendInt(b, int64(p.Epochs), 10)
	}
	return b
}

func (p *Progress) appendRate(b []byte, elapsed time.Duration) []byte {
	if elapsed <= 0 || p.samples == 0 {
		return b
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(float64(p.samples)/elapsed.Seconds()+0.5), 10)
	return append(b, " samples/s"...)
}

func (p *Progress) appendETA(b []byte, elapsed time.Duration) []byte {
	if p.steps <= 0 || p.step == 0 || p.step >= p.steps {
		return b
	}
	eta := time.Duration(float64(elapsed) * float64(p.steps-p.step) / float64(p.step))
	b = append(b, " ETA "...)
	return report.AppendDuration(b, eta)
}

func appendBar(b []byte, step, steps, width int) []byte {
	filled := min(width*step/steps, width)
	for i := range width {
		switch {
		case i < filled:
			b = append(b, '=')
		case i == filled && step < steps:
			b = append(b, '>')
		default:
			b = append(b, ' ')
		}
	}
	return b
}

func appendStats(b []byte, stats []Stat) []byte {
	for _, s := range stats {
		b = append(b, ' ')
		b = append(b, s.Name...)
		b = append(b, ' ')
		b = appendStatValue(b, s.Value)
	}
	return b
}

func appendStatValue(b []byte, v float64) []byte {
	if a := max(v, -v); a != 0 && (a < 1e-3 || a >= 1e6) {
		return strconv.AppendFloat(b, v, 'e', 3, 64)
	}
	return strconv.AppendFloat(b, v, 'f', 4, 64)
}

// FormatStats formats stats as "name value name value", as the progress
// line does.
func FormatStats(stats ...Stat) string {
	return strings.TrimPrefix(string(appendStats(nil, stats)), " ")
}
