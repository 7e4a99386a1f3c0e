package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/shenml/shen/serve"
	"github.com/shenml/shen/train"
)

// processCPU is the user and system CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkServeMonitoring serves 5-row iris V1 requests through `shen
// serve`'s handler (no network) from parallel clients, without and with
// --monitor. cpu-ns/op is the whole process's CPU time per request (every
// goroutine: handlers, batcher, observer, monitor, the monitor's queue
// drained before the clock stops), which unlike rows/s does not depend on
// what else a shared machine runs: its difference is monitoring's cost.
func BenchmarkServeMonitoring(b *testing.B) {
	cfg, err := train.LoadConfig(filepath.Join("..", "..", "testdata", "configs", "iris.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	res, err := train.Run(context.Background(), cfg, filepath.Join(b.TempDir(), "iris"), train.RunOptions{})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"instances":[{"f0":5.1,"f1":3.5,"f2":1.4,"f3":0.2},{"f0":6.7,"f1":3.0,"f2":5.2,"f3":2.3},` +
		`{"f0":5.9,"f1":3.0,"f2":4.2,"f3":1.5},{"f0":4.6,"f1":3.1,"f2":1.5,"f3":0.2},{"f0":6.3,"f1":2.9,"f2":5.6,"f3":1.8}]}`)
	for _, on := range []bool{false, true} {
		name := map[bool]string{false: "off", true: "on"}[on]
		b.Run(name, func(b *testing.B) {
			_, f := newServeCmd()
			f.model, f.name, f.monitor, f.httpPort, f.grpcPort, f.logLevel = res.ModelDir, "iris", on, 0, -1, "error"
			opts, err := f.options()
			if err != nil {
				b.Fatal(err)
			}
			s, err := serve.New(opts)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Repository().Scan(); err != nil {
				b.Fatal(err)
			}
			defer s.Repository().Unload("iris")
			h := s.Handler()
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/models/iris:predict", bytes.NewReader(body)))
					if rec.Code != 200 {
						b.Fatalf("%d %s", rec.Code, rec.Body)
					}
				}
			})
			if on {
				m := opts.Observer.(*serveMonitor).hub.Get("iris", "1")
				if m == nil {
					b.Fatal("the version is not monitored")
				}
				// Until the server's observer queue is empty too: the rows
				// monitored stop growing.
				for prev := uint64(1 << 63); ; time.Sleep(5 * time.Millisecond) {
					m.Flush()
					if r := m.Snapshot().Rows; r != prev {
						prev = r
						continue
					}
					break
				}
			}
			b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(5*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
