package monitor

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPromtoolChecksExposition runs Debian prometheus's `promtool check
// metrics` on the monitor's /metrics: it must report nothing.
func TestPromtoolChecksExposition(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (apt-get install prometheus): skipped")
	}
	srv, m, _ := testServer(t, testConfig(""))
	send(t, m, rand.New(rand.NewPCG(1, 1)), traffic{newCat: 0.1}, 1600, "r")
	m.Observe(Observation{Err: "bad_request"})
	m.Flush()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(string(body))
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestAlertmanagerForwardsAlerts feeds a real Alertmanager (Debian
// prometheus-alertmanager) through its POST /api/v2/alerts, and has it
// forward to a local webhook receiver: the messages Alertmanager sends
// decode as WebhookMessage (the format the monitor's own webhooks use),
// first firing, then resolved.
func TestAlertmanagerForwardsAlerts(t *testing.T) {
	am, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		if am, err = exec.LookPath("alertmanager"); err != nil {
			t.Skip("prometheus-alertmanager is not installed: skipped")
		}
	}
	if testing.Short() {
		t.Skip("-short: the Alertmanager test takes a few seconds")
	}
	hook := newReceiver(t)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`route:
  receiver: shen
  group_by: [alertname, model]
  group_wait: 200ms
  group_interval: 500ms
  repeat_interval: 1h
receivers:
  - name: shen
    webhook_configs:
      - url: %s
        send_resolved: true
`, hook.srv.URL)
	if err := os.WriteFile(filepath.Join(dir, "am.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, am, "--config.file="+filepath.Join(dir, "am.yml"), "--storage.path="+dir,
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()
	waitFor(t, "alertmanager to listen", func() bool {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})

	spec, prof := testArtifact()
	c := testConfig("")
	c.Webhooks = []Webhook{{URL: "http://" + addr + "/api/v2/alerts", Format: "alertmanager"}}
	m, err := NewModel("toy", "1", spec, prof, c, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rng := rand.New(rand.NewPCG(5, 6))
	send(t, m, rng, traffic{}, 1500, "calm")
	send(t, m, rng, traffic{shift: 1, scale: 1.5, missing: 0.4, newCat: 0.3}, 600, "shifted")
	waitFor(t, "Alertmanager to forward DataDrift firing", func() bool {
		return len(filter(hook.events(), "DataDrift")) >= 1
	})
	send(t, m, rng, traffic{}, 900, "calm-again")
	waitFor(t, "Alertmanager to forward DataDrift resolved", func() bool {
		return len(filter(hook.events(), "DataDrift")) >= 2
	})
	if got := filter(hook.events(), "DataDrift"); got[0] != "DataDrift firing" || got[len(got)-1] != "DataDrift resolved" {
		t.Errorf("Alertmanager forwarded %v", got)
	}
	hook.mu.Lock()
	defer hook.mu.Unlock()
	for _, msg := range hook.msgs {
		if msg.Version != "4" || msg.Receiver != "shen" || msg.GroupLabels["model"] != "toy" || len(msg.Alerts) == 0 || msg.Alerts[0].Fingerprint == "" {
			t.Errorf("Alertmanager's message %+v", msg)
			continue
		}
		// Our webhook messages fingerprint alerts as Alertmanager does.
		a := msg.Alerts[0]
		ours, err := (&alerter{model: "toy", version: "1"}).body(notification{rule: Rule{Name: a.Labels["alertname"], Metric: a.Labels["metric"], Severity: a.Labels["severity"]}, status: a.Status}, "webhook", "")
		if err != nil || !strings.Contains(string(ours), `"fingerprint":"`+a.Fingerprint+`"`) {
			t.Errorf("fingerprint: Alertmanager %s, ours %s", a.Fingerprint, ours)
		}
	}
}
