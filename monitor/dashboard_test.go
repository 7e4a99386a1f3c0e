package monitor

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"
)

// chromium returns the headless browser's path, or skips the test.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed (apt-get install chromium): dashboard browser test skipped")
	return ""
}

func headless(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=8000"}
	out, err := exec.CommandContext(ctx, bin, append(base, args...)...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return out
}

var shown = regexp.MustCompile(`data-model="toy" data-metric="([a-z_0-9]+)"(?: data-feature="([^"]+)")?(?: data-alert="([^"]+)")? data-value="([^"]*)"`)

// sampleOf finds the value of a shen_monitor_<name> sample whose labels
// include want (a "quantile" entry picks a summary's quantile).
func sampleOf(families map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := families["shen_monitor_"+name]
	if f == nil {
		return 0, false
	}
next:
	for _, mt := range f.Metric {
		have := map[string]string{}
		for _, l := range mt.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if k != "quantile" && have[k] != v {
				continue next
			}
		}
		switch {
		case mt.Counter != nil:
			return mt.Counter.GetValue(), true
		case mt.Gauge != nil:
			return mt.Gauge.GetValue(), true
		case mt.Summary != nil:
			for _, q := range mt.Summary.Quantile {
				if fmt.Sprint(q.GetQuantile()) == want["quantile"] {
					return q.GetValue(), true
				}
			}
		}
	}
	return 0, false
}

// TestDashboardInChromium loads the dashboard from a live server in
// headless Chromium, checks the numbers it shows against /metrics, and
// saves a screenshot (into $SHEN_DASHBOARD_SCREENSHOT when set).
func TestDashboardInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the headless Chromium dashboard test takes about 10 s")
	}
	bin := chromium(t)
	srv, m, _ := testServer(t, testConfig(""))
	rng := rand.New(rand.NewPCG(3, 3))
	reqs := send(t, m, rng, traffic{}, 1500, "calm")
	send(t, m, rng, traffic{shift: 1, scale: 1.5, missing: 0.4, newCat: 0.3}, 600, "shifted")
	m.Observe(Observation{Err: "timeout", Latency: 30 * time.Millisecond})
	n := 0
	for id, recs := range reqs {
		labels := []any{}
		for _, r := range recs {
			labels = append(labels, truth(rng, r))
		}
		if _, err := m.Feedback(id, labels); err != nil {
			t.Fatal(err)
		}
		if n++; n == 10 {
			break
		}
	}
	m.Flush()

	dom := headless(t, bin, "--dump-dom", srv.URL+"/")
	matches := shown.FindAllStringSubmatch(string(dom), -1)
	if len(matches) < 20 {
		t.Fatalf("the dashboard shows %d numbers; DOM:\n%s", len(matches), dom)
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(pmodel.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	metric := func(name string, want map[string]string) (float64, bool) { return sampleOf(families, name, want) }
	checked := 0
	for _, mt := range matches {
		name, feature, alert, raw := mt[1], mt[2], mt[3], mt[4]
		shownValue, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			t.Errorf("%s shows %q", name, raw)
			continue
		}
		labels := map[string]string{"model": "toy", "version": "1"}
		family := name
		switch {
		case feature != "":
			labels["feature"] = feature
		case alert != "":
			labels["alert"] = alert
		case name == "latency_p50" || name == "latency_p90" || name == "latency_p99":
			family, labels["quantile"] = "request_duration_seconds", map[string]string{"latency_p50": "0.5", "latency_p90": "0.9", "latency_p99": "0.99"}[name]
		case len(name) > 8 && name[:8] == "quality_":
			family, labels["metric"] = "quality", name[8:]
		case name == "throughput":
			continue // a rate over the last evaluation: not a /metrics series
		}
		want, ok := metric(family, labels)
		if feature == "prediction" {
			family = "prediction_drift_statistic"
			if name == "feature_drifted" {
				family = "prediction_drifted"
			}
			want, ok = metric(family, map[string]string{"model": "toy"})
		}
		if !ok {
			t.Errorf("the dashboard shows %s %v = %v, /metrics has no such series", name, labels, shownValue)
			continue
		}
		if math.Abs(shownValue-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("the dashboard shows %s %v = %v, /metrics says %v", name, labels, shownValue, want)
		}
		checked++
	}
	if checked < 20 {
		t.Errorf("only %d numbers checked against /metrics", checked)
	}
	for _, want := range []string{`data-alert="DataDrift" data-value="1"`, `data-feature="cat"`, "Drift: DATASET DRIFT", `data-metric="quality_accuracy"`} {
		if !regexp.MustCompile(regexp.QuoteMeta(want)).Match(dom) {
			t.Errorf("the dashboard lacks %s", want)
		}
	}

	dir := os.Getenv("SHEN_DASHBOARD_SCREENSHOT")
	if dir == "" {
		dir = t.TempDir()
	}
	shot := filepath.Join(dir, "dashboard.png")
	headless(t, bin, "--screenshot="+shot, "--window-size=1280,1500", "--hide-scrollbars", srv.URL+"/")
	if st, err := os.Stat(shot); err != nil || st.Size() < 10000 {
		t.Errorf("screenshot %s: %v", shot, err)
	}
	t.Logf("%d numbers match /metrics; screenshot %s", checked, shot)
}
