package train

import (
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/tensor"
)

// Config is a training run read from a YAML file (see configs/ for
// examples). Every key is checked: unknown keys, wrong types and
// impossible combinations are errors naming the file, line and key,
// reported by ParseConfig before any work starts.
type Config struct {
	// Name names the model (default: the config file's base name).
	Name string `yaml:"name"`
	// Task is classification (the default), regression, or language_model
	// (the default and only task for format text).
	Task          string        `yaml:"task"`
	Data          DataConfig    `yaml:"data"`
	Preprocessing Preprocessing `yaml:"preprocessing"`
	// Model is the architecture; input and outputs are inferred from the
	// data when absent.
	Model model.Architecture `yaml:"model"`
	Train TrainConfig        `yaml:"train"`
	// Tune is the search space of shen tune (package tune); train ignores it.
	Tune any `yaml:"tune"`

	// File is the config's path (for messages and relative data paths);
	// Raw its bytes (hashed into the artifact). Set by ParseConfig.
	File string `yaml:"-"`
	Raw  []byte `yaml:"-"`

	lines map[string]int // dotted key → line, for semantic errors
}

// DataConfig says where the data is and how to read and split it.
type DataConfig struct {
	// Path is the data file (or folder for images), relative to the
	// config file's folder unless absolute. For idx it is the images file.
	Path string `yaml:"path"`
	// Labels is the IDX labels file (format idx).
	Labels string `yaml:"labels"`
	// ClassNames names the classes of an IDX labels file in label order
	// ([T-shirt, Trouser, ...] for label 0, 1, ...), so predictions and
	// reports say names, not numbers (format idx; default: the numbers).
	ClassNames []string `yaml:"class_names"`
	// Format is csv, tsv, jsonl, sklearn_csv, idx, images or text
	// (default: from the file name).
	Format string `yaml:"format"`
	// Target names the label column (csv, tsv, jsonl; "target" for sklearn_csv).
	Target string `yaml:"target"`
	// Header says whether a csv/tsv file has a header line (default true).
	Header *bool `yaml:"header"`
	// Features lists the input columns and their types; all columns but
	// the target when empty, typed from the data.
	Features []Feature `yaml:"features"`
	// Limit reads only the first Limit samples (0: all).
	Limit    int         `yaml:"limit"`
	Cleaning Cleaning    `yaml:"cleaning"`
	Split    SplitConfig `yaml:"split"`
	// Image sets the size images are read at (format images).
	Image ImageConfig `yaml:"image"`
	// Window cuts a table of time-ordered rows into [length, features]
	// windows for sequence models (csv, tsv, jsonl).
	Window *WindowConfig `yaml:"window"`
	// Text sets how a text file is tokenised and cut (format text).
	Text *TextConfig `yaml:"text"`
}

// WindowConfig turns time-ordered rows into sequence samples. The rows
// are split by time (the first part trains, the next validates, the last
// tests; a window belongs to the split of its target row and its inputs
// never come from a later split), the preprocessing is fitted on the
// training rows only, and each window holds Length consecutive rows of
// transformed features.
type WindowConfig struct {
	// Length is the number of steps per window.
	Length int `yaml:"length"`
	// Stride is the step between window starts (default 1).
	Stride int `yaml:"stride"`
	// Target is "last" (the target column at the window's last step; the
	// default) or "next" (its value at the step after the window, for
	// forecasting; regression only, and the column may also be a feature).
	Target string `yaml:"target"`
	// Group, when set, names a column whose value changes between series
	// (a sensor id): windows never span two series, and each series is
	// split by time on its own.
	Group string `yaml:"group"`
	// Split is time (the default: each series' first rows train, later
	// ones validate and test) or group (whole series go to one split,
	// the last ones to test: the model is scored on unseen series).
	Split string `yaml:"split"`
	// Log models the target column as log(value) (target next; the values
	// must be positive), as the label and as an input.
	Log bool `yaml:"log"`
	// Difference models the change of the target column from one row to
	// the next (after Log, if set): the network predicts the change from
	// the window's last value, which is added back (target next, and the
	// target must be among the features). Both are saved in the artifact
	// (model.Window), so predict and evaluate invert them exactly.
	Difference bool `yaml:"difference"`
	// Season is the seasonal period in rows (12 for monthly data); when
	// set, a forecaster's test report adds the seasonal-naive baseline
	// (the value Season rows before the forecast row).
	Season int `yaml:"season"`
}

// TextConfig configures a character (or word) language model's data.
type TextConfig struct {
	// Level is char (default) or word.
	Level string `yaml:"level"`
	// Seq is the number of tokens per training window.
	Seq int `yaml:"seq"`
	// Stride is the step between training windows (default seq/2).
	Stride int `yaml:"stride"`
}

// Feature is one input column and its type.
type Feature struct {
	// Name is the column's name in the file.
	Name string `yaml:"name"`
	// Type is numeric, category, date (a date or datetime, turned into
	// calendar features; detected when left out), text or image.
	Type string `yaml:"type"`
}

// Cleaning configures data.Clean on the whole file before the split.
type Cleaning struct {
	// DropDuplicates removes rows repeated exactly (default false).
	DropDuplicates bool `yaml:"drop_duplicates"`
	// Missing is keep (the default), drop or impute.
	Missing string `yaml:"missing"`
	// Impute is mean (default), median or mode, for missing: impute.
	Impute string `yaml:"impute"`
	// Clip, when set, clips numeric columns to these quantiles [low, high].
	Clip []float64 `yaml:"clip"`
}

// SplitConfig sets the validation and test fractions.
type SplitConfig struct {
	// Val is the fraction of the samples held out for validation, in
	// [0, 1) (default 0.1).
	Val *float64 `yaml:"val"`
	// Test is the fraction held out for the final test, in [0, 1) (default
	// 0.2); val + test must leave samples to train on.
	Test *float64 `yaml:"test"`
	// Stratify keeps class proportions in each split (classification;
	// default true).
	Stratify *bool `yaml:"stratify"`
	// Seed seeds the shuffle that assigns samples to splits (default 0).
	Seed uint64 `yaml:"seed"`
}

// ImageConfig is the size images are resized to.
type ImageConfig struct {
	// Width is the width images are resized to, in pixels (required for
	// format images).
	Width int `yaml:"width"`
	// Height is the height images are resized to, in pixels (required for
	// format images).
	Height int `yaml:"height"`
	// Gray reads images as one grey channel (ITU-R 601 luma) instead of
	// RGB.
	Gray bool `yaml:"gray"`
}

// Preprocessing lists the transforms fitted on the training split and
// saved in the artifact.
type Preprocessing struct {
	// Numeric is the default transform of numeric features: standardize
	// (the default), minmax, robust, log, or none.
	Numeric string `yaml:"numeric"`
	// Categorical is onehot (the default) or ordinal.
	Categorical string `yaml:"categorical"`
	// Impute fills values missing at serving time: mean (default for
	// tabular data), median, mode or none.
	Impute string `yaml:"impute"`
	// Features overrides the transforms of single features, applied in
	// order: e.g. {income: [log, standardize]}.
	Features map[string][]string `yaml:"features"`
	// Image configures image inputs (idx, images).
	Image ImagePrep `yaml:"image"`
}

// ImagePrep configures image normalisation and augmentation.
type ImagePrep struct {
	// Normalize standardises each channel with the mean and std fitted on
	// the training split (pixels are read into [0, 1] first); the
	// statistics are saved in the artifact (model.Spec.Image), so
	// evaluation, prediction and serving normalise exactly as training did.
	Normalize bool `yaml:"normalize"`
	// Augment is the training-time random crop padding and flip.
	Augment *AugmentConfig `yaml:"augment"`
}

// AugmentConfig is data.ImageAugment in YAML.
type AugmentConfig struct {
	// Pad zero-pads each training image by this many pixels and crops it
	// back at a random offset (0: no random crop).
	Pad int `yaml:"pad"`
	// HFlip mirrors each training image left-right with probability 0.5.
	HFlip bool `yaml:"hflip"`
}

// TrainConfig holds the fit loop's settings.
type TrainConfig struct {
	// Epochs is the number of passes over the training split (required,
	// positive).
	Epochs int `yaml:"epochs"`
	// BatchSize is the number of samples per optimizer step (default 32).
	BatchSize int `yaml:"batch_size"`
	// Optimizer names the optimizer and its hyperparameters.
	Optimizer OptimizerConfig `yaml:"optimizer"`
	// Schedule names the learning-rate schedule.
	Schedule ScheduleConfig `yaml:"schedule"`
	// ClipNorm rescales the gradients so their global L2 norm is at most
	// this (0: no clipping), as torch.nn.utils.clip_grad_norm_.
	ClipNorm float64 `yaml:"clip_norm"`
	// EarlyStopping stops on the monitored metric (patience 0: off).
	EarlyStopping EarlyStopping `yaml:"early_stopping"`
	// Seed seeds initialisation and shuffling (default 1).
	Seed *uint64 `yaml:"seed"`
	// CheckpointEvery writes a checkpoint every N steps as well as after
	// every epoch.
	CheckpointEvery int `yaml:"checkpoint_every"`
	// Threads caps the kernel threads (0: all cores).
	Threads int `yaml:"threads"`
	// ClassWeights weights each class's term of the cross-entropy
	// (classification): "balanced" (n / (classes · count of the class),
	// counted on the training split, as scikit-learn's
	// class_weight="balanced") or one non-negative weight per class, in
	// class order: [w0, w1, ...]. The validation loss is weighted alike.
	ClassWeights any `yaml:"class_weights"`
	// Threshold is the decision threshold of a binary classifier on the
	// probability of the second class: "auto" chooses the one that
	// maximises that class's F1 on the validation split (ties: the fewest
	// validation errors); a number in (0, 1) fixes it. It is saved in the
	// artifact and used by evaluate and predict. Unset: the most probable
	// class.
	Threshold any `yaml:"threshold"`
	// Precision is fp32 (default) or bf16: mixed precision as
	// torch.autocast("cpu", dtype=torch.bfloat16) gives it. The products
	// of linear, convolution, attention and recurrent layers, forward and
	// backward, round their operands to bfloat16 and sum in float32;
	// weights, gradients and optimizer state stay float32. On CPUs without
	// AVX512-BF16 or AMX-BF16 the rounding is emulated, which is slower
	// than fp32 (the run says so). The artifact records it.
	Precision string `yaml:"precision"`

	// Parsed by Validate from ClassWeights and Threshold.
	balanced      bool
	weights       []float64
	autoThreshold bool
	threshold     float64
	precision     tensor.Precision
}

// OptimizerConfig names the optimizer and its hyperparameters.
type OptimizerConfig struct {
	// Name is adam (default), adamw, sgd, rmsprop or adagrad.
	Name string `yaml:"name"`
	// LR is the learning rate, a positive number (default 0.001; 0.01 for
	// sgd).
	LR float64 `yaml:"lr"`
	// WeightDecay is the L2 penalty (decoupled for adamw), >= 0.
	WeightDecay float64 `yaml:"weight_decay"`
	// Momentum is in [0, 1) (sgd and rmsprop only).
	Momentum float64 `yaml:"momentum"`
}

// ScheduleConfig names the learning-rate schedule.
type ScheduleConfig struct {
	// Name is none (default), step, cosine, exponential, warmup_cosine,
	// onecycle or plateau.
	Name string `yaml:"name"`
	// StepSize is the number of epochs between decays (step).
	StepSize int `yaml:"step_size"`
	// Gamma is the decay factor (step, exponential).
	Gamma float64 `yaml:"gamma"`
	// Warmup is the number of warm-up steps (warmup_cosine).
	Warmup int `yaml:"warmup"`
	// MinLR is the lowest learning rate (cosine, warmup_cosine, plateau).
	MinLR float64 `yaml:"min_lr"`
	// MaxLR is the peak learning rate (onecycle; default: the optimizer's).
	MaxLR float64 `yaml:"max_lr"`
	// Patience is the number of epochs without improvement before a decay
	// (plateau).
	Patience int `yaml:"patience"`
	// Factor multiplies the learning rate at each decay, in (0, 1)
	// (plateau).
	Factor float64 `yaml:"factor"`
}
