package train

import (
	"fmt"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/shenml/shen/internal/safeio"
	"github.com/shenml/shen/tensor"
)

// Validate fills defaults and checks every section and their
// combinations, returning the first problem as a *ConfigError. It also
// checks that the data files exist, so that a typo fails at once.
func (c *Config) Validate() error {
	if c.lines == nil {
		c.lines = map[string]int{}
	}
	c.setDefaults()
	if err := safeio.CheckName(c.Name); err != nil {
		return c.errAt("name", "%v; the run directory is one folder inside --out", err)
	}
	if err := c.validateNumbers(); err != nil {
		return err
	}
	if c.Task != Classification && c.Task != Regression && c.Task != LanguageModel {
		return c.errAt("task", "must be classification, regression or language_model, got %q", c.Task)
	}
	if err := c.validateData(); err != nil {
		return err
	}
	if err := c.validatePrep(); err != nil {
		return err
	}
	if err := c.validateModel(); err != nil {
		return err
	}
	return c.validateTrain()
}

func (c *Config) validateData() error {
	d := &c.Data
	if d.Path == "" {
		return c.errAt("data.path", "is required")
	}
	if d.Format == "" {
		return c.errAt("data.format", "cannot tell the format of %q from its name; set data.format", d.Path)
	}
	switch d.Format {
	case "csv", "tsv", "jsonl", "sklearn_csv", "idx", "images":
	case "text":
		if c.Task != LanguageModel {
			return c.errAt("task", "format text trains a language model; task must be language_model (or left out), got %q", c.Task)
		}
	default:
		return c.errAt("data.format", "must be csv, tsv, jsonl, sklearn_csv, idx, images or text, got %q", d.Format)
	}
	if _, err := os.Stat(c.DataPath(d.Path)); err != nil {
		return c.errAt("data.path", "%v", safeio.DropOp(err))
	}
	if d.Format == "idx" {
		if d.Labels == "" {
			return c.errAt("data.labels", "format idx needs the labels file")
		}
		if _, err := os.Stat(c.DataPath(d.Labels)); err != nil {
			return c.errAt("data.labels", "%v", safeio.DropOp(err))
		}
	} else if d.Labels != "" {
		return c.errAt("data.labels", "is only for format idx (format is %s)", d.Format)
	}
	if len(d.ClassNames) > 0 {
		if d.Format != "idx" {
			return c.errAt("data.class_names", "is only for format idx (image folders are named by their class, tables hold their labels)")
		}
		seen := map[string]bool{}
		for i, n := range d.ClassNames {
			if n == "" || seen[n] {
				return c.errAt(fmt.Sprintf("data.class_names[%d]", i), "class name %q is empty or given twice", n)
			}
			seen[n] = true
		}
	}
	if d.Header != nil && d.Format != "csv" && d.Format != "tsv" {
		return c.errAt("data.header", "is only for csv and tsv files")
	}
	if c.Tabular() {
		if d.Target == "" {
			if c.Task == Classification {
				return c.errAt("data.target", "classification needs a target column")
			}
			return c.errAt("data.target", "regression needs a target column")
		}
	} else if d.Target != "" {
		return c.errAt("data.target", "is only for tabular formats; %s data carries its labels", d.Format)
	}
	if !c.Tabular() && c.Task == Regression {
		return c.errAt("task", "regression needs tabular data (format %s has class labels)", d.Format)
	}
	if c.Task == LanguageModel && d.Format != "text" {
		return c.errAt("task", "language_model needs format text, got %s", d.Format)
	}
	for _, check := range []func() error{c.validateWindow, c.validateText, c.validateFeatures, c.validateCleaning, c.validateSplit} {
		if err := check(); err != nil {
			return err
		}
	}
	im := d.Image
	if d.Format == "images" {
		if im.Width <= 0 || im.Height <= 0 {
			return c.errAt("data.image", "format images needs width and height > 0")
		}
	} else if im != (ImageConfig{}) {
		return c.errAt("data.image", "is only for format images")
	}
	return nil
}

// validateFeatures checks data.features: named once each, of a known
// type, never the target (except a forecaster's own past values).
func (c *Config) validateFeatures() error {
	d := &c.Data
	seen := map[string]bool{}
	for i, f := range d.Features {
		key := fmt.Sprintf("data.features[%d]", i)
		if f.Name == "" {
			return c.errAt(key+".name", "is required")
		}
		if seen[f.Name] {
			return c.errAt(key+".name", "feature %q is listed twice", f.Name)
		}
		seen[f.Name] = true
		if f.Name == d.Target && (d.Window == nil || d.Window.Target != "next") {
			return c.errAt(key+".name", "%q is the target, not a feature (only a forecasting window, target: next, takes past values of its target as input)", f.Name)
		}
		switch f.Type {
		case "", "numeric", "category", "date":
		case "text":
			return c.errAt(key+".type", "text features need a sequence model, which shen train does not build yet")
		case "image":
			return c.errAt(key+".type", "image features cannot come from a %s reader; use format images or idx", d.Format)
		default:
			return c.errAt(key+".type", "must be numeric, category, text or image, got %q", f.Type)
		}
		if !c.Tabular() {
			return c.errAt("data.features", "are only for tabular formats (format is %s)", d.Format)
		}
	}
	if d.Limit < 0 {
		return c.errAt("data.limit", "must be >= 0, got %d", d.Limit)
	}
	return nil
}

// validateCleaning checks data.cleaning (tabular data only).
func (c *Config) validateCleaning() error {
	d := &c.Data
	cl := d.Cleaning
	switch cl.Missing {
	case "", "keep", "drop", "impute":
	default:
		return c.errAt("data.cleaning.missing", "must be keep, drop or impute, got %q", cl.Missing)
	}
	switch cl.Impute {
	case "", "mean", "median", "mode":
	default:
		return c.errAt("data.cleaning.impute", "must be mean, median or mode, got %q", cl.Impute)
	}
	if cl.Impute != "" && cl.Missing != "impute" {
		return c.errAt("data.cleaning.impute", "needs missing: impute")
	}
	if len(cl.Clip) != 0 && (len(cl.Clip) != 2 || cl.Clip[0] < 0 || cl.Clip[0] >= cl.Clip[1] || cl.Clip[1] > 1) {
		return c.errAt("data.cleaning.clip", "must be two quantiles [low, high] with 0 <= low < high <= 1, got %v", cl.Clip)
	}
	if !c.Tabular() && (cl.DropDuplicates || cl.Missing != "" || len(cl.Clip) > 0) {
		return c.errAt("data.cleaning", "is only for tabular formats (format is %s)", d.Format)
	}
	return nil
}

// validateSplit checks the validation and test fractions.
func (c *Config) validateSplit() error {
	d := &c.Data
	s := &d.Split
	if *s.Val < 0 || *s.Val >= 1 {
		return c.errAt("data.split.val", "must be in [0, 1), got %g", *s.Val)
	}
	if *s.Test < 0 || *s.Test >= 1 {
		return c.errAt("data.split.test", "must be in [0, 1), got %g", *s.Test)
	}
	if *s.Val+*s.Test >= 1 {
		return c.errAt("data.split", "val + test is %g, leaving nothing to train on", *s.Val+*s.Test)
	}
	if *s.Stratify && c.Task != Classification {
		return c.errAt("data.split.stratify", "needs class labels; the task is %s", c.Task)
	} else if *s.Stratify && d.Window != nil {
		return c.errAt("data.split.stratify", "windows are split by time (earlier rows train, later ones test), so they cannot be stratified")
	}
	return nil
}

func (c *Config) validateWindow() error {
	w := c.Data.Window
	if w == nil {
		return nil
	}
	if !c.Tabular() || c.Data.Format == "sklearn_csv" {
		return c.errAt("data.window", "is only for csv, tsv and jsonl time series (format is %s)", c.Data.Format)
	}
	if w.Length < 1 {
		return c.errAt("data.window.length", "must be at least 1, got %d", w.Length)
	}
	if w.Stride < 0 {
		return c.errAt("data.window.stride", "must be positive, got %d", w.Stride)
	}
	switch w.Target {
	case "last":
	case "next":
		if c.Task != Regression {
			return c.errAt("data.window.target", "next (forecasting the next value) needs task: regression")
		}
	default:
		return c.errAt("data.window.target", "must be last (the label of the last step) or next (the next value), got %q", w.Target)
	}
	switch w.Split {
	case "time":
	case "group":
		if w.Group == "" {
			return c.errAt("data.window.split", "group needs data.window.group")
		}
	default:
		return c.errAt("data.window.split", "must be time or group, got %q", w.Split)
	}
	if w.Log || w.Difference {
		key := firstSet(c, "data.window.log", "data.window.difference")
		if w.Target != "next" {
			return c.errAt(key, "transforms a forecast target; it needs target: next (got %s)", w.Target)
		}
		if w.Difference && len(c.Data.Features) > 0 && !slices.ContainsFunc(c.Data.Features, func(f Feature) bool { return f.Name == c.Data.Target }) {
			return c.errAt("data.window.difference", "predicts the change from the last value of %q, so %q must be among data.features", c.Data.Target, c.Data.Target)
		}
	}
	if w.Season < 0 {
		return c.errAt("data.window.season", "must be >= 0, got %d", w.Season)
	}
	if w.Season > 0 && w.Target != "next" {
		return c.errAt("data.window.season", "gives the seasonal-naive forecast baseline; it needs target: next (got %s)", w.Target)
	}
	if w.Group != "" && w.Group == c.Data.Target {
		return c.errAt("data.window.group", "%q is the target column", w.Group)
	}
	if c.Data.Cleaning.DropDuplicates {
		return c.errAt("data.cleaning.drop_duplicates", "would remove time steps from the series; not allowed with data.window")
	}
	return nil
}

func (c *Config) validateText() error {
	t := c.Data.Text
	if c.Data.Format != "text" {
		if t != nil {
			return c.errAt("data.text", "is only for format text (format is %s)", c.Data.Format)
		}
		return nil
	}
	if t == nil {
		return c.errAt("data.text", "format text needs a text section, e.g. {level: char, seq: 128}")
	}
	switch t.Level {
	case "char", "word":
	default:
		return c.errAt("data.text.level", "must be char or word, got %q", t.Level)
	}
	if t.Seq < 2 {
		return c.errAt("data.text.seq", "must be at least 2, got %d", t.Seq)
	}
	if t.Stride < 0 {
		return c.errAt("data.text.stride", "must be positive, got %d", t.Stride)
	}
	return nil
}

var numericTransforms = []string{"standardize", "minmax", "robust", "log", "none"}

func (c *Config) validatePrep() error {
	p := &c.Preprocessing
	if !slices.Contains(numericTransforms, p.Numeric) {
		return c.errAt("preprocessing.numeric", "must be standardize, minmax, robust, log or none, got %q", p.Numeric)
	}
	if p.Categorical != "onehot" && p.Categorical != "ordinal" {
		return c.errAt("preprocessing.categorical", "must be onehot or ordinal, got %q", p.Categorical)
	}
	switch p.Impute {
	case "mean", "median", "mode", "none":
	default:
		return c.errAt("preprocessing.impute", "must be mean, median, mode or none, got %q", p.Impute)
	}
	names := make([]string, 0, len(p.Features))
	for n := range p.Features {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		key := "preprocessing.features." + n
		if !c.Tabular() {
			return c.errAt(key, "per-feature transforms are only for tabular formats (format is %s)", c.Data.Format)
		}
		if n == c.Data.Target {
			return c.errAt(key, "%q is the target; it is not transformed", n)
		}
		if len(c.Data.Features) > 0 && !slices.ContainsFunc(c.Data.Features, func(f Feature) bool { return f.Name == n }) {
			return c.errAt(key, "%q is not among data.features", n)
		}
		for i, t := range p.Features[n] {
			if !slices.Contains(numericTransforms, t) && t != "onehot" && t != "ordinal" {
				return c.errAt(fmt.Sprintf("%s[%d]", key, i), "unknown transform %q (want standardize, minmax, robust, log, onehot, ordinal or none)", t)
			}
		}
	}
	img := p.Image
	if (img.Normalize || img.Augment != nil) && c.Data.Format != "idx" && c.Data.Format != "images" {
		key := "preprocessing.image.augment"
		if img.Normalize {
			key = firstSet(c, "preprocessing.image.normalize", "preprocessing.image.augment")
		}
		return c.errAt(key, "is only for image data, format idx or images (format is %s)", c.Data.Format)
	}
	if img.Augment != nil && img.Augment.Pad < 0 {
		return c.errAt("preprocessing.image.augment.pad", "must be >= 0, got %d", img.Augment.Pad)
	}
	return nil
}

func (c *Config) validateModel() error {
	a := &c.Model
	seqKind := slices.Contains(seqKinds, a.Kind)
	switch a.Kind {
	case "":
		return c.errAt("model.kind", "is required (mlp, cnn, layers, lstm, gru or transformer)")
	case "mlp", "layers":
	case "cnn":
		if c.Tabular() && len(a.Input) != 3 {
			return c.errAt("model.kind", "cnn needs image input; %s data is tabular (use mlp, or give model.input as [channels, height, width] for features that are pixels)", c.Data.Format)
		}
	default:
		if !seqKind {
			return c.errAt("model.kind", "must be mlp, cnn, layers, lstm, gru or transformer, got %q", a.Kind)
		}
	}
	if err := c.validateSeqModel(seqKind); err != nil {
		return err
	}
	for i, h := range a.Hidden {
		if h <= 0 {
			return c.errAt(fmt.Sprintf("model.hidden[%d]", i), "must be positive, got %d", h)
		}
	}
	for i, ch := range a.Channels {
		if ch <= 0 {
			return c.errAt(fmt.Sprintf("model.channels[%d]", i), "must be positive, got %d", ch)
		}
	}
	if a.Kind == "cnn" && len(a.Channels) == 0 {
		return c.errAt("model.channels", "cnn needs at least one convolution")
	}
	if a.Kind != "cnn" && (len(a.Channels) > 0 || a.Kernel != 0 || a.Padding != nil) {
		return c.errAt("model.channels", "channels, kernel and padding are only for kind cnn")
	}
	if a.Kind == "layers" && len(a.Layers) == 0 {
		return c.errAt("model.layers", "kind layers needs a layers list")
	}
	if a.Kind != "layers" && len(a.Layers) > 0 {
		return c.errAt("model.layers", "is only for kind layers")
	}
	if a.Dropout < 0 || a.Dropout >= 1 {
		return c.errAt("model.dropout", "must be in [0, 1), got %g", a.Dropout)
	}
	if a.Kernel < 0 {
		return c.errAt("model.kernel", "must be positive, got %d", a.Kernel)
	}
	if a.Outputs < 0 {
		return c.errAt("model.outputs", "must be positive, got %d", a.Outputs)
	}
	for i, d := range a.Input {
		if d <= 0 {
			return c.errAt(fmt.Sprintf("model.input[%d]", i), "must be positive, got %d", d)
		}
	}
	if a.Activation != "" {
		switch strings.ToLower(a.Activation) {
		case "relu", "gelu", "tanh", "sigmoid", "silu", "swish", "leaky_relu", "elu":
		default:
			return c.errAt("model.activation", "unknown activation %q", a.Activation)
		}
	}
	return nil
}

// seqKinds are the sequence architecture kinds: they take [steps,
// features] windows (or token ids, for a causal transformer on text).
var seqKinds = []string{"lstm", "gru", "transformer"}

// validateSeqModel checks the sequence keys of the model section and that
// the data gives sequences.
func (c *Config) validateSeqModel(seqKind bool) error {
	a := &c.Model
	text := c.Data.Format == "text"
	if !seqKind {
		switch {
		case a.HiddenSize != 0 || a.Bidirectional || a.NumLayers != 0:
			return c.errAt(firstSet(c, "model.hidden_size", "model.bidirectional", "model.num_layers"), "is only for kinds lstm, gru and transformer (kind is %s)", a.Kind)
		case a.DModel != 0 || a.Heads != 0 || a.FF != 0 || a.Norm != "" || a.Causal || a.MaxLen != 0:
			return c.errAt(firstSet(c, "model.d_model", "model.heads", "model.ff", "model.norm", "model.causal", "model.max_len"), "is only for kind transformer (kind is %s)", a.Kind)
		case text:
			return c.errAt("model.kind", "format text needs kind transformer with causal: true (a language model), got %s", a.Kind)
		case c.Data.Window != nil:
			return c.errAt("model.kind", "data.window gives [steps, features] sequences; use kind lstm, gru or transformer, got %s", a.Kind)
		}
		return nil
	}
	if a.NumLayers < 0 {
		return c.errAt("model.num_layers", "must be positive, got %d", a.NumLayers)
	}
	if a.Kind == "transformer" {
		if a.HiddenSize != 0 || a.Bidirectional {
			return c.errAt(firstSet(c, "model.hidden_size", "model.bidirectional"), "is only for kinds lstm and gru (kind is transformer; use d_model)")
		}
		if a.DModel <= 0 {
			return c.errAt("model.d_model", "transformer needs d_model > 0, got %d", a.DModel)
		}
		if a.Heads <= 0 || a.DModel%a.Heads != 0 {
			return c.errAt("model.heads", "must be positive and divide d_model (%d), got %d", a.DModel, a.Heads)
		}
		if a.FF < 0 {
			return c.errAt("model.ff", "must be >= 0, got %d", a.FF)
		}
		if a.MaxLen < 0 {
			return c.errAt("model.max_len", "must be >= 0, got %d", a.MaxLen)
		}
		if a.Norm != "" && a.Norm != "pre" && a.Norm != "post" {
			return c.errAt("model.norm", "must be pre or post, got %q", a.Norm)
		}
		if act := strings.ToLower(a.Activation); act != "" && act != "relu" && act != "gelu" {
			return c.errAt("model.activation", "transformer layers take relu or gelu, got %q", a.Activation)
		}
		if text && !a.Causal {
			return c.errAt("model.causal", "a language model on format text must be causal (set causal: true)")
		}
	} else {
		if a.DModel != 0 || a.Heads != 0 || a.FF != 0 || a.Norm != "" || a.Causal || a.MaxLen != 0 {
			return c.errAt(firstSet(c, "model.d_model", "model.heads", "model.ff", "model.norm", "model.causal", "model.max_len"), "is only for kind transformer (kind is %s)", a.Kind)
		}
		if a.HiddenSize <= 0 {
			return c.errAt("model.hidden_size", "%s needs hidden_size > 0, got %d", a.Kind, a.HiddenSize)
		}
		if text {
			return c.errAt("model.kind", "format text needs kind transformer with causal: true, got %s", a.Kind)
		}
	}
	switch {
	case text:
		if len(a.Input) != 0 {
			return c.errAt("model.input", "is set from data.text.seq for a language model; leave it out")
		}
	case len(a.Input) == 1:
		return c.errAt("model.input", "%s needs [steps, features] sequences, got the flat input %v (set data.window, or give two dimensions)", a.Kind, a.Input)
	case len(a.Input) > 2:
		return c.errAt("model.input", "%s needs [steps, features] sequences, got %v", a.Kind, a.Input)
	case len(a.Input) == 0 && c.Data.Window == nil:
		return c.errAt("model.kind", "%s needs sequences, but %s rows are flat; set data.window to cut them into [steps, features] windows, or give model.input as [steps, features]", a.Kind, c.Data.Format)
	}
	return nil
}

// firstSet returns the first of keys present in the file (or keys[0]).
func firstSet(c *Config, keys ...string) string {
	for _, k := range keys {
		if _, ok := c.lines[k]; ok {
			return k
		}
	}
	return keys[0]
}

func (c *Config) validateTrain() error {
	t := &c.Train
	if t.Epochs <= 0 {
		return c.errAt("train.epochs", "must be positive, got %d", t.Epochs)
	}
	if t.BatchSize < 0 {
		return c.errAt("train.batch_size", "must be positive, got %d", t.BatchSize)
	}
	o := &t.Optimizer
	switch o.Name {
	case "adam", "adamw", "sgd", "rmsprop", "adagrad":
	default:
		return c.errAt("train.optimizer.name", "must be adam, adamw, sgd, rmsprop or adagrad, got %q", o.Name)
	}
	if !(o.LR > 0) || math.IsInf(o.LR, 0) {
		return c.errAt("train.optimizer.lr", "must be positive, got %g", o.LR)
	}
	if o.WeightDecay < 0 {
		return c.errAt("train.optimizer.weight_decay", "must be >= 0, got %g", o.WeightDecay)
	}
	if o.Momentum < 0 || o.Momentum >= 1 {
		return c.errAt("train.optimizer.momentum", "must be in [0, 1), got %g", o.Momentum)
	}
	if o.Momentum != 0 && o.Name != "sgd" && o.Name != "rmsprop" {
		return c.errAt("train.optimizer.momentum", "is only for sgd and rmsprop (optimizer is %s)", o.Name)
	}
	s := &t.Schedule
	switch s.Name {
	case "none":
	case "step":
		if s.StepSize <= 0 {
			return c.errAt("train.schedule.step_size", "schedule step needs step_size > 0 (epochs)")
		}
	case "cosine", "warmup_cosine", "onecycle", "exponential", "plateau":
	default:
		return c.errAt("train.schedule.name", "must be none, step, cosine, exponential, warmup_cosine, onecycle or plateau, got %q", s.Name)
	}
	if s.Gamma < 0 || s.Gamma > 1 {
		return c.errAt("train.schedule.gamma", "must be in (0, 1], got %g", s.Gamma)
	}
	if s.Name == "exponential" && s.Gamma == 0 {
		return c.errAt("train.schedule.gamma", "schedule exponential needs gamma in (0, 1]")
	}
	if s.Factor < 0 || s.Factor >= 1 {
		return c.errAt("train.schedule.factor", "must be in (0, 1), got %g", s.Factor)
	}
	if s.MinLR < 0 || s.MaxLR < 0 || s.Warmup < 0 || s.Patience < 0 {
		return c.errAt("train.schedule", "min_lr, max_lr, warmup and patience must be >= 0")
	}
	if t.ClipNorm < 0 {
		return c.errAt("train.clip_norm", "must be >= 0, got %g", t.ClipNorm)
	}
	es := &t.EarlyStopping
	if es.Patience < 0 {
		return c.errAt("train.early_stopping.patience", "must be >= 0, got %d", es.Patience)
	}
	if es.MinDelta < 0 {
		return c.errAt("train.early_stopping.min_delta", "must be >= 0, got %g", es.MinDelta)
	}
	if es.Monitor != "" {
		if !strings.HasPrefix(es.Monitor, "val_") {
			return c.errAt("train.early_stopping.monitor", "must name a validation metric such as val_loss or val_accuracy, got %q", es.Monitor)
		}
		m := strings.TrimPrefix(es.Monitor, "val_")
		cls := []string{"loss", "accuracy", "macro_f1", "macro_precision", "macro_recall", "weighted_f1", "weighted_precision", "weighted_recall", "log_loss", "roc_auc"}
		reg := []string{"loss", "mae", "mse", "rmse", "r2"}
		if (c.Task == Classification && !slices.Contains(cls, m)) || (c.Task == Regression && !slices.Contains(reg, m)) || (c.Task == LanguageModel && m != "loss") {
			return c.errAt("train.early_stopping.monitor", "%q is not a %s metric", es.Monitor, c.Task)
		}
	}
	if (es.Patience > 0 || es.Monitor != "") && *c.Data.Split.Val == 0 {
		return c.errAt("train.early_stopping", "needs a validation split (data.split.val > 0)")
	}
	if s.Name == "plateau" && *c.Data.Split.Val == 0 {
		return c.errAt("train.schedule.name", "plateau needs a validation split (data.split.val > 0)")
	}
	if t.CheckpointEvery < 0 {
		return c.errAt("train.checkpoint_every", "must be >= 0, got %d", t.CheckpointEvery)
	}
	if t.Threads < 0 {
		return c.errAt("train.threads", "must be >= 0, got %d", t.Threads)
	}
	p, err := tensor.ParsePrecision(t.Precision)
	if err != nil {
		return c.errAt("train.precision", "must be fp32 or bf16, got %q", t.Precision)
	}
	t.precision = p
	if err := c.validateClassWeights(); err != nil {
		return err
	}
	return c.validateThreshold()
}

// validateClassWeights parses train.class_weights: balanced or a list of
// non-negative numbers, one per class (the count is checked against the
// data's classes when they are known).
func (c *Config) validateClassWeights() error {
	t := &c.Train
	t.balanced, t.weights = false, nil
	if t.ClassWeights == nil {
		return nil
	}
	if c.Task != Classification {
		return c.errAt("train.class_weights", "weights the classes of the cross-entropy; it needs task: classification (task is %s)", c.Task)
	}
	switch v := t.ClassWeights.(type) {
	case string:
		if v != "balanced" {
			return c.errAt("train.class_weights", "must be balanced or a list of weights [w0, w1, ...], got %q", v)
		}
		t.balanced = true
		return nil
	case []float64:
		t.weights = slices.Clone(v)
	case []any:
		for i, e := range v {
			f, ok := yamlNumber(e)
			if !ok {
				return c.errAt(fmt.Sprintf("train.class_weights[%d]", i), "must be a number, got %v", e)
			}
			t.weights = append(t.weights, f)
		}
	default:
		return c.errAt("train.class_weights", "must be balanced or a list of weights [w0, w1, ...], got %v", v)
	}
	if len(t.weights) < 2 {
		return c.errAt("train.class_weights", "needs one weight per class (at least two), got %d", len(t.weights))
	}
	sum := 0.0
	for i, w := range t.weights {
		if !(w >= 0) || math.IsInf(w, 0) {
			return c.errAt(fmt.Sprintf("train.class_weights[%d]", i), "must be a finite number >= 0, got %v", w)
		}
		sum += w
	}
	if sum == 0 {
		return c.errAt("train.class_weights", "are all zero")
	}
	return nil
}

// validateThreshold parses train.threshold: auto or a number in (0, 1).
func (c *Config) validateThreshold() error {
	t := &c.Train
	t.autoThreshold, t.threshold = false, 0
	if t.Threshold == nil {
		return nil
	}
	if c.Task != Classification {
		return c.errAt("train.threshold", "is the decision threshold of a binary classifier; it needs task: classification (task is %s)", c.Task)
	}
	if s, ok := t.Threshold.(string); ok {
		if s != "auto" {
			return c.errAt("train.threshold", "must be auto or a number in (0, 1), got %q", s)
		}
		if *c.Data.Split.Val == 0 {
			return c.errAt("train.threshold", "auto is chosen on the validation split; set data.split.val > 0")
		}
		t.autoThreshold = true
		return nil
	}
	f, ok := yamlNumber(t.Threshold)
	if !ok || !(f > 0 && f < 1) {
		return c.errAt("train.threshold", "must be auto or a number in (0, 1), got %v", t.Threshold)
	}
	t.threshold = f
	return nil
}

// yamlNumber returns the value of a decoded YAML number.
func yamlNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case int:
		return float64(n), true
	case float32:
		return float64(n), true
	}
	return 0, false
}

// validateNumbers refuses NaN and infinite numbers anywhere in the config,
// naming the key: such a value would otherwise pass a range check written
// as "x < 0" and quietly change what the run does (a NaN clip_norm turns
// clipping off; a NaN dropout fails only when the artifact is written).
func (c *Config) validateNumbers() error {
	var bad string
	var walk func(v reflect.Value, key string)
	walk = func(v reflect.Value, key string) {
		if bad != "" {
			return
		}
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem(), key)
			}
		case reflect.Struct:
			t := v.Type()
			for i := range t.NumField() {
				tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
				if tag == "" || tag == "-" || !t.Field(i).IsExported() {
					continue
				}
				walk(v.Field(i), joinKey(key, tag))
			}
		case reflect.Slice, reflect.Array:
			for i := range v.Len() {
				walk(v.Index(i), fmt.Sprintf("%s[%d]", key, i))
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				walk(v.MapIndex(k), joinKey(key, fmt.Sprint(k.Interface())))
			}
		case reflect.Float32, reflect.Float64:
			if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
				bad = key
			}
		}
	}
	walk(reflect.ValueOf(c).Elem(), "")
	if bad != "" {
		return c.errAt(bad, "must be a finite number")
	}
	return nil
}
