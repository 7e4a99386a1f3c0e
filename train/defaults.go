package train

import (
	"path/filepath"
	"strings"

	"github.com/shenml/shen/data"
)

// setDefaults fills every setting the config leaves out with its
// default, before validation checks the result: the run's name (the config
// file's), the task (language_model for text data, else classification),
// the data format (from the file name), the split fractions and
// stratification, window and text cutting, the preprocessing transforms,
// and the fit loop's batch size, optimizer, learning rate, schedule and
// seed. A default never overrides a value the file gives.
func (c *Config) setDefaults() {
	if c.Name == "" {
		c.Name = strings.TrimSuffix(filepath.Base(c.File), filepath.Ext(c.File))
	}
	d := &c.Data
	if d.Format == "" {
		d.Format = data.FormatOf(d.Path)
	}
	if c.Task == "" {
		c.Task = Classification
		if d.Format == "text" {
			c.Task = LanguageModel
		}
	}
	if d.Format == "sklearn_csv" && d.Target == "" {
		d.Target = "target"
	}
	c.setDataDefaults()
	p := &c.Preprocessing
	setString(&p.Numeric, "standardize")
	setString(&p.Categorical, "onehot")
	setString(&p.Impute, "mean")
	t := &c.Train
	if t.BatchSize == 0 {
		t.BatchSize = 32
	}
	setString(&t.Optimizer.Name, "adam")
	if _, given := c.lines["train.optimizer.lr"]; !given && t.Optimizer.LR == 0 {
		t.Optimizer.LR = 1e-3
		if t.Optimizer.Name == "sgd" {
			t.Optimizer.LR = 0.01
		}
	}
	setString(&t.Schedule.Name, "none")
	setString(&t.Precision, "fp32")
	if t.Seed == nil {
		v := uint64(1)
		t.Seed = &v
	}
}

// setDataDefaults fills the split, window and text defaults.
func (c *Config) setDataDefaults() {
	d := &c.Data
	s := &d.Split
	if s.Val == nil {
		v := 0.1
		s.Val = &v
	}
	if s.Test == nil {
		v := 0.2
		s.Test = &v
	}
	if s.Stratify == nil {
		v := c.Task == Classification && d.Window == nil
		s.Stratify = &v
	}
	if w := d.Window; w != nil {
		if w.Stride == 0 {
			w.Stride = 1
		}
		setString(&w.Target, "last")
		setString(&w.Split, "time")
	}
	if t := d.Text; t != nil {
		setString(&t.Level, "char")
		if t.Stride == 0 {
			t.Stride = max(t.Seq/2, 1)
		}
	}
}

func setString(s *string, def string) {
	if *s == "" {
		*s = def
	}
}
