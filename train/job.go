package train

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/optim"
	"github.com/shenml/shen/tensor"
)

// Files and folders a run writes inside its directory.
const (
	ModelDir       = "model"
	CheckpointsDir = "checkpoints"
	RunLogFile     = "metrics.jsonl"
	CleanFile      = "cleaning.json"
)

// RunOptions are the knobs of Run that are not part of the config.
type RunOptions struct {
	// Out receives progress and summaries (nil: io.Discard).
	Out io.Writer
}

// Result is what Run produced.
type Result struct {
	// Dir is the run directory; ModelDir the artifact inside it.
	Dir, ModelDir string
	// Classes are the class names (classification).
	Classes []string
	// Sizes is the number of samples per split.
	Sizes map[string]int
	// History is the fit loop's history.
	History *History
	// Test is the evaluation of the restored best model on the test split
	// (nil when the test fraction is 0).
	Test *Evaluation
	// Clean is the cleaning report (tabular data).
	Clean *data.CleanReport
	// Model is the saved artifact.
	Model *model.Model
}

// prepared is the data of a run, split, transformed and ready to load.
type prepared struct {
	classes                []string
	pipe                   *data.Pipeline
	profile                *data.Profile
	trainDS, valDS, testDS data.Dataset
	input                  []int // per-sample input shape
	clean                  *data.CleanReport
	dataHash               string
	trainN, valN, testN    int
	// window is set for sequence samples cut from rows; rescale is the
	// [scale, shift] of regression targets on windows; naiveRMSE the test
	// RMSE of repeating the last value (forecasting).
	window    *model.Window
	rescale   []float32
	naiveRMSE float64
	// seasonalRMSE is the test RMSE of the seasonal-naive forecast (the
	// value data.window.season rows back) over the seasonalN test windows
	// that have one.
	seasonalRMSE float64
	seasonalN    int
	// valInvert and testInvert map a transformed forecast target back to
	// its units (data.window log/difference) for the metrics.
	valInvert, testInvert func(pred, target []float64, idx []int)
	// trainY are the training labels (classification), for balanced
	// class weights.
	trainY []int64
	// vocab is the tokenizer of a language model on text; unigram the
	// validation loss of predicting tokens by their training frequency.
	vocab   *data.Vocab
	unigram float64
	// image is how raw images become inputs (idx, images).
	image *model.ImageInput
}

// Run carries out the training run described by cfg in dir: it reads the
// data, cleans it, splits it, fits the preprocessing on the training split
// only, profiles the training inputs, builds the model, fits it (with
// checkpoints in dir/checkpoints, so running it again after a crash
// resumes), evaluates on the test split and saves the artifact in
// dir/model, with metrics.jsonl, report.html and the SVG charts in dir.
func Run(ctx context.Context, cfg *Config, dir string, ro RunOptions) (*Result, error) {
	out := ro.Out
	if out == nil {
		out = io.Discard
	}
	started := time.Now()
	seed := uint64(1)
	if cfg.Train.Seed != nil {
		seed = *cfg.Train.Seed
	}
	if cfg.Train.Threads > 0 {
		defer kernel.SetThreads(kernel.SetThreads(cfg.Train.Threads))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(cfg.Raw)
	configHash := hex.EncodeToString(sum[:])
	ckDir := filepath.Join(dir, CheckpointsDir)
	if err := guardCheckpoints(ckDir, configHash); err != nil {
		return nil, err
	}

	p, err := prepare(cfg, seed, out)
	if err != nil {
		return nil, err
	}
	if p.clean != nil {
		b, _ := json.MarshalIndent(p.clean, "", "  ")
		if err := WriteFileAtomic(filepath.Join(dir, CleanFile), b, 0o644); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(out, "data: %d train, %d val, %d test samples; input %v", p.trainN, p.valN, p.testN, p.input)
	if cfg.Task == Classification {
		fmt.Fprintf(out, "; %d classes", len(p.classes))
	}
	if p.vocab != nil {
		fmt.Fprintf(out, "; vocabulary %d; unigram baseline %.4f nats/token", p.vocab.Len(), p.unigram)
	}
	fmt.Fprintln(out)
	if p.image != nil && p.image.Normalize != nil {
		fmt.Fprintf(out, "images: normalised per channel with the training split's mean %v and std %v\n", p.image.Normalize.Mean, p.image.Normalize.Std)
	}

	arch := cfg.Model
	if len(arch.Input) == 0 {
		arch.Input = p.input
	} else if prod(arch.Input) != prod(p.input) {
		return nil, cfg.errAt("model.input", "%v holds %d values per sample, the data gives %d (%v)", arch.Input, prod(arch.Input), prod(p.input), p.input)
	}
	outputs := 1
	switch cfg.Task {
	case Classification:
		outputs = len(p.classes)
	case LanguageModel:
		outputs = p.vocab.Len()
	}
	if arch.Outputs != 0 && arch.Outputs != outputs {
		return nil, cfg.errAt("model.outputs", "is %d, the data needs %d", arch.Outputs, outputs)
	}
	arch.Outputs = outputs
	arch.Rescale = p.rescale != nil
	nn.SetSeed(seed)
	net, err := model.Build(arch)
	if err != nil {
		return nil, cfg.errAt("model", "%v", err)
	}
	if p.rescale != nil {
		nn.Walk(net, func(_ string, m nn.Module) {
			if r, ok := m.(*model.Rescale); ok {
				r.Scale.Data()[0], r.Shift.Data()[0] = p.rescale[0], p.rescale[1]
			}
		})
		if w := p.window; w != nil && w.Transforms() {
			fmt.Fprintf(out, "targets: %s, standardised with the training mean %.4g and std %.4g; predictions and metrics are mapped back to %s\n", targetScale(w), p.rescale[1], p.rescale[0], w.Column)
		} else {
			fmt.Fprintf(out, "targets: standardised with the training mean %.4g and std %.4g; predictions are in the target's units\n", p.rescale[1], p.rescale[0])
		}
	}
	shape, err := model.OutputShape(net, arch.Input)
	if err != nil {
		return nil, cfg.errAt("model", "%v", err)
	}
	if cfg.Task == LanguageModel {
		if !slices.Equal(shape, []int{arch.Input[0], outputs}) {
			return nil, cfg.errAt("model", "gives outputs of shape %v per sample, a language model needs [%d, %d]", shape, arch.Input[0], outputs)
		}
	} else if len(shape) != 1 || shape[0] != outputs {
		return nil, cfg.errAt("model", "gives outputs of shape %v per sample, the task needs [%d]", shape, outputs)
	}
	nn.Train(net, true)
	fmt.Fprintf(out, "model: %s, %d parameters\n", arch.Kind, nn.NumParameters(net))

	bs := cfg.Train.BatchSize
	trainL, err := data.NewLoader(p.trainDS, data.LoaderOptions{BatchSize: bs, Shuffle: true, Seed: seed, Prefetch: 2})
	if err != nil {
		return nil, err
	}
	var valL, testL *data.Loader
	if p.valN > 0 {
		if valL, err = data.NewLoader(p.valDS, data.LoaderOptions{BatchSize: max(bs, 256)}); err != nil {
			return nil, err
		}
	}
	if p.testN > 0 {
		if testL, err = data.NewLoader(p.testDS, data.LoaderOptions{BatchSize: max(bs, 256)}); err != nil {
			return nil, err
		}
	}
	weights, err := classWeights(cfg, p)
	if err != nil {
		return nil, err
	}
	if weights != nil {
		fmt.Fprintf(out, "class weights: %v\n", weights)
	}
	opt, err := NewOptimizer(cfg.Train.Optimizer, nn.Parameters(net))
	if err != nil {
		return nil, cfg.errAt("train.optimizer", "%v", err)
	}
	fo := FitOptions{
		Model: net, Optimizer: opt, Train: trainL, Val: valL, Epochs: cfg.Train.Epochs,
		ClipNorm: cfg.Train.ClipNorm, EarlyStopping: cfg.Train.EarlyStopping,
		CheckpointDir: ckDir, CheckpointEvery: cfg.Train.CheckpointEvery,
		Progress: out, Task: cfg.Task, Classes: p.classes,
		ClassWeights: weights, Invert: p.valInvert,
	}
	if cfg.Task == LanguageModel {
		fo.Input, fo.Loss = lmInput, lmLoss
	} else if !slices.Equal(arch.Input, p.input) {
		in := arch.Input
		fo.Input = func(b *data.Batch) *tensor.Tensor {
			return tensor.FromSlice(b.X, append([]int{b.Size}, in...)...)
		}
	}
	if err := setSchedule(&fo, cfg.Train.Schedule, trainL.Len()); err != nil {
		return nil, cfg.errAt("train.schedule", "%v", err)
	}
	logPath := filepath.Join(dir, RunLogFile)
	rl, err := OpenRunLog(logPath)
	if err != nil {
		return nil, err
	}
	defer rl.Close()
	fo.Log = rl
	if err := checkFit(&fo); err != nil { // fills the defaults evaluate needs below
		return nil, err
	}
	hist, err := Fit(ctx, fo)
	if err != nil {
		return nil, err
	}
	res := &Result{Dir: dir, ModelDir: filepath.Join(dir, ModelDir), Classes: p.classes, History: hist, Clean: p.clean,
		Sizes: map[string]int{SplitTrain: p.trainN, SplitVal: p.valN, SplitTest: p.testN}}

	metrics := map[string]float64{}
	if len(hist.Epochs) > 0 {
		last := hist.Epochs[len(hist.Epochs)-1]
		if hist.BestEpoch > 0 {
			last = hist.Epochs[hist.BestEpoch-1]
		}
		metrics["train_loss"] = last.TrainLoss
		if p.valN > 0 {
			metrics["val_loss"] = last.ValLoss
			for k, v := range last.Val {
				metrics["val_"+k] = v
			}
		}
	}
	var threshold *float64
	if t := cfg.Train.threshold; t > 0 || cfg.Train.autoThreshold {
		if len(p.classes) != 2 {
			return nil, cfg.errAt("train.threshold", "is for binary classification; the data has %d classes", len(p.classes))
		}
		if cfg.Train.autoThreshold {
			tc, err := chooseThreshold(net, valL, &fo)
			if err != nil {
				return nil, cfg.errAt("train.threshold", "%v", err)
			}
			t = tc.Threshold
			if tc.Positives == 0 {
				fmt.Fprintf(out, "threshold: %.4g on validation, which has no %q samples: F1 is 0 at every threshold, so it is the lowest with no false alarm (%d %q samples)\n", t, p.classes[1], tc.Negatives, p.classes[0])
			} else {
				fmt.Fprintf(out, "threshold: %.4g maximises validation F1 of %q: precision %.4f recall %.4f F1 %.4f (%d of %d positives, %d false alarms)\n", t, p.classes[1], tc.Precision, tc.Recall, tc.F1, tc.TP, tc.Positives, tc.FP)
			}
			metrics["val_threshold_f1"] = tc.F1
		}
		threshold = &t
		metrics["threshold"] = t
	}
	if testL != nil {
		tfo := fo
		tfo.Invert = p.testInvert
		if threshold != nil {
			tfo.Threshold = *threshold
		}
		ev, err := evaluate(net, testL, &tfo)
		if err != nil {
			return nil, err
		}
		res.Test = ev
		metrics["test_loss"] = ev.Loss
		for k, v := range ev.Metrics {
			metrics["test_"+k] = v
		}
		if p.unigram > 0 {
			metrics["test_unigram_loss"] = p.unigram
			fmt.Fprintf(out, "test: loss %.4f nats/token (unigram baseline %.4f, %.0f%% lower)\n", ev.Loss, p.unigram, 100*(1-ev.Loss/p.unigram))
		}
		if p.naiveRMSE > 0 || p.seasonalRMSE > 0 {
			fmt.Fprintf(out, "test: rmse %.4g", ev.Metrics["rmse"])
			if p.naiveRMSE > 0 {
				metrics["test_naive_rmse"] = p.naiveRMSE
				ev.Metrics["naive_rmse"] = p.naiveRMSE
				fmt.Fprintf(out, "; naive last-value forecast %.4g", p.naiveRMSE)
			}
			if p.seasonalRMSE > 0 {
				metrics["test_seasonal_naive_rmse"] = p.seasonalRMSE
				ev.Metrics["seasonal_naive_rmse"] = p.seasonalRMSE
				fmt.Fprintf(out, "; seasonal naive (%d rows back) %.4g", cfg.Data.Window.Season, p.seasonalRMSE)
				if p.seasonalN < p.testN {
					fmt.Fprintf(out, " on the %d of %d windows with a value a season back", p.seasonalN, p.testN)
				}
			}
			fmt.Fprintln(out)
		}
		if threshold != nil && ev.Report != nil {
			fmt.Fprintf(out, "test at threshold %.4g: %q precision %.4f recall %.4f F1 %.4f\n", *threshold, p.classes[1], ev.Metrics["precision"], ev.Metrics["recall"], ev.Metrics["f1"])
		}
		if err := rl.Write(Record{Epoch: hist.BestEpoch, Step: hist.Steps, Split: SplitTest, Loss: ev.Loss, Metrics: ev.Metrics, WallSeconds: time.Since(started).Seconds()}); err != nil {
			return nil, err
		}
	}
	nn.Train(net, false)

	spec := model.Spec{
		Name: cfg.Name, Task: cfg.Task, Architecture: arch, Signature: model.DefaultSignature(arch),
		Preprocessing: p.pipe, Window: p.window, Vocab: p.vocab, Image: p.image, Threshold: threshold,
		Training: model.Training{
			Seed: seed, ConfigHash: configHash, DataHash: p.dataHash, Epochs: len(hist.Epochs),
			Samples: p.trainN, Metrics: metrics, Started: started.UTC(), Finished: time.Now().UTC(),
		},
	}
	if cfg.Task == Classification {
		spec.Labels = p.classes
	}
	if cfg.Task == LanguageModel {
		spec.Signature = model.Signature{
			Inputs:  []model.Tensor{{Name: "input_ids", Datatype: "INT64", Shape: []int{-1, -1}}},
			Outputs: []model.Tensor{{Name: "logits", Datatype: "FP32", Shape: []int{-1, -1, outputs}}},
		}
	}
	if p.pipe != nil {
		spec.Signature.Inputs = nil
		for _, f := range p.pipe.Inputs() {
			dt := "FP32"
			if f.Type == data.Categorical {
				dt = "BYTES"
			}
			spec.Signature.Inputs = append(spec.Signature.Inputs, model.Tensor{Name: f.Name, Datatype: dt, Shape: []int{-1}})
		}
	}
	m := &model.Model{Spec: spec, Net: net, Profile: p.profile}
	if err := m.Save(res.ModelDir); err != nil {
		return nil, err
	}
	res.Model = m

	recs, err := ReadRunLog(logPath)
	if err != nil {
		return nil, err
	}
	rs := RunSummary{
		Title:   "Training report: " + cfg.Name,
		Records: recs, Started: started, TrainingTime: time.Since(started), Dataset: res.Sizes,
		Config: map[string]string{
			"config": cfg.File, "config_sha256": configHash[:16], "data": cfg.Data.Path, "data_sha256": p.dataHash[:min(16, len(p.dataHash))],
			"model": arch.Kind, "parameters": strconv.Itoa(nn.NumParameters(net)),
			"optimizer": cfg.Train.Optimizer.Name, "lr": strconv.FormatFloat(cfg.Train.Optimizer.LR, 'g', -1, 64),
			"batch_size": strconv.Itoa(bs), "epochs": strconv.Itoa(cfg.Train.Epochs), "seed": strconv.FormatUint(seed, 10),
			"schedule": cfg.Train.Schedule.Name,
		},
	}
	if cfg.Task == Regression {
		rs.Metric = "r2"
	}
	if res.Test != nil {
		rs.EvalSplit = SplitTest
		rs.Classification, rs.Regression = res.Test.Report, res.Test.Regression
	} else if hist.LastValReport != nil {
		rs.Classification = hist.LastValReport
	}
	if err := WriteReport(dir, rs); err != nil {
		return nil, err
	}
	return res, nil
}

// targetScale describes a window's transformed target, e.g. "the change
// of log(y) from the last row".
func targetScale(w *model.Window) string {
	v := w.Column
	if w.Log {
		v = "log(" + v + ")"
	}
	if w.Difference {
		return "the change of " + v + " from the window's last row"
	}
	return v
}

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// guardCheckpoints refuses to resume checkpoints written for another
// config, and records the config's hash for the next run.
func guardCheckpoints(dir, hash string) error {
	p := filepath.Join(dir, "config.sha256")
	b, err := os.ReadFile(p)
	if err == nil {
		if strings.TrimSpace(string(b)) != hash {
			return fmt.Errorf("train: %s holds checkpoints of a run with another config; use another output directory or delete it", dir)
		}
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return WriteFileAtomic(p, []byte(hash+"\n"), 0o644)
}

// fileHash returns the hex sha256 of the files' bytes, in order.
func fileHash(paths ...string) (string, error) {
	h := sha256.New()
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("%s: %w", p, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// prepare reads, cleans, splits and transforms the data of cfg.
func prepare(cfg *Config, seed uint64, out io.Writer) (*prepared, error) {
	d := cfg.Data
	path := cfg.DataPath(d.Path)
	p := &prepared{}
	var err error
	switch d.Format {
	case "idx":
		if p.dataHash, err = fileHash(path, cfg.DataPath(d.Labels)); err != nil {
			return nil, err
		}
		ds, err := data.LoadMNIST(path, cfg.DataPath(d.Labels))
		if err != nil {
			return nil, err
		}
		return prepareArrays(cfg, p, ds, nil, seed)
	case "images":
		f, err := data.ReadImageFolder(path, data.ImageOptions{Width: d.Image.Width, Height: d.Image.Height, Gray: d.Image.Gray})
		if err != nil {
			return nil, err
		}
		if p.dataHash, err = fileHash(f.Paths...); err != nil {
			return nil, err
		}
		ds, err := data.NewArrayDataset(f.X, []int{f.C, f.H, f.W}, f.Labels)
		if err != nil {
			return nil, err
		}
		return prepareArrays(cfg, p, ds, f.Classes, seed)
	}
	if p.dataHash, err = fileHash(path); err != nil {
		return nil, err
	}
	if d.Format == "text" {
		return prepareText(cfg, p, out)
	}
	return prepareTable(cfg, p, seed, out)
}

// prepareArrays splits an in-memory image dataset, fits the image
// normalisation (when configured) and the profile on the training split
// only, and wraps the splits so every sample reaches the model as the
// artifact's ImageInput.Apply would give it.
func prepareArrays(cfg *Config, p *prepared, ds *data.ArrayDataset, classes []string, seed uint64) (*prepared, error) {
	n := ds.Len()
	if cfg.Data.Limit > 0 && cfg.Data.Limit < n {
		n = cfg.Data.Limit
	}
	if classes == nil {
		maxY := int64(0)
		for _, y := range ds.Y[:n] {
			maxY = max(maxY, y)
		}
		for i := range maxY + 1 {
			classes = append(classes, strconv.FormatInt(i, 10))
		}
	}
	p.classes = classes
	tr, va, te, err := splitIdx(cfg, n, ds.Y[:n])
	if err != nil {
		return nil, err
	}
	p.input = ds.Spec().XShape
	if len(p.input) != 3 {
		return nil, fmt.Errorf("train: images of shape %v are not [channels, height, width]", p.input)
	}
	c, h, w := p.input[0], p.input[1], p.input[2]
	p.image = &model.ImageInput{Channels: c, Height: h, Width: w}
	if cfg.Preprocessing.Image.Normalize {
		if p.image.Normalize, err = data.FitImageNormalizeRows(ds.X, c, h, w, tr); err != nil {
			return nil, fmt.Errorf("train: fitting the image normalisation on the training split: %w", err)
		}
	}
	if p.profile, err = data.NewImageProfile(ds.X, c, h, w, tr, ds.Y, classes, 10); err != nil {
		return nil, err
	}
	var train data.Dataset = &data.Subset{Base: ds, Indices: tr}
	if a := cfg.Preprocessing.Image.Augment; a != nil {
		train = &data.Augmented{Base: train, Aug: data.ImageAugment{Pad: a.Pad, HFlip: a.HFlip}, Normalize: p.image.Normalize, Seed: seed}
	} else {
		train = imageInputs(train, p.image)
	}
	p.trainDS = train
	p.trainY = make([]int64, len(tr))
	for i, j := range tr {
		p.trainY[i] = ds.Y[j]
	}
	p.valDS = imageInputs(&data.Subset{Base: ds, Indices: va}, p.image)
	p.testDS = imageInputs(&data.Subset{Base: ds, Indices: te}, p.image)
	p.trainN, p.valN, p.testN = len(tr), len(va), len(te)
	return p, nil
}

// imageInputs returns ds with in.Apply run on every sample (ds itself
// when in has nothing to apply).
func imageInputs(ds data.Dataset, in *model.ImageInput) data.Dataset {
	if in.Normalize == nil {
		return ds
	}
	return &appliedImages{Dataset: ds, in: in}
}

// appliedImages is a Dataset whose samples go through an ImageInput.
type appliedImages struct {
	data.Dataset
	in *model.ImageInput
}

// Get reads sample i and applies the image preprocessing to it.
func (a *appliedImages) Get(i int, s data.Sample) error {
	if err := a.Dataset.Get(i, s); err != nil {
		return err
	}
	return a.in.Apply(s.X)
}

// SetEpoch forwards to the base when it is an EpochSetter.
func (a *appliedImages) SetEpoch(e int) {
	if es, ok := a.Dataset.(data.EpochSetter); ok {
		es.SetEpoch(e)
	}
}

func splitIdx(cfg *Config, n int, labels []int64) (tr, va, te []int, err error) {
	so := data.SplitOptions{Val: *cfg.Data.Split.Val, Test: *cfg.Data.Split.Test, Seed: cfg.Data.Split.Seed}
	if *cfg.Data.Split.Stratify && cfg.Task == Classification {
		so.Stratify = labels
	}
	tr, va, te, err = data.Split(n, so)
	if err != nil {
		return nil, nil, nil, cfg.errAt("data.split", "%v", err)
	}
	if len(tr) == 0 {
		return nil, nil, nil, cfg.errAt("data.split", "leaves no training samples out of %d", n)
	}
	return tr, va, te, nil
}

// prepareTable reads a table, cleans it, splits it and fits the pipeline
// on the training rows.
func prepareTable(cfg *Config, p *prepared, seed uint64, out io.Writer) (*prepared, error) {
	d := cfg.Data
	path := cfg.DataPath(d.Path)
	var f *data.Frame
	var sk []string
	var err error
	opts := data.CSVOptions{MaxRows: d.Limit, Types: map[string]data.ColumnType{}}
	for _, ft := range d.Features {
		switch ft.Type {
		case "numeric":
			opts.Types[ft.Name] = data.Numeric
		case "category":
			opts.Types[ft.Name] = data.Categorical
		}
	}
	if cfg.Task == Classification && d.Format != "sklearn_csv" {
		opts.Types[d.Target] = data.Categorical
	}
	switch d.Format {
	case "sklearn_csv":
		f, sk, err = data.ReadSklearnCSV(path)
		if err == nil && d.Limit > 0 && d.Limit < f.NumRows() {
			f = f.Take(seq(d.Limit))
		}
	case "jsonl":
		f, err = data.ReadJSONL(path, opts)
	default:
		if d.Format == "tsv" {
			opts.Comma = '\t'
		}
		if d.Header != nil && !*d.Header {
			opts.NoHeader = true
		}
		f, err = data.ReadCSV(path, opts)
	}
	if err != nil {
		return nil, err
	}
	if f.Col(d.Target) == nil {
		return nil, cfg.errAt("data.target", "column %q is not in %s (columns: %s)", d.Target, d.Path, strings.Join(f.Names(), ", "))
	}
	feats := make([]string, 0, len(d.Features))
	for _, ft := range d.Features {
		if f.Col(ft.Name) == nil {
			return nil, cfg.errAt("data.features", "column %q is not in %s (columns: %s)", ft.Name, d.Path, strings.Join(f.Names(), ", "))
		}
		feats = append(feats, ft.Name)
	}
	if len(feats) == 0 {
		for _, n := range f.Names() {
			if n != d.Target && (d.Window == nil || n != d.Window.Group) {
				feats = append(feats, n)
			}
		}
	}
	for n := range cfg.Preprocessing.Features {
		if !slices.Contains(feats, n) {
			return nil, cfg.errAt("preprocessing.features."+n, "column %q is not a feature of %s", n, d.Path)
		}
	}
	keep := slices.Clone(feats)
	if !slices.Contains(keep, d.Target) {
		keep = append(keep, d.Target)
	}
	if w := d.Window; w != nil && w.Group != "" && !slices.Contains(keep, w.Group) {
		if f.Col(w.Group) == nil {
			return nil, cfg.errAt("data.window.group", "column %q is not in %s (columns: %s)", w.Group, d.Path, strings.Join(f.Names(), ", "))
		}
		keep = append(keep, w.Group)
	}
	if f, err = f.Select(keep...); err != nil {
		return nil, err
	}
	co := data.CleanOptions{DropDuplicates: d.Cleaning.DropDuplicates}
	switch d.Cleaning.Missing {
	case "drop":
		co.Missing = data.DropMissing
	case "impute":
		co.Missing = data.ImputeMissing
		co.Strategy = data.ImputeStrategy(d.Cleaning.Impute)
		if co.Strategy == "" {
			co.Strategy = data.Mean
		}
		co.Columns = feats
	}
	if len(d.Cleaning.Clip) == 2 {
		co.ClipLow, co.ClipHigh = d.Cleaning.Clip[0], d.Cleaning.Clip[1]
		for _, n := range feats {
			if f.Col(n).Type == data.Numeric {
				co.ClipColumns = append(co.ClipColumns, n)
			}
		}
	}
	// Rows without a target cannot be used for training.
	tc := f.Col(d.Target)
	if tc.MissingCount() > 0 {
		keep := make([]int, 0, f.NumRows())
		for i := range f.NumRows() {
			if !tc.IsMissing(i) {
				keep = append(keep, i)
			}
		}
		fmt.Fprintf(out, "cleaning: dropped %d rows with no %s\n", f.NumRows()-len(keep), d.Target)
		f = f.Take(keep)
	}
	f, rep, err := data.Clean(f, co)
	if err != nil {
		return nil, err
	}
	p.clean = rep
	if s := strings.TrimSpace(rep.String()); s != "" && (rep.RowsIn != rep.RowsOut || len(rep.Imputed) > 0 || len(rep.Clipped) > 0 || len(rep.Coerced) > 0) {
		fmt.Fprintf(out, "cleaning:\n%s\n", s)
	}
	n := f.NumRows()
	if n == 0 {
		return nil, fmt.Errorf("train: %s: no rows left after cleaning", path)
	}
	var labels []int64
	var yf []float32
	if cfg.Task == Classification {
		enc, err := data.FitLabels(f, d.Target)
		if err != nil {
			return nil, err
		}
		if labels, err = enc.Encode(f, d.Target); err != nil {
			return nil, err
		}
		p.classes = enc.Classes
		if sk != nil && enc.Numeric && len(enc.Classes) <= len(sk) {
			p.classes = sk
		}
		if len(p.classes) < 2 {
			return nil, cfg.errAt("data.target", "column %q holds %d class; classification needs at least two", d.Target, len(p.classes))
		}
	} else {
		c := f.Col(d.Target)
		if c.Type != data.Numeric {
			return nil, cfg.errAt("data.target", "column %q is not numeric; regression needs numbers", d.Target)
		}
		yf = make([]float32, n)
		for i, v := range c.Num {
			yf[i] = float32(v)
		}
	}
	if d.Window != nil {
		return prepareWindows(cfg, p, f, feats, labels, yf)
	}
	tr, va, te, err := splitIdx(cfg, n, labels)
	if err != nil {
		return nil, err
	}
	x := f.Drop(d.Target)
	trainX := x.Take(tr)
	p.pipe = buildPipeline(cfg, trainX)
	if err := p.pipe.Fit(trainX); err != nil {
		return nil, fmt.Errorf("train: fitting preprocessing on the training split: %w", err)
	}
	p.profile = data.NewProfile(trainX, 10)
	w := p.pipe.Width()
	p.input = []int{w}
	make1 := func(idx []int) (data.Dataset, error) {
		xs, _, err := p.pipe.Transform(x.Take(idx))
		if err != nil {
			return nil, err
		}
		if cfg.Task == Classification {
			ys := make([]int64, len(idx))
			for i, j := range idx {
				ys[i] = labels[j]
			}
			return data.NewArrayDataset(xs, []int{w}, ys)
		}
		ys := make([]float32, len(idx))
		for i, j := range idx {
			ys[i] = yf[j]
		}
		return data.NewRegressionDataset(xs, []int{w}, ys, 1)
	}
	if p.trainDS, err = make1(tr); err != nil {
		return nil, err
	}
	if labels != nil {
		p.trainY = make([]int64, len(tr))
		for i, j := range tr {
			p.trainY[i] = labels[j]
		}
	}
	if p.valDS, err = make1(va); err != nil {
		return nil, err
	}
	if p.testDS, err = make1(te); err != nil {
		return nil, err
	}
	p.trainN, p.valN, p.testN = len(tr), len(va), len(te)
	return p, nil
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// buildPipeline turns the preprocessing section into pipeline steps for
// the columns of f: imputation, per-feature transforms, the numeric
// default, then the categorical encoding.
func buildPipeline(cfg *Config, f *data.Frame) *data.Pipeline {
	pp := cfg.Preprocessing
	var steps []data.Step
	if pp.Impute != "none" {
		steps = append(steps, data.Impute(data.ImputeStrategy(pp.Impute)))
	}
	var nums, cats []string
	for _, c := range f.Columns {
		if _, ok := pp.Features[c.Name]; ok {
			continue
		}
		if c.Type == data.Categorical {
			cats = append(cats, c.Name)
		} else {
			nums = append(nums, c.Name)
		}
	}
	names := make([]string, 0, len(pp.Features))
	for n := range pp.Features {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		for _, t := range pp.Features[n] {
			if s := transformStep(t, n); s != nil {
				steps = append(steps, s)
			}
		}
	}
	if len(nums) > 0 {
		if s := transformStep(pp.Numeric, nums...); s != nil {
			steps = append(steps, s)
		}
	}
	if len(cats) > 0 {
		steps = append(steps, transformStep(pp.Categorical, cats...))
	}
	return data.NewPipeline(steps...)
}

func transformStep(name string, cols ...string) data.Step {
	switch name {
	case "standardize":
		return data.Standardize(cols...)
	case "minmax":
		return data.MinMax(cols...)
	case "robust":
		return data.Robust(cols...)
	case "log":
		return data.Log1p(cols...)
	case "onehot":
		return data.OneHot(cols...)
	case "ordinal":
		return data.Ordinal(cols...)
	}
	return nil
}

// NewOptimizer builds the optimizer a config names over params.
func NewOptimizer(c OptimizerConfig, params []*tensor.Tensor) (optim.Optimizer, error) {
	switch c.Name {
	case "", "adam", "adamw":
		ac := optim.DefaultAdamConfig()
		if c.Name == "adamw" {
			ac = optim.DefaultAdamWConfig()
		}
		ac.LR = c.LR
		if c.WeightDecay != 0 || c.Name == "adam" {
			ac.WeightDecay = c.WeightDecay
		}
		if c.Name == "adamw" {
			return optim.NewAdamW(params, ac)
		}
		return optim.NewAdam(params, ac)
	case "sgd":
		sc := optim.DefaultSGDConfig(c.LR)
		sc.Momentum, sc.WeightDecay = c.Momentum, c.WeightDecay
		return optim.NewSGD(params, sc)
	case "rmsprop":
		rc := optim.DefaultRMSpropConfig()
		rc.LR, rc.Momentum, rc.WeightDecay = c.LR, c.Momentum, c.WeightDecay
		return optim.NewRMSprop(params, rc)
	case "adagrad":
		gc := optim.DefaultAdagradConfig()
		gc.LR, gc.WeightDecay = c.LR, c.WeightDecay
		return optim.NewAdagrad(params, gc)
	}
	return nil, fmt.Errorf("unknown optimizer %q", c.Name)
}

// setSchedule attaches the configured schedule to fo.
func setSchedule(fo *FitOptions, s ScheduleConfig, stepsPerEpoch int) error {
	opt := fo.Optimizer
	var err error
	switch s.Name {
	case "", "none":
	case "step":
		g := s.Gamma
		if g == 0 {
			g = 0.1
		}
		fo.Scheduler, err = optim.NewStepLR(opt, s.StepSize, g)
	case "exponential":
		fo.Scheduler, err = optim.NewExponentialLR(opt, s.Gamma)
	case "cosine":
		fo.Scheduler, err = optim.NewCosineAnnealingLR(opt, fo.Epochs, s.MinLR)
	case "warmup_cosine":
		fo.Scheduler, err = optim.NewWarmupCosine(opt, optim.WarmupCosine{WarmupSteps: s.Warmup, TotalSteps: fo.Epochs * stepsPerEpoch, MinLR: s.MinLR})
		fo.SchedulePerStep = true
	case "onecycle":
		maxLR := s.MaxLR
		if maxLR == 0 {
			maxLR = opt.Groups()[0].LR
		}
		fo.Scheduler, err = optim.NewOneCycleLR(opt, optim.OneCycle{MaxLR: []float64{maxLR}, TotalSteps: fo.Epochs * stepsPerEpoch})
		fo.SchedulePerStep = true
	case "plateau":
		pc := optim.DefaultPlateau()
		if lowerIsBetter(fo.EarlyStopping.Monitor) || fo.EarlyStopping.Monitor == "" {
			pc.Mode = "min"
		} else {
			pc.Mode = "max"
		}
		if s.Factor > 0 {
			pc.Factor = s.Factor
		}
		if s.Patience > 0 {
			pc.Patience = s.Patience
		}
		pc.MinLR = s.MinLR
		fo.Plateau, err = optim.NewReduceLROnPlateau(opt, pc)
	default:
		return fmt.Errorf("unknown schedule %q", s.Name)
	}
	return err
}

// ReadTable reads a CSV, TSV, JSONL (optionally gzipped) or scikit-learn
// CSV file into a Frame, telling them apart by name and, for the
// scikit-learn layout, by its count line ("150,4,setosa,...").
func ReadTable(path string) (*data.Frame, error) {
	n := strings.ToLower(strings.TrimSuffix(strings.ToLower(path), ".gz"))
	if strings.HasSuffix(n, ".jsonl") || strings.HasSuffix(n, ".ndjson") {
		return data.ReadJSONL(path, data.CSVOptions{})
	}
	if isSklearnCSV(path) {
		f, _, err := data.ReadSklearnCSV(path)
		return f, err
	}
	return data.ReadCSV(path, data.CSVOptions{})
}

// isSklearnCSV reports whether the file starts with scikit-learn's count
// line: "<rows>,<features>,<class names...>" followed by rows of
// features+1 fields.
func isSklearnCSV(path string) bool {
	if strings.HasSuffix(strings.ToLower(path), ".gz") {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, 4096)
	k, _ := io.ReadFull(f, buf)
	lines := strings.SplitN(string(buf[:k]), "\n", 3)
	if len(lines) < 2 {
		return false
	}
	head := strings.Split(strings.TrimSpace(lines[0]), ",")
	if len(head) < 2 {
		return false
	}
	_, err1 := strconv.Atoi(head[0])
	d, err2 := strconv.Atoi(head[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return len(strings.Split(strings.TrimSpace(lines[1]), ",")) == d+1
}

// Predictions are a model's outputs for a batch of rows.
type Predictions struct {
	// Classes names the classes (classification).
	Classes []string
	// Class is the index of the predicted class of each row, Probs the
	// class probabilities, row-major [rows, len(Classes)].
	Class []int
	Probs []float32
	// Values are the regression outputs, row-major [rows, outputs].
	Values []float32
	// Outputs is the number of outputs per row.
	Outputs int
	// Inputs names each row's input when the rows are not lines of a
	// table (images: the file, or "<idx file>[i]"); nil otherwise.
	Inputs []string
}

// Features turns the rows of f into model inputs: through the artifact's
// fitted preprocessing when it has one, else the numeric columns of f (all
// but skip) taken as they are, which must match the input size.
//
// For a sequence model with a window spec it returns one sample per
// window instead (see WindowFeatures).
func Features(m *model.Model, f *data.Frame, skip string) ([]float32, int, error) {
	if m.Spec.Window != nil {
		x, n, _, err := WindowFeatures(m, f)
		return x, n, err
	}
	want := prod(m.Spec.Architecture.Input)
	if m.Spec.Preprocessing != nil {
		x, w, err := m.Spec.Preprocessing.Transform(f)
		if err != nil {
			return nil, 0, err
		}
		if w != want {
			return nil, 0, fmt.Errorf("preprocessing gives %d features, the model takes %d", w, want)
		}
		return x, f.NumRows(), nil
	}
	var cols []string
	for _, c := range f.Columns {
		if c.Name != skip {
			if c.Type != data.Numeric {
				return nil, 0, fmt.Errorf("column %q is not numeric and the model has no preprocessing to encode it", c.Name)
			}
			cols = append(cols, c.Name)
		}
	}
	if len(cols) != want {
		return nil, 0, fmt.Errorf("the input has %d numeric columns, the model takes %d values per sample (%v)", len(cols), want, m.Spec.Architecture.Input)
	}
	x, _, err := f.Float32(cols...)
	return x, f.NumRows(), err
}

// Predict runs the artifact on n rows of input features x (as given by
// Features), in batches of 256, and returns class probabilities or
// regression values.
func Predict(m *model.Model, x []float32, n int) (*Predictions, error) {
	in := m.Spec.Architecture.Input
	w := prod(in)
	if len(x) != n*w {
		return nil, fmt.Errorf("train: %d values for %d rows of %d features", len(x), n, w)
	}
	p := &Predictions{Outputs: m.Spec.Architecture.Outputs}
	cls := m.Spec.Task != Regression
	if cls {
		p.Classes = m.Spec.Labels
	}
	nn.Train(m.Net, false)
	for s := 0; s < n; s += 256 {
		e := min(n, s+256)
		xt := tensor.FromSlice(x[s*w:e*w], append([]int{e - s}, in...)...)
		out := m.Predict(xt)
		if !cls {
			p.Values = append(p.Values, out.Data()...)
			continue
		}
		var pr *tensor.Tensor
		tensor.NoGrad(func() { pr = tensor.Softmax(out, 1) })
		p.Probs = append(p.Probs, pr.Data()...)
		if t := m.Spec.Threshold; t != nil && p.Outputs == 2 {
			for i, v := range pr.Data() {
				if i%2 == 1 {
					p.Class = append(p.Class, b2i(float64(v) >= *t))
				}
			}
			continue
		}
		for _, c := range tensor.Argmax(out, 1, false).Data() {
			p.Class = append(p.Class, int(c))
		}
	}
	return p, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// PredictFrame is Features and Predict on the rows of f (label, when not
// "", names a column to leave out of the inputs), and for a forecaster
// with a target transform (model.Window Log or Difference) it maps each
// output back to the target's units with the series' value at the
// window's last row. It returns the predictions and their number.
func PredictFrame(m *model.Model, f *data.Frame, label string) (*Predictions, int, error) {
	w := m.Spec.Window
	if w == nil || !w.Transforms() {
		x, n, err := Features(m, f, label)
		if err != nil {
			return nil, 0, err
		}
		p, err := Predict(m, x, n)
		return p, n, err
	}
	x, ws, err := windowSamples(m, f)
	if err != nil {
		return nil, 0, err
	}
	p, err := Predict(m, x, len(ws))
	if err != nil {
		return nil, 0, err
	}
	raw := f.Col(w.Column).Num
	for i, win := range ws {
		p.Values[i] = float32(w.Invert(float64(p.Values[i]), raw[win.end]))
	}
	return p, len(ws), nil
}

// chooseThreshold runs net over the validation loader and picks the
// binary threshold that maximises the F1 of class 1 (BestF1Threshold).
func chooseThreshold(net nn.Layer, val *data.Loader, o *FitOptions) (ThresholdChoice, error) {
	if val == nil {
		return ThresholdChoice{}, errors.New("auto needs validation samples; the validation split is empty")
	}
	nn.Train(net, false)
	defer nn.Train(net, true)
	var scores []float32
	var labels []int
	for b, err := range val.Epoch(0) {
		if err != nil {
			return ThresholdChoice{}, err
		}
		tensor.NoGrad(func() {
			p := tensor.Softmax(o.Model.Forward(o.Input(b)), 1)
			for i, v := range p.Data() {
				if i%2 == 1 {
					scores = append(scores, v)
				}
			}
			p.Release()
		})
		labels = append(labels, toInts(b.Y)...)
	}
	tc, err := BestF1Threshold(scores, labels)
	if err != nil {
		return tc, err
	}
	// Keep it strictly inside (0, 1), where the artifact accepts it.
	tc.Threshold = min(max(tc.Threshold, math.SmallestNonzeroFloat32), math.Nextafter(1, 0))
	return tc, nil
}

// classWeights returns the cross-entropy class weights of
// train.class_weights (nil when unset): the given list, or for balanced
// n / (classes · count) over the training labels.
func classWeights(cfg *Config, p *prepared) ([]float32, error) {
	t := cfg.Train
	k := len(p.classes)
	if t.weights != nil {
		if len(t.weights) != k {
			return nil, cfg.errAt("train.class_weights", "has %d weights, the data has %d classes %v", len(t.weights), k, p.classes)
		}
		w := make([]float32, k)
		for i, v := range t.weights {
			w[i] = float32(v)
		}
		return w, nil
	}
	if !t.balanced {
		return nil, nil
	}
	counts := make([]int, k)
	for _, y := range p.trainY {
		counts[y]++
	}
	w := make([]float32, k)
	for c, n := range counts {
		if n == 0 {
			return nil, cfg.errAt("train.class_weights", "balanced: class %q has no training samples", p.classes[c])
		}
		w[c] = float32(float64(len(p.trainY)) / float64(k*n))
	}
	return w, nil
}

// LabelColumn returns the column of f that the artifact does not take as
// an input (the label of an evaluation file), or "" when there is none or
// more than one.
func LabelColumn(m *model.Model, f *data.Frame) string {
	if w := m.Spec.Window; w != nil {
		if f.Col(w.Column) != nil {
			return w.Column
		}
		return ""
	}
	if m.Spec.Preprocessing == nil {
		return ""
	}
	in := map[string]bool{}
	for _, fl := range m.Spec.Preprocessing.Inputs() {
		in[fl.Name] = true
	}
	found := ""
	for _, n := range f.Names() {
		if !in[n] {
			if found != "" {
				return ""
			}
			found = n
		}
	}
	return found
}

// EvaluateFrame scores the artifact on the rows of f against the label
// column target: class names (or class indices) for classification,
// numbers for regression.
func EvaluateFrame(m *model.Model, f *data.Frame, target string) (*Evaluation, error) {
	tc := f.Col(target)
	if tc == nil {
		return nil, fmt.Errorf("no label column %q (columns: %s)", target, strings.Join(f.Names(), ", "))
	}
	var x []float32
	var n int
	var err error
	var invert func(pred, target []float64, idx []int)
	if m.Spec.Window != nil {
		// Windows read the label column at their label row; a forecast
		// past the last row has no label and is left out.
		xw, ws, err := windowSamples(m, f)
		if err != nil {
			return nil, err
		}
		w := prod(m.Spec.Architecture.Input)
		x = xw[:0]
		var keep []int
		var kept []window
		for i, win := range ws {
			if win.target >= 0 {
				x = append(x, xw[i*w:(i+1)*w]...)
				keep = append(keep, win.target)
				kept = append(kept, win)
			}
		}
		n = len(keep)
		if sw := m.Spec.Window; sw.Transforms() && m.Spec.Task == Regression {
			// The network predicts the transformed target: score it
			// against that, then report the metrics in the target's units.
			if target != sw.Column {
				return nil, fmt.Errorf("the model forecasts %q; evaluate it against that column, not %q", sw.Column, target)
			}
			segs, err := segments(f, sw.Group)
			if err != nil {
				return nil, err
			}
			_, yt, err := transformTarget(sw, f, segs)
			if err != nil {
				return nil, err
			}
			raw := f.Col(target).Num
			invert = windowInverse(sw, raw, kept)
			y := make([]float32, n)
			for i, r := range keep {
				y[i] = yt[r]
			}
			return evaluateRegression(m, x, n, y, invert)
		}
		f = f.Take(keep)
		tc = f.Col(target)
	} else {
		x, n, err = Features(m, f.Drop(target), "")
		if err != nil {
			return nil, err
		}
	}
	if n == 0 {
		return nil, errors.New("no rows")
	}
	in := append([]int{}, m.Spec.Architecture.Input...)
	if m.Spec.Task == Regression {
		if tc.Type != data.Numeric {
			return nil, fmt.Errorf("label column %q is not numeric", target)
		}
		y := make([]float32, n)
		for i, v := range tc.Num {
			y[i] = float32(v)
		}
		return evaluateRegression(m, x, n, y, nil)
	}
	y := make([]int64, n)
	for i := range n {
		v := tc.Value(i)
		k := slices.Index(m.Spec.Labels, v)
		if k < 0 {
			if j, err := strconv.Atoi(v); err == nil && j >= 0 && j < len(m.Spec.Labels) {
				k = j
			} else if fv, err := strconv.ParseFloat(v, 64); err == nil && fv == float64(int(fv)) && int(fv) >= 0 && int(fv) < len(m.Spec.Labels) {
				k = int(fv)
			} else {
				return nil, fmt.Errorf("row %d: label %q is not one of the model's classes %v", i+1, v, m.Spec.Labels)
			}
		}
		y[i] = int64(k)
	}
	ds, err := data.NewArrayDataset(x, in, y)
	if err != nil {
		return nil, err
	}
	return evaluateClasses(m, ds)
}

// evaluateClasses scores the artifact on a labelled dataset, with its
// decision threshold when it has one.
func evaluateClasses(m *model.Model, ds data.Dataset) (*Evaluation, error) {
	l, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: 256})
	if err != nil {
		return nil, err
	}
	o := FitOptions{Model: m.Net, Optimizer: nopOptimizer{}, Train: l, Val: l, Epochs: 1, Task: Classification, Classes: m.Spec.Labels}
	if m.Spec.Threshold != nil {
		o.Threshold = *m.Spec.Threshold
	}
	if err := checkFit(&o); err != nil {
		return nil, err
	}
	return evaluate(m.Net, l, &o)
}

// evaluateRegression scores the artifact on n inputs x against targets y
// on the model's scale; invert, when set, maps predictions and targets
// to the units the metrics are reported in (FitOptions.Invert).
func evaluateRegression(m *model.Model, x []float32, n int, y []float32, invert func(pred, target []float64, idx []int)) (*Evaluation, error) {
	ds, err := data.NewRegressionDataset(x, slices.Clone(m.Spec.Architecture.Input), y, 1)
	if err != nil {
		return nil, err
	}
	l, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: 256})
	if err != nil {
		return nil, err
	}
	o := FitOptions{Model: m.Net, Optimizer: nopOptimizer{}, Train: l, Val: l, Epochs: 1, Task: Regression, Invert: invert}
	if err := checkFit(&o); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errors.New("no rows")
	}
	return evaluate(m.Net, l, &o)
}
