package train

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/shenml/shen/report"
)

// fakeClock advances only when told to.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestProgress(w *bytes.Buffer, epochs int, interactive bool) (*Progress, *fakeClock) {
	clk := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := NewProgress(w, epochs)
	p.Now = clk.Now
	p.Interactive = interactive
	return p, clk
}

func TestProgressPlainWriterIsNotInteractive(t *testing.T) {
	var buf bytes.Buffer
	if NewProgress(&buf, 3).Interactive {
		t.Fatal("a bytes.Buffer was taken for a terminal")
	}
}

func TestProgressPlainLog(t *testing.T) {
	var buf bytes.Buffer
	p, clk := newTestProgress(&buf, 10, false)
	p.StartEpoch(3, 100)
	for i := 0; i < 100; i++ {
		clk.Advance(500 * time.Millisecond) // 50 s per epoch, 64 samples a step
		p.Step(64, Stat{"loss", 1 / float64(i+1)}, Stat{"acc", 0.5})
	}
	p.EndEpoch(Stat{"loss", 0.1234}, Stat{"val_loss", 0.2345})
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	// 10% marks at 10..90 (each 5 s apart, above MinLogGap) plus the summary.
	if len(lines) != 10 {
		t.Fatalf("%d lines, want 10:\n%s", len(lines), buf.String())
	}
	if want := "epoch 3/10 step 10/100 (10%) loss 0.1000 acc 0.5000 128 samples/s ETA 0:45"; lines[0] != want {
		t.Errorf("first line\n got %q\nwant %q", lines[0], want)
	}
	if want := "epoch 3/10 done in 0:50 loss 0.1234 val_loss 0.2345 128 samples/s"; lines[9] != want {
		t.Errorf("summary\n got %q\nwant %q", lines[9], want)
	}
	if strings.ContainsAny(buf.String(), "\r\x1b") {
		t.Error("control characters in plain output")
	}
}

func TestProgressPlainThrottle(t *testing.T) {
	tests := []struct {
		name      string
		steps     int
		stepTime  time.Duration
		wantLines int
	}{
		{"short epoch prints only the summary", 1000, time.Millisecond, 1},
		{"long steps log at most each 10%", 20, 10 * time.Second, 10},
		{"unknown length logs every LogEvery", 0, time.Second, 1 + 100/30},
		{"slow epoch logs on LogEvery between marks", 10, 2 * time.Minute, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			p, clk := newTestProgress(&buf, 1, false)
			p.StartEpoch(1, tc.steps)
			n := tc.steps
			if n == 0 {
				n = 100
			}
			for range n {
				clk.Advance(tc.stepTime)
				p.Step(1)
			}
			p.EndEpoch()
			if got := strings.Count(buf.String(), "\n"); got != tc.wantLines {
				t.Errorf("%d lines, want %d:\n%s", got, tc.wantLines, buf.String())
			}
		})
	}
}

func TestProgressInteractive(t *testing.T) {
	var buf bytes.Buffer
	p, clk := newTestProgress(&buf, 10, true)
	p.Width = 200
	p.BarWidth = 10
	p.StartEpoch(3, 938)
	draws := 0
	for i := 1; i <= 512; i++ {
		clk.Advance(10 * time.Millisecond) // 100 Hz of steps
		before := buf.Len()
		p.Step(32, Stat{"loss", 0.1234}, Stat{"acc", 0.9712})
		if buf.Len() != before {
			draws++
		}
	}
	// 5.12 s of steps at <= 10 Hz redraws.
	if draws < 45 || draws > 52 {
		t.Errorf("%d redraws in 5.12 s, want about 51", draws)
	}
	out := buf.String()
	last := out[strings.LastIndex(out, "\r"):]
	want := "\repoch 3/10 [=====>    ] 510/938 loss 0.1234 acc 0.9712 3200 samples/s ETA 0:04\x1b[K"
	if last != want {
		t.Errorf("last redraw\n got %q\nwant %q", last, want)
	}
	buf.Reset()
	p.EndEpoch(Stat{"val_acc", 0.98})
	if got := buf.String(); got != "\repoch 3/10 done in 0:05 val_acc 0.9800 3200 samples/s\x1b[K\n" {
		t.Errorf("summary %q", got)
	}
}

func TestProgressInteractiveWidthAndClose(t *testing.T) {
	var buf bytes.Buffer
	p, clk := newTestProgress(&buf, 0, true)
	p.Width = 30
	p.StartEpoch(1, 0)
	clk.Advance(time.Second)
	p.Step(10, Stat{"loss", 123456789}, Stat{"lr", 1e-5})
	p.Close()
	out := buf.String()
	for _, line := range strings.Split(out, "\r") {
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\x1b[K")
		if len(line) > 29 {
			t.Errorf("line %q is wider than the terminal", line)
		}
	}
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("Close left the line open: %q", out)
	}
	if FormatStats(Stat{"loss", 123456789}, Stat{"lr", 1e-5}) != "loss 1.235e+08 lr 1.000e-05" {
		t.Errorf("FormatStats = %q", FormatStats(Stat{"loss", 123456789}, Stat{"lr", 1e-5}))
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0:00"},
		{12 * time.Second, "0:12"},
		{1499 * time.Millisecond, "0:01"},
		{61 * time.Second, "1:01"},
		{time.Hour + 2*time.Minute + 3*time.Second, "1:02:03"},
		{-time.Second, "0:00"},
	}
	for _, tc := range tests {
		if got := report.FormatDuration(tc.d); got != tc.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func BenchmarkProgressStep(b *testing.B) {
	var buf bytes.Buffer
	p := NewProgress(&buf, 1)
	p.Interactive = true
	p.StartEpoch(1, 1<<30)
	b.ReportAllocs()
	for b.Loop() {
		p.Step(64, Stat{"loss", 0.5}, Stat{"acc", 0.9})
	}
}
