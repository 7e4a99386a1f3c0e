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
	"github.com/shenml/shen/metrics"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/optim"
	"github.com/shenml/shen/report"
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
	Test *metrics.Evaluation
	// Clean is the cleaning report (tabular data).
	Clean *data.CleanReport
	// Model is the saved artifact.
	Model *model.Model
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
		if err := report.WriteFileAtomic(filepath.Join(dir, CleanFile), b, 0o644); err != nil {
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
		Sizes: map[string]int{report.SplitTrain: p.trainN, report.SplitVal: p.valN, report.SplitTest: p.testN}}

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
		if err := rl.Write(report.Record{Epoch: hist.BestEpoch, Step: hist.Steps, Split: report.SplitTest, Loss: ev.Loss, Metrics: ev.Metrics, WallSeconds: time.Since(started).Seconds()}); err != nil {
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
	rs := report.RunSummary{
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
		rs.EvalSplit = report.SplitTest
		rs.Classification, rs.Regression = res.Test.Report, res.Test.Regression
	} else if hist.LastValReport != nil {
		rs.Classification = hist.LastValReport
	}
	if err := report.WriteReport(dir, rs); err != nil {
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
	return report.WriteFileAtomic(p, []byte(hash+"\n"), 0o644)
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

// chooseThreshold runs net over the validation loader and picks the
// binary threshold that maximises the F1 of class 1 (BestF1Threshold).
func chooseThreshold(net nn.Layer, val *data.Loader, o *FitOptions) (metrics.ThresholdChoice, error) {
	if val == nil {
		return metrics.ThresholdChoice{}, errors.New("auto needs validation samples; the validation split is empty")
	}
	nn.Train(net, false)
	defer nn.Train(net, true)
	var scores []float32
	var labels []int
	for b, err := range val.Epoch(0) {
		if err != nil {
			return metrics.ThresholdChoice{}, err
		}
		nn.NoGrad(o.Model, func() {
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
	tc, err := metrics.BestF1Threshold(scores, labels)
	if err != nil {
		return tc, err
	}
	// Keep it strictly inside (0, 1), where the artifact accepts it.
	tc.Threshold = min(max(tc.Threshold, math.SmallestNonzeroFloat32), math.Nextafter(1, 0))
	return tc, nil
}
