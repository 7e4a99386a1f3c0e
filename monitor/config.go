package monitor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/goccy/go-yaml"
)

// Config is one model's monitoring, the `monitoring:` section of its
// config.yaml (beside the version folders in a model repository). Every
// field has a default, so an absent section monitors with the defaults:
//
//	monitoring:
//	  queue: 4096              # observations waiting for the monitor; a full queue drops (counted)
//	  window:
//	    size: 500              # rows compared with the profile: the last N ...
//	    period: 10m            # ... and, when set, only those younger than this
//	    min_rows: 30           # fewer rows give no verdict
//	    evaluate_every: 500    # rows between drift evaluations (a whole fresh window)
//	    evaluate_interval: 10s # and at least this often while traffic flows
//	  drift:
//	    p_value: 0.05          # tests (KS, chi-squared) flag drift below it
//	    wasserstein: 0.1       # Wasserstein / reference std at or above it
//	    jensen_shannon: 0.1    # JS distance (natural log) at or above it
//	    psi: 0.2               # PSI at or above it (method psi)
//	    test_max_rows: 1000    # windows up to this many rows use tests, larger ones distances
//	    numeric_method: auto   # auto | ks | wasserstein | psi
//	    categorical_method: auto # auto | chisquare | jensen_shannon | psi
//	    dataset_share: 0.5     # dataset drift when this share of features drifts
//	    rate_delta: 0.05       # missing / unseen rates must also move this much
//	  quality:
//	    window: 200            # labelled rows the online metrics cover
//	    pending: 10000         # recent predictions kept for feedback
//	    min_rows: 100          # labelled rows before a quality verdict (accuracy at 0.9 then varies by ±0.03)
//	  alerts:                  # absent: DefaultRules
//	    - name: AccuracyLow
//	      metric: accuracy     # see Metrics in alert.go
//	      op: "<"
//	      threshold: 0.8
//	      clear: 0.85          # hysteresis: resolves only past this
//	      for: 2               # evaluations in a row before it fires
//	      severity: critical
//	  webhooks:                # Alertmanager webhook JSON is POSTed here
//	    - url: http://127.0.0.1:9093/hook
//	      format: webhook      # webhook | alertmanager (POST /api/v2/alerts)
//	  prediction_log:
//	    path: /var/log/shen/iris.jsonl # empty: no log
//	    max_bytes: 67108864    # rotate past this
//	    max_files: 5           # rotated files kept
//	    sample_rate: 1         # share of requests logged
type Config struct {
	Queue         int           `yaml:"queue" json:"queue"`
	Window        WindowConfig  `yaml:"window" json:"window"`
	Drift         DriftConfig   `yaml:"drift" json:"drift"`
	Quality       QualityConfig `yaml:"quality" json:"quality"`
	Alerts        []Rule        `yaml:"alerts" json:"alerts"`
	Webhooks      []Webhook     `yaml:"webhooks" json:"webhooks"`
	PredictionLog LogConfig     `yaml:"prediction_log" json:"prediction_log"`
}

// WindowConfig says which recent rows are compared with the profile.
type WindowConfig struct {
	Size             int           `yaml:"size" json:"size"`
	Period           time.Duration `yaml:"period" json:"period"`
	MinRows          int           `yaml:"min_rows" json:"min_rows"`
	EvaluateEvery    int           `yaml:"evaluate_every" json:"evaluate_every"`
	EvaluateInterval time.Duration `yaml:"evaluate_interval" json:"evaluate_interval"`
}

// DriftConfig holds the drift decision rules; the defaults are Evidently's.
type DriftConfig struct {
	PValue            float64 `yaml:"p_value" json:"p_value"`
	Wasserstein       float64 `yaml:"wasserstein" json:"wasserstein"`
	JensenShannon     float64 `yaml:"jensen_shannon" json:"jensen_shannon"`
	PSI               float64 `yaml:"psi" json:"psi"`
	TestMaxRows       int     `yaml:"test_max_rows" json:"test_max_rows"`
	NumericMethod     string  `yaml:"numeric_method" json:"numeric_method"`
	CategoricalMethod string  `yaml:"categorical_method" json:"categorical_method"`
	DatasetShare      float64 `yaml:"dataset_share" json:"dataset_share"`
	RateDelta         float64 `yaml:"rate_delta" json:"rate_delta"`
}

// QualityConfig sizes online quality.
type QualityConfig struct {
	Window  int `yaml:"window" json:"window"`
	Pending int `yaml:"pending" json:"pending"`
	MinRows int `yaml:"min_rows" json:"min_rows"`
}

// Webhook is a receiver of alert notifications.
type Webhook struct {
	URL string `yaml:"url" json:"url"`
	// Format is "webhook" (Alertmanager's webhook_config JSON, the
	// default) or "alertmanager" (the alerts array Alertmanager's
	// POST /api/v2/alerts takes, to feed a real Alertmanager).
	Format string `yaml:"format" json:"format"`
}

// LogConfig is the prediction log (off when Path is empty).
type LogConfig struct {
	Path       string  `yaml:"path" json:"path"`
	MaxBytes   int64   `yaml:"max_bytes" json:"max_bytes"`
	MaxFiles   int     `yaml:"max_files" json:"max_files"`
	SampleRate float64 `yaml:"sample_rate" json:"sample_rate"`
}

// DefaultConfig is the monitoring a model gets with no `monitoring:`
// section.
func DefaultConfig() Config {
	return Config{
		Queue: 4096,
		Window: WindowConfig{Size: 500, MinRows: 30, EvaluateEvery: 500,
			EvaluateInterval: 10 * time.Second},
		Drift: DriftConfig{PValue: 0.05, Wasserstein: 0.1, JensenShannon: 0.1, PSI: 0.2,
			TestMaxRows: 1000, NumericMethod: "auto", CategoricalMethod: "auto",
			DatasetShare: 0.5, RateDelta: 0.05},
		Quality:       QualityConfig{Window: 200, Pending: 10000, MinRows: 100},
		PredictionLog: LogConfig{MaxBytes: 64 << 20, MaxFiles: 5, SampleRate: 1},
	}
}

// ParseConfig reads a model config file's content and returns its
// `monitoring:` section over the defaults; other top-level keys belong to
// the server and are ignored. Unknown keys inside the section and bad
// values are errors naming the field (and line, from the YAML decoder).
func ParseConfig(b []byte) (Config, error) {
	var file struct {
		Monitoring yaml.RawMessage `yaml:"monitoring"`
	}
	if err := yaml.Unmarshal(b, &file); err != nil {
		return Config{}, err
	}
	c := DefaultConfig()
	if len(file.Monitoring) > 0 {
		if err := yaml.UnmarshalWithOptions(file.Monitoring, &c, yaml.Strict()); err != nil {
			return Config{}, fmt.Errorf("monitoring: %w", err)
		}
	}
	return c, c.Check()
}

// LoadConfig reads the `monitoring:` section of modelDir's config.yaml
// (config.yml, config.json), or returns DefaultConfig when there is none.
func LoadConfig(modelDir string) (Config, error) {
	for _, name := range []string{"config.yaml", "config.yml", "config.json"} {
		path := filepath.Join(modelDir, name)
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return Config{}, err
		}
		c, err := ParseConfig(b)
		if err != nil {
			return Config{}, fmt.Errorf("%s: %w", path, err)
		}
		return c, nil
	}
	return DefaultConfig(), nil
}

// Check reports the first invalid field, named as in the YAML.
func (c *Config) Check() error {
	w, d, q, l := c.Window, c.Drift, c.Quality, c.PredictionLog
	switch {
	case c.Queue < 1:
		return fmt.Errorf("monitoring.queue is %d, want 1 or more", c.Queue)
	case w.Size < 1:
		return fmt.Errorf("monitoring.window.size is %d, want 1 or more", w.Size)
	case w.Period < 0:
		return fmt.Errorf("monitoring.window.period is %v, want 0 (count only) or more", w.Period)
	case w.MinRows < 1 || w.MinRows > w.Size:
		return fmt.Errorf("monitoring.window.min_rows is %d, want 1 to window.size (%d)", w.MinRows, w.Size)
	case w.EvaluateEvery < 1:
		return fmt.Errorf("monitoring.window.evaluate_every is %d, want 1 or more", w.EvaluateEvery)
	case w.EvaluateInterval < 0:
		return fmt.Errorf("monitoring.window.evaluate_interval is %v, want 0 (rows only) or more", w.EvaluateInterval)
	case !(d.PValue > 0 && d.PValue < 1):
		return fmt.Errorf("monitoring.drift.p_value is %v, want between 0 and 1", d.PValue)
	case !(d.Wasserstein > 0) || !(d.JensenShannon > 0) || !(d.PSI > 0):
		return fmt.Errorf("monitoring.drift thresholds must be positive (wasserstein %v, jensen_shannon %v, psi %v)", d.Wasserstein, d.JensenShannon, d.PSI)
	case d.TestMaxRows < 0:
		return fmt.Errorf("monitoring.drift.test_max_rows is %d, want 0 or more", d.TestMaxRows)
	case !oneOf(d.NumericMethod, "auto", "ks", "wasserstein", "psi"):
		return fmt.Errorf("monitoring.drift.numeric_method is %q, want auto, ks, wasserstein or psi", d.NumericMethod)
	case !oneOf(d.CategoricalMethod, "auto", "chisquare", "jensen_shannon", "psi"):
		return fmt.Errorf("monitoring.drift.categorical_method is %q, want auto, chisquare, jensen_shannon or psi", d.CategoricalMethod)
	case !(d.DatasetShare > 0 && d.DatasetShare <= 1):
		return fmt.Errorf("monitoring.drift.dataset_share is %v, want in (0, 1]", d.DatasetShare)
	case !(d.RateDelta >= 0 && d.RateDelta <= 1):
		return fmt.Errorf("monitoring.drift.rate_delta is %v, want in [0, 1]", d.RateDelta)
	case q.Window < 1 || q.Pending < 1 || q.MinRows < 1 || q.MinRows > q.Window:
		return fmt.Errorf("monitoring.quality: window %d, pending %d and min_rows %d must be 1 or more, min_rows at most window", q.Window, q.Pending, q.MinRows)
	case l.Path != "" && (l.MaxBytes < 1024 || l.MaxFiles < 1 || !(l.SampleRate > 0 && l.SampleRate <= 1)):
		return fmt.Errorf("monitoring.prediction_log: max_bytes %d (want >= 1024), max_files %d (want >= 1), sample_rate %v (want in (0, 1])", l.MaxBytes, l.MaxFiles, l.SampleRate)
	}
	for i, h := range c.Webhooks {
		if h.URL == "" || !oneOf(h.Format, "", "webhook", "alertmanager") {
			return fmt.Errorf("monitoring.webhooks[%d]: url %q must be set and format %q be webhook or alertmanager", i, h.URL, h.Format)
		}
	}
	seen := map[string]bool{}
	for i := range c.Alerts {
		r := &c.Alerts[i]
		if err := r.check(); err != nil {
			return fmt.Errorf("monitoring.alerts[%d]: %w", i, err)
		}
		if seen[r.Name] {
			return fmt.Errorf("monitoring.alerts[%d]: name %q is used twice", i, r.Name)
		}
		seen[r.Name] = true
	}
	return nil
}

func oneOf(s string, options ...string) bool {
	for _, o := range options {
		if s == o {
			return true
		}
	}
	return false
}
