package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	pmodel "github.com/prometheus/common/model"
)

// Rule is one alert: it fires when Metric compares with Threshold by Op
// for For evaluations in a row, and resolves once the metric passes Clear
// the other way (hysteresis: with Op ">" it resolves below Clear, so a
// value hovering at the threshold does not flap): with Op ">" or ">="
// it resolves once the metric is at or below Clear, with "<" or "<=" at
// or above it. Metrics a rule can watch:
//
//	drift_share          share of input features drifted in the window
//	dataset_drift        1 when drift_share reached drift.dataset_share
//	prediction_drift     1 when the predicted classes drifted
//	accuracy, f1         online quality of a classifier (f1: of Classes[1]
//	                     for two classes, macro otherwise)
//	mae, rmse            online quality of a regressor
//	quality_drop         validation metric minus online one (accuracy, or
//	                     for regressors (rmse - val_rmse) / val_rmse)
//	error_rate           failed share of the recent requests
//	latency_p99_seconds  99th percentile latency of the recent requests
//	latency_p50_seconds  median latency
//	feature_drift:NAME   1 when input feature NAME drifted (values, missing
//	                     or unseen rate), e.g. feature_drift:income
//
// A metric with no value yet (no feedback, too few rows) leaves the rule
// as it is. The drift metrics (drift_share, dataset_drift,
// prediction_drift) reach the rules only from evaluations of fresh
// windows, a whole window of rows after the previous one, so For counts
// independent windows: each window's tests raise a false alarm at their
// p_value, two disjoint windows in a row at about its square.
type Rule struct {
	Name      string   `yaml:"name" json:"name"`
	Metric    string   `yaml:"metric" json:"metric"`
	Op        string   `yaml:"op" json:"op"` // ">", ">=", "<", "<="
	Threshold float64  `yaml:"threshold" json:"threshold"`
	Clear     *float64 `yaml:"clear" json:"clear,omitempty"` // nil: Threshold
	For       int      `yaml:"for" json:"for"`               // 0 counts as 1
	Severity  string   `yaml:"severity" json:"severity"`
	Summary   string   `yaml:"summary" json:"summary"`
}

// RuleMetrics lists the metric names rules can watch.
var RuleMetrics = []string{"drift_share", "dataset_drift", "prediction_drift", "accuracy", "f1",
	"mae", "rmse", "quality_drop", "error_rate", "latency_p99_seconds", "latency_p50_seconds"}

func (r *Rule) check() error {
	switch {
	case r.Name == "":
		return errors.New("name is empty")
	case !oneOf(r.Metric, RuleMetrics...) && !(strings.HasPrefix(r.Metric, "feature_drift:") && len(r.Metric) > len("feature_drift:")):
		return fmt.Errorf("metric %q is not one of %v or feature_drift:NAME", r.Metric, RuleMetrics)
	case !oneOf(r.Op, ">", ">=", "<", "<="):
		return fmt.Errorf("op %q: want >, >=, < or <=", r.Op)
	case r.For < 0:
		return fmt.Errorf("for is %d, want 0 or more", r.For)
	case math.IsNaN(r.Threshold):
		return errors.New("threshold is NaN")
	}
	if r.Clear != nil {
		c := *r.Clear
		if (r.Op[0] == '>' && c > r.Threshold) || (r.Op[0] == '<' && c < r.Threshold) {
			return fmt.Errorf("clear %v is on the firing side of threshold %v (op %s)", c, r.Threshold, r.Op)
		}
	}
	return nil
}

// DefaultRules are the alerts of a model whose config lists none.
func DefaultRules(d DriftConfig) []Rule {
	f := func(v float64) *float64 { return &v }
	return []Rule{
		{Name: "DataDrift", Metric: "drift_share", Op: ">=", Threshold: d.DatasetShare, Clear: f(d.DatasetShare / 2), For: 2, Severity: "warning",
			Summary: "input features drifted from the training profile"},
		{Name: "PredictionDrift", Metric: "prediction_drift", Op: ">=", Threshold: 1, Clear: f(0), For: 2, Severity: "warning",
			Summary: "predicted classes drifted from the training labels"},
		{Name: "QualityDrop", Metric: "quality_drop", Op: ">", Threshold: 0.1, Clear: f(0.05), For: 1, Severity: "critical",
			Summary: "online quality fell below the validation metric"},
		{Name: "ErrorRate", Metric: "error_rate", Op: ">", Threshold: 0.05, Clear: f(0.01), For: 1, Severity: "critical",
			Summary: "requests fail"},
		{Name: "LatencyHigh", Metric: "latency_p99_seconds", Op: ">", Threshold: 1, Clear: f(0.5), For: 2, Severity: "warning",
			Summary: "99th percentile latency is high"},
	}
}

// Alert is one rule's state, as GET /v2/models/{m}/alerts shows it.
type Alert struct {
	Name     string    `json:"name"`
	Metric   string    `json:"metric"`
	State    string    `json:"state"` // inactive, pending, firing
	Value    float64   `json:"value"` // the metric at the last evaluation (NaN: none yet)
	Since    time.Time `json:"since,omitzero"`
	Fired    int       `json:"fired"` // times it fired
	Severity string    `json:"severity,omitempty"`
	Summary  string    `json:"summary,omitempty"`
}

// MarshalJSON writes a missing value as null.
func (a Alert) MarshalJSON() ([]byte, error) {
	type plain Alert
	v := struct {
		plain
		Value *float64 `json:"value"`
	}{plain: plain(a)}
	if !math.IsNaN(a.Value) && !math.IsInf(a.Value, 0) {
		v.Value = &a.Value
	}
	return json.Marshal(v)
}

// alerter evaluates a model's rules and notifies. Safe for concurrent
// use: drift evaluations and feedback both update it.
type alerter struct {
	model, version string
	rules          []Rule
	log            *slog.Logger
	notify         chan notification // to the webhook sender; full drops (logged)

	mu     sync.Mutex
	states []Alert
	streak []int
}

type notification struct {
	rule   Rule
	status string // firing or resolved
	value  float64
	starts time.Time
	ends   time.Time
}

func newAlerter(model, version string, rules []Rule, log *slog.Logger) *alerter {
	a := &alerter{model: model, version: version, rules: rules, log: log,
		notify: make(chan notification, 256), states: make([]Alert, len(rules)), streak: make([]int, len(rules))}
	for i, r := range rules {
		a.states[i] = Alert{Name: r.Name, Metric: r.Metric, State: "inactive", Value: math.NaN(), Severity: r.Severity, Summary: r.Summary}
	}
	return a
}

// evaluate updates every rule whose metric has a value in values.
func (a *alerter) evaluate(values map[string]float64, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, r := range a.rules {
		v, ok := values[r.Metric]
		if !ok || math.IsNaN(v) {
			continue
		}
		st := &a.states[i]
		st.Value = v
		switch st.State {
		case "firing":
			if cleared(r, v) {
				st.State, a.streak[i] = "inactive", 0
				a.log.Info("alert resolved", "alert", r.Name, "model", a.model, "version", a.version, "metric", r.Metric, "value", v)
				a.send(notification{rule: r, status: "resolved", value: v, starts: st.Since, ends: now})
				st.Since = now
			}
		default:
			if !breaches(r, v) {
				st.State, a.streak[i] = "inactive", 0
				continue
			}
			a.streak[i]++
			if st.State == "inactive" {
				st.Since = now
			}
			if a.streak[i] < max(r.For, 1) {
				st.State = "pending"
				continue
			}
			st.State, st.Since = "firing", now
			st.Fired++
			a.log.Warn("alert firing", "alert", r.Name, "model", a.model, "version", a.version, "metric", r.Metric, "value", v, "threshold", r.Threshold)
			a.send(notification{rule: r, status: "firing", value: v, starts: now})
		}
	}
}

func breaches(r Rule, v float64) bool {
	switch r.Op {
	case ">":
		return v > r.Threshold
	case ">=":
		return v >= r.Threshold
	case "<":
		return v < r.Threshold
	default:
		return v <= r.Threshold
	}
}

// cleared reports whether a firing rule's metric came back to its clear
// level: at or below it for ">" rules, at or above it for "<" rules; with
// no clear level, as soon as it no longer breaches the threshold.
func cleared(r Rule, v float64) bool {
	if r.Clear == nil {
		return !breaches(r, v)
	}
	if r.Op[0] == '>' {
		return v <= *r.Clear
	}
	return v >= *r.Clear
}

func (a *alerter) send(n notification) {
	select {
	case a.notify <- n:
	default:
		a.log.Error("alert notification dropped: webhook queue full", "alert", n.rule.Name, "model", a.model)
	}
}

// snapshot returns the rules' states.
func (a *alerter) snapshot() []Alert {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Alert(nil), a.states...)
}

// WebhookMessage is Alertmanager's webhook_config payload (version 4),
// what Alertmanager itself POSTs to a webhook receiver.
type WebhookMessage struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []WebhookAlert    `json:"alerts"`
}

// WebhookAlert is one alert of a WebhookMessage.
type WebhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// postableAlert is one alert of Alertmanager's POST /api/v2/alerts body.
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

func (a *alerter) labels(r Rule) map[string]string {
	l := map[string]string{"alertname": r.Name, "model": a.model, "version": a.version, "metric": r.Metric}
	if r.Severity != "" {
		l["severity"] = r.Severity
	}
	return l
}

func (a *alerter) annotations(n notification) map[string]string {
	return map[string]string{
		"summary":     n.rule.Summary,
		"description": fmt.Sprintf("%s %s %g: value %g (model %s version %s)", n.rule.Metric, n.rule.Op, n.rule.Threshold, n.value, a.model, a.version),
	}
}

// body encodes a notification for a webhook of the given format.
func (a *alerter) body(n notification, format, externalURL string) ([]byte, error) {
	labels, ann := a.labels(n.rule), a.annotations(n)
	if format == "alertmanager" {
		pa := postableAlert{Labels: labels, Annotations: ann, StartsAt: n.starts, GeneratorURL: externalURL}
		if n.status == "resolved" {
			pa.EndsAt = n.ends
		}
		return json.Marshal([]postableAlert{pa})
	}
	ls := pmodel.LabelSet{}
	names := make([]string, 0, len(labels))
	for k, v := range labels {
		ls[pmodel.LabelName(k)] = pmodel.LabelValue(v)
		names = append(names, k)
	}
	sort.Strings(names)
	msg := WebhookMessage{
		Version: "4", GroupKey: fmt.Sprintf("{}:{alertname=%q, model=%q}", n.rule.Name, a.model),
		Status: n.status, Receiver: "shen",
		GroupLabels:  map[string]string{"alertname": n.rule.Name, "model": a.model},
		CommonLabels: labels, CommonAnnotations: ann, ExternalURL: externalURL,
		Alerts: []WebhookAlert{{Status: n.status, Labels: labels, Annotations: ann, StartsAt: n.starts,
			EndsAt: n.ends, GeneratorURL: externalURL, Fingerprint: ls.Fingerprint().String()}},
	}
	return json.Marshal(msg)
}

// deliver POSTs notifications to the webhooks until ctx ends, each with a
// timeout and one retry; failures are logged, never block evaluation.
func (a *alerter) deliver(ctx context.Context, hooks []Webhook, client *http.Client, externalURL string, done func()) {
	defer done()
	for {
		select {
		case <-ctx.Done():
			// Deliver what is already queued before leaving, so a resolve
			// raised during shutdown is not lost.
			for {
				select {
				case n := <-a.notify:
					a.post(context.Background(), n, hooks, client, externalURL)
				default:
					return
				}
			}
		case n := <-a.notify:
			a.post(ctx, n, hooks, client, externalURL)
		}
	}
}

func (a *alerter) post(ctx context.Context, n notification, hooks []Webhook, client *http.Client, externalURL string) {
	for _, h := range hooks {
		b, err := a.body(n, h.Format, externalURL)
		if err != nil {
			a.log.Error("alert webhook: encoding", "err", err)
			continue
		}
		for try := range 2 {
			err = postJSON(ctx, client, h.URL, b)
			if err == nil {
				break
			}
			if try == 0 {
				time.Sleep(200 * time.Millisecond)
			}
		}
		if err != nil {
			a.log.Error("alert webhook failed", "url", h.URL, "alert", n.rule.Name, "status", n.status, "err", err)
		}
	}
}

func postJSON(ctx context.Context, client *http.Client, url string, b []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}
