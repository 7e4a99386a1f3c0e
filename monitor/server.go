package monitor

import (
	"context"
	"math"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// ServerStats are a model version's request figures as the server itself
// counts them, over the last interval: they feed the error-rate and
// latency alerts when the server does not hand failed requests and
// latencies to Observe.
type ServerStats struct {
	Requests  uint64  `json:"requests"`   // since the server started
	Failures  uint64  `json:"failures"`   // since the server started
	ErrorRate float64 `json:"error_rate"` // over the last interval
	Latency   Latency `json:"latency"`    // over the last interval
}

// SetServerStats replaces the monitor's own request figures with the
// server's (see WatchServerMetrics).
func (m *Model) SetServerStats(s ServerStats) {
	m.server.Store(&s)
	m.serverDirty.Store(true) // evaluated at the next tick even without traffic
}

// ServerMetricNames names a server's Prometheus families, all labelled
// by "model" and "version".
type ServerMetricNames struct {
	Requests string // counter of requests
	Failures string // counter of failed requests
	Latency  string // histogram of request durations in seconds
}

// WatchServerMetrics reads the server's request metrics from g every
// interval until ctx ends and gives each monitored model version its
// figures over the interval (SetServerStats). Percentiles are
// interpolated within the histogram's buckets, as Prometheus's
// histogram_quantile does.
func (h *Hub) WatchServerMetrics(ctx context.Context, g prometheus.Gatherer, names ServerMetricNames, interval time.Duration) {
	type key struct{ model, version string }
	type totals struct {
		req, fail float64
		buckets   []*dto.Bucket
	}
	prev := map[key]totals{}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		fams, err := g.Gather()
		if err != nil {
			continue
		}
		cur := map[key]totals{}
		for _, f := range fams {
			for _, m := range f.Metric {
				k := key{}
				for _, l := range m.Label {
					switch l.GetName() {
					case "model":
						k.model = l.GetValue()
					case "version":
						k.version = l.GetValue()
					}
				}
				t := cur[k]
				switch f.GetName() {
				case names.Requests:
					t.req += m.GetCounter().GetValue()
				case names.Failures:
					t.fail += m.GetCounter().GetValue()
				case names.Latency:
					// Gather leaves out the +Inf bucket: it is the count.
					h := m.GetHistogram()
					inf, n := math.Inf(1), h.GetSampleCount()
					t.buckets = addBuckets(t.buckets, append(h.GetBucket(), &dto.Bucket{UpperBound: &inf, CumulativeCount: &n}))
				}
				cur[k] = t
			}
		}
		for k, t := range cur {
			mod := h.Get(k.model, k.version)
			if mod == nil || k.version == "" {
				continue
			}
			p := prev[k]
			if t.req == p.req && len(prev) > 0 {
				// No request since the last poll: no new evidence, so the
				// last error rate and latency stand (and alerts do not
				// clear merely because traffic paused).
				cur[k] = p
				continue
			}
			st := ServerStats{Requests: uint64(t.req), Failures: uint64(t.fail)}
			if dr := t.req - p.req; dr > 0 {
				st.ErrorRate = (t.fail - p.fail) / dr
			}
			delta := subBuckets(t.buckets, p.buckets)
			st.Latency = Latency{P50: bucketQuantile(0.5, delta), P90: bucketQuantile(0.9, delta), P99: bucketQuantile(0.99, delta)}
			mod.SetServerStats(st)
		}
		prev = cur
	}
}

// addBuckets sums cumulative histogram buckets of one family's series
// (protocols) by upper bound.
func addBuckets(acc []*dto.Bucket, bs []*dto.Bucket) []*dto.Bucket {
	for _, b := range bs {
		found := false
		for _, a := range acc {
			if a.GetUpperBound() == b.GetUpperBound() {
				c := a.GetCumulativeCount() + b.GetCumulativeCount()
				a.CumulativeCount = &c
				found = true
				break
			}
		}
		if !found {
			c, ub := b.GetCumulativeCount(), b.GetUpperBound()
			acc = append(acc, &dto.Bucket{CumulativeCount: &c, UpperBound: &ub})
		}
	}
	sort.Slice(acc, func(i, j int) bool { return acc[i].GetUpperBound() < acc[j].GetUpperBound() })
	return acc
}

// subBuckets is cur - prev per upper bound, as (bound, cumulative count).
func subBuckets(cur, prev []*dto.Bucket) [][2]float64 {
	out := make([][2]float64, 0, len(cur))
	for _, c := range cur {
		v := float64(c.GetCumulativeCount())
		for _, p := range prev {
			if p.GetUpperBound() == c.GetUpperBound() {
				v -= float64(p.GetCumulativeCount())
			}
		}
		out = append(out, [2]float64{c.GetUpperBound(), v})
	}
	return out
}

// bucketQuantile is Prometheus's histogram_quantile over cumulative
// buckets (bound, count): linear within the bucket holding the rank; the
// highest finite bound when the rank falls in +Inf; 0 with no samples.
func bucketQuantile(q float64, b [][2]float64) float64 {
	if len(b) == 0 {
		return 0
	}
	total := b[len(b)-1][1]
	if total <= 0 {
		return 0
	}
	rank := q * total
	lo, loCount := 0.0, 0.0
	for _, x := range b {
		if x[1] >= rank {
			if math.IsInf(x[0], 1) {
				return lo
			}
			if x[1] == loCount {
				return x[0]
			}
			return lo + (x[0]-lo)*(rank-loCount)/(x[1]-loCount)
		}
		lo, loCount = x[0], x[1]
	}
	return lo
}
