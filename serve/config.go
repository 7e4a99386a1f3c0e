package serve

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/goccy/go-yaml"
)

// ConfigFiles are the names a model's config file may have, looked for in
// this order beside the version folders. JSON is YAML, so either syntax is
// read by the same decoder.
var ConfigFiles = []string{"config.yaml", "config.yml", "config.json"}

// Config is one model's serving configuration, read from config.yaml beside
// its version folders. Field names are Triton's (model_config.proto) where
// Triton has the field, so an operator's knowledge carries over:
//
//	max_batch_size: 64              # rows one Forward may take; 0: no merging
//	version_policy:                 # which numeric version folders are served
//	  latest: {num_versions: 1}     #   the N highest (the default)
//	  # all: {}                     #   every version
//	  # specific: {versions: [1, 3]}
//	dynamic_batching:               # absent: every request runs as its own batch
//	  max_queue_delay_microseconds: 500  # how long a batch waits to fill
//	  preferred_batch_size: [8, 32]      # run at once when the rows reach one
//	  max_queue_size: 1024               # waiting requests before 429; 0: 1024
//	instance_group:                 # model instances, each one Forward at a time
//	  - count: 2
//	monitoring: {...}               # package monitor's section; not read here
type Config struct {
	Name            string           `yaml:"name,omitempty" json:"name,omitempty"`
	MaxBatchSize    int              `yaml:"max_batch_size" json:"max_batch_size"`
	VersionPolicy   *VersionPolicy   `yaml:"version_policy,omitempty" json:"version_policy,omitempty"`
	DynamicBatching *DynamicBatching `yaml:"dynamic_batching,omitempty" json:"dynamic_batching,omitempty"`
	InstanceGroup   []InstanceGroup  `yaml:"instance_group,omitempty" json:"instance_group,omitempty"`
	// Monitoring is the monitor package's section (drift windows, alert
	// rules, prediction log); the server keeps it for the monitor and does
	// not read it.
	Monitoring any `yaml:"monitoring,omitempty" json:"monitoring,omitempty"`
}

// VersionPolicy picks the versions to serve; at most one field is set.
type VersionPolicy struct {
	Latest   *LatestPolicy   `yaml:"latest,omitempty" json:"latest,omitempty"`
	All      *struct{}       `yaml:"all,omitempty" json:"all,omitempty"`
	Specific *SpecificPolicy `yaml:"specific,omitempty" json:"specific,omitempty"`
}

// LatestPolicy serves the NumVersions highest versions.
type LatestPolicy struct {
	NumVersions int `yaml:"num_versions" json:"num_versions"`
}

// SpecificPolicy serves the listed versions.
type SpecificPolicy struct {
	Versions []int64 `yaml:"versions" json:"versions"`
}

// DynamicBatching merges waiting requests into one Forward.
type DynamicBatching struct {
	MaxQueueDelayMicroseconds int64 `yaml:"max_queue_delay_microseconds" json:"max_queue_delay_microseconds"`
	PreferredBatchSize        []int `yaml:"preferred_batch_size,omitempty" json:"preferred_batch_size,omitempty"`
	MaxQueueSize              int   `yaml:"max_queue_size" json:"max_queue_size"`
}

// InstanceGroup is a number of model instances (Triton's KIND_CPU group).
type InstanceGroup struct {
	Count int    `yaml:"count" json:"count"`
	Kind  string `yaml:"kind,omitempty" json:"kind,omitempty"` // only KIND_CPU (or empty)
}

// DefaultQueueSize bounds a model's queue when the config does not.
const DefaultQueueSize = 1024

// DefaultConfig is what a model without a config file gets: the latest
// version, up to 64 rows per Forward, requests merged only when they are
// already waiting (no added delay), one instance.
func DefaultConfig() Config {
	return Config{
		MaxBatchSize:    64,
		DynamicBatching: &DynamicBatching{MaxQueueSize: DefaultQueueSize},
		InstanceGroup:   []InstanceGroup{{Count: 1}},
	}
}

// LoadConfig reads the config file in modelDir, or returns DefaultConfig
// when there is none. Unknown fields and bad values are errors naming the
// file and field.
func LoadConfig(modelDir string) (Config, string, error) {
	for _, name := range ConfigFiles {
		path := filepath.Join(modelDir, name)
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return Config{}, path, err
		}
		c, err := ParseConfig(b)
		if err != nil {
			return Config{}, path, fmt.Errorf("%s: %w", path, err)
		}
		return c, path, nil
	}
	return DefaultConfig(), "", nil
}

// ParseConfig decodes and checks a config file's content.
func ParseConfig(b []byte) (Config, error) {
	var c Config
	if err := yaml.UnmarshalWithOptions(b, &c, yaml.Strict()); err != nil {
		return Config{}, err
	}
	return c, c.Check()
}

// Check reports the first invalid field.
func (c *Config) Check() error {
	if c.MaxBatchSize < 0 {
		return fmt.Errorf("max_batch_size is %d, want 0 or more", c.MaxBatchSize)
	}
	if p := c.VersionPolicy; p != nil {
		set := 0
		for _, b := range []bool{p.Latest != nil, p.All != nil, p.Specific != nil} {
			if b {
				set++
			}
		}
		if set > 1 {
			return errors.New("version_policy: set one of latest, all, specific")
		}
		if p.Latest != nil && p.Latest.NumVersions < 1 {
			return fmt.Errorf("version_policy.latest.num_versions is %d, want 1 or more", p.Latest.NumVersions)
		}
		if p.Specific != nil {
			if len(p.Specific.Versions) == 0 {
				return errors.New("version_policy.specific.versions is empty")
			}
			for _, v := range p.Specific.Versions {
				if v < 1 {
					return fmt.Errorf("version_policy.specific.versions holds %d, versions are 1 or more", v)
				}
			}
		}
	}
	if d := c.DynamicBatching; d != nil {
		if d.MaxQueueDelayMicroseconds < 0 {
			return fmt.Errorf("dynamic_batching.max_queue_delay_microseconds is %d, want 0 or more", d.MaxQueueDelayMicroseconds)
		}
		if d.MaxQueueSize < 0 {
			return fmt.Errorf("dynamic_batching.max_queue_size is %d, want 0 or more", d.MaxQueueSize)
		}
		for _, s := range d.PreferredBatchSize {
			if s < 1 || (c.MaxBatchSize > 0 && s > c.MaxBatchSize) {
				return fmt.Errorf("dynamic_batching.preferred_batch_size holds %d, want 1 to max_batch_size %d", s, c.MaxBatchSize)
			}
		}
	}
	for i, g := range c.InstanceGroup {
		if g.Count < 1 {
			return fmt.Errorf("instance_group[%d].count is %d, want 1 or more", i, g.Count)
		}
		if g.Kind != "" && g.Kind != "KIND_CPU" && g.Kind != "KIND_AUTO" {
			return fmt.Errorf("instance_group[%d].kind is %q; Shen runs KIND_CPU", i, g.Kind)
		}
	}
	return nil
}

// Instances is the total instance count (1 when no group is given).
func (c *Config) Instances() int {
	n := 0
	for _, g := range c.InstanceGroup {
		n += g.Count
	}
	return max(n, 1)
}

// batching is the batcher's view of the config.
func (c *Config) batching() batchPolicy {
	p := batchPolicy{maxRows: max(c.MaxBatchSize, 1), queue: DefaultQueueSize, instances: c.Instances()}
	if d := c.DynamicBatching; d != nil {
		if d.MaxQueueSize > 0 {
			p.queue = d.MaxQueueSize
		}
		if c.MaxBatchSize > 0 { // max_batch_size 0: the queue bound applies, no merging
			p.merge = true
			p.delay = time.Duration(d.MaxQueueDelayMicroseconds) * time.Microsecond
			p.preferred = slices.Sorted(slices.Values(d.PreferredBatchSize))
		}
	}
	return p
}

// Versions picks the versions to serve out of those present (ascending).
func (c *Config) Versions(present []int64) []int64 {
	p := c.VersionPolicy
	switch {
	case p != nil && p.All != nil:
		return present
	case p != nil && p.Specific != nil:
		var out []int64
		for _, v := range present {
			if slices.Contains(p.Specific.Versions, v) {
				out = append(out, v)
			}
		}
		return out
	}
	n := 1
	if p != nil && p.Latest != nil {
		n = p.Latest.NumVersions
	}
	return present[max(len(present)-n, 0):]
}
