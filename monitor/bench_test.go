package monitor

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// BenchmarkObserve is the whole cost of monitoring per row: Observe on
// the request's goroutine plus, on the monitor's goroutine, the window
// update, the counters and the drift evaluation every 500 rows (window 500,
// 4 features), all included in ns/row and allocs/op because the benchmark
// waits for the monitor to finish (Flush) before it stops the clock.
func BenchmarkObserve(b *testing.B) {
	spec, prof := testArtifact()
	for _, rows := range []int{1, 32} {
		b.Run(fmt.Sprintf("rows%d", rows), func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Queue = 1 << 16
			m, err := NewModel("toy", "1", spec, prof, cfg, Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			rng := rand.New(rand.NewPCG(1, 1))
			const distinct = 4096
			reqs := make([]Observation, distinct)
			for i := range reqs {
				recs := traffic{missing: 0.05}.rows(rng, rows)
				reqs[i] = Observation{RequestID: strconv.Itoa(i), Rows: rows, Records: recs, Class: toyPredict(recs)}
			}
			for i := range distinct { // warm the window, the pending map and the scratch
				m.Observe(reqs[i])
			}
			m.Flush()
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				for !m.Observe(reqs[i%distinct]) {
					m.Flush()
				}
			}
			m.Flush() // timed: the monitor's own work is the cost
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*rows), "ns/row")
		})
	}
}

// BenchmarkEvaluate is one drift evaluation of a full 500-row window.
func BenchmarkEvaluate(b *testing.B) {
	spec, prof := testArtifact()
	m, err := NewModel("toy", "1", spec, prof, DefaultConfig(), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	rng := rand.New(rand.NewPCG(1, 1))
	recs := traffic{}.rows(rng, 500)
	m.Observe(Observation{Rows: 500, Records: recs, Class: toyPredict(recs)})
	m.Flush()
	b.ReportAllocs()
	for b.Loop() {
		m.Flush() // one evaluation
	}
}
