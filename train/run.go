package train

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/internal/safeio"
	"github.com/shenml/shen/metrics"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/predict"
	"github.com/shenml/shen/report"
	"github.com/shenml/shen/tensor"
)

// initMu keeps SetSeed and the model's initialisation together, so runs
// started at once in one process (shen tune) each get their seed's weights.
var initMu sync.Mutex

// Run carries out the training run described by cfg in dir: it reads the
// data, cleans it, splits it, fits the preprocessing on the training split
// only, profiles the training inputs, builds the model, fits it (with
// checkpoints in dir/checkpoints, so running it again after a crash
// resumes), evaluates on the test split and saves the artifact in
// dir/model, with metrics.jsonl, report.html and the SVG charts in dir.
func Run(ctx context.Context, cfg *Config, dir string, ro RunOptions) (*Result, error) {
	r := &run{cfg: cfg, dir: dir, out: ro.Out, onEpoch: ro.OnEpoch, started: time.Now(), seed: 1, metrics: map[string]float64{}}
	if r.out == nil {
		r.out = io.Discard
	}
	if cfg.Train.Seed != nil {
		r.seed = *cfg.Train.Seed
	}
	if cfg.Train.Threads > 0 {
		defer kernel.SetThreads(kernel.SetThreads(cfg.Train.Threads))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// A run killed while writing left hidden temporary files; the run
	// directory belongs to this run, so none of them is still being written.
	for _, d := range []string{dir, filepath.Join(dir, CheckpointsDir), filepath.Join(dir, ModelDir)} {
		if _, err := safeio.CleanTemp(d, 0); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	sum := sha256.Sum256(cfg.Raw)
	r.configHash = hex.EncodeToString(sum[:])
	if err := guardCheckpoints(filepath.Join(dir, CheckpointsDir), r.configHash); err != nil {
		return nil, err
	}
	if err := r.prepareData(); err != nil {
		return nil, err
	}
	if err := r.buildNet(); err != nil {
		return nil, err
	}
	rl, err := OpenRunLog(filepath.Join(dir, RunLogFile))
	if err != nil {
		return nil, err
	}
	defer rl.Close()
	r.log = rl
	for _, step := range []func(context.Context) error{r.fit, r.decideThreshold, r.evaluateTest, r.saveArtifact, r.writeTestPredictions, r.writeReport} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	return r.res, nil
}

// run is the state of one Run as its steps fill it in.
type run struct {
	cfg        *Config
	dir        string
	out        io.Writer
	onEpoch    func(EpochResult) error
	started    time.Time
	seed       uint64
	configHash string

	p         *prepared
	arch      model.Architecture
	net       nn.Layer
	trainL    *data.Loader
	valL      *data.Loader
	testL     *data.Loader
	fo        FitOptions
	log       *RunLog
	hist      *History
	threshold *float64
	metrics   map[string]float64 // the artifact's training metrics
	res       *Result
}

// prepareData reads, cleans, splits and preprocesses the data and writes
// the cleaning report.
func (r *run) prepareData() error {
	cfg, out := r.cfg, r.out
	p, err := prepare(cfg, r.seed, out)
	if err != nil {
		return err
	}
	r.p = p
	if p.clean != nil {
		for _, k := range slices.Sorted(maps.Keys(p.clean.Filled)) {
			v := p.clean.Filled[k]
			fmt.Fprintf(out, "preprocessing: filled %d missing values of %s with the training %s %s (serving fills them the same way)\n", v.Count, k, v.Strategy, v.Value)
		}
		b, _ := json.MarshalIndent(p.clean, "", "  ")
		if err := safeio.WriteFileAtomic(filepath.Join(r.dir, CleanFile), b, 0o644); err != nil {
			return err
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
	return nil
}

// buildNet builds the architecture for the prepared data and checks its
// output shape against the task.
func (r *run) buildNet() error {
	cfg, p, out := r.cfg, r.p, r.out
	arch := cfg.Model
	if len(arch.Input) == 0 {
		arch.Input = p.input
	} else if prod(arch.Input) != prod(p.input) {
		return cfg.errAt("model.input", "%v holds %d values per sample, the data gives %d (%v)", arch.Input, prod(arch.Input), prod(p.input), p.input)
	}
	outputs := 1
	switch cfg.Task {
	case Classification:
		outputs = len(p.classes)
	case LanguageModel:
		outputs = p.vocab.Len()
	}
	if arch.Outputs != 0 && arch.Outputs != outputs {
		return cfg.errAt("model.outputs", "is %d, the data needs %d", arch.Outputs, outputs)
	}
	arch.Outputs = outputs
	arch.Rescale = p.rescale != nil
	initMu.Lock()
	nn.SetSeed(r.seed)
	net, err := model.Build(arch)
	initMu.Unlock()
	if err != nil {
		return cfg.errAt("model", "%v", err)
	}
	if p.rescale != nil {
		nn.Walk(net, func(_ string, m nn.Module) {
			if rs, ok := m.(*model.Rescale); ok {
				rs.Scale.Data()[0], rs.Shift.Data()[0] = p.rescale[0], p.rescale[1]
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
		return cfg.errAt("model", "%v", err)
	}
	if cfg.Task == LanguageModel {
		if !slices.Equal(shape, []int{arch.Input[0], outputs}) {
			return cfg.errAt("model", "gives outputs of shape %v per sample, a language model needs [%d, %d]", shape, arch.Input[0], outputs)
		}
	} else if len(shape) != 1 || shape[0] != outputs {
		return cfg.errAt("model", "gives outputs of shape %v per sample, the task needs [%d]", shape, outputs)
	}
	nn.Train(net, true)
	fmt.Fprintf(out, "model: %s, %d parameters\n", arch.Kind, nn.NumParameters(net))
	setPrecision(net, cfg.Train.precision, out)
	r.arch, r.net = arch, net
	return nil
}

// loaders makes the shuffled training loader and the validation and test
// loaders.
func (r *run) loaders() error {
	p, bs := r.p, r.cfg.Train.BatchSize
	var err error
	if r.trainL, err = data.NewLoader(p.trainDS, data.LoaderOptions{BatchSize: bs, Shuffle: true, Seed: r.seed, Prefetch: 2}); err != nil {
		return err
	}
	if p.valN > 0 {
		if r.valL, err = data.NewLoader(p.valDS, data.LoaderOptions{BatchSize: max(bs, 256)}); err != nil {
			return err
		}
	}
	if p.testN > 0 {
		if r.testL, err = data.NewLoader(p.testDS, data.LoaderOptions{BatchSize: max(bs, 256)}); err != nil {
			return err
		}
	}
	return nil
}

// fit sets up the fit loop from the config and runs it, resuming from a
// checkpoint when there is one.
func (r *run) fit(ctx context.Context) error {
	cfg, p, out := r.cfg, r.p, r.out
	if err := r.loaders(); err != nil {
		return err
	}
	weights, err := classWeights(cfg, p)
	if err != nil {
		return err
	}
	if weights != nil {
		fmt.Fprintf(out, "class weights: %v\n", weights)
	}
	opt, err := NewOptimizer(cfg.Train.Optimizer, nn.Parameters(r.net))
	if err != nil {
		return cfg.errAt("train.optimizer", "%v", err)
	}
	r.fo = FitOptions{
		Model: r.net, Optimizer: opt, Train: r.trainL, Val: r.valL, Epochs: cfg.Train.Epochs,
		ClipNorm: cfg.Train.ClipNorm, EarlyStopping: cfg.Train.EarlyStopping,
		CheckpointDir: filepath.Join(r.dir, CheckpointsDir), CheckpointEvery: cfg.Train.CheckpointEvery,
		Progress: out, Task: cfg.Task, Classes: p.classes,
		ClassWeights: weights, Invert: p.valInvert, Log: r.log, OnEpoch: r.onEpoch,
	}
	if p.pipe != nil {
		r.fo.FeatureNames = p.pipe.Outputs()
	}
	if cfg.Task == LanguageModel {
		r.fo.Input, r.fo.Loss = lmInput, lmLoss
	} else if !slices.Equal(r.arch.Input, p.input) {
		in := r.arch.Input
		r.fo.Input = func(b *data.Batch) *tensor.Tensor {
			return tensor.FromSlice(b.X, append([]int{b.Size}, in...)...)
		}
	}
	if err := setSchedule(&r.fo, cfg.Train.Schedule, r.trainL.Len()); err != nil {
		return cfg.errAt("train.schedule", "%v", err)
	}
	if err := checkFit(&r.fo); err != nil { // fills the defaults evaluate needs later
		return err
	}
	hist, err := Fit(ctx, r.fo)
	if err != nil {
		return err
	}
	r.hist = hist
	r.res = &Result{Dir: r.dir, ModelDir: filepath.Join(r.dir, ModelDir), Classes: p.classes, History: hist, Clean: p.clean,
		Sizes: map[string]int{report.SplitTrain: p.trainN, report.SplitVal: p.valN, report.SplitTest: p.testN}}
	if len(hist.Epochs) > 0 {
		last := hist.Epochs[len(hist.Epochs)-1]
		if hist.BestEpoch > 0 {
			last = hist.Epochs[hist.BestEpoch-1]
		}
		r.metrics["train_loss"] = last.TrainLoss
		if p.valN > 0 {
			r.metrics["val_loss"] = last.ValLoss
			for k, v := range last.Val {
				r.metrics["val_"+k] = v
			}
		}
	}
	return nil
}

// decideThreshold sets a binary classifier's decision threshold: given,
// or chosen on validation (train.threshold: auto).
func (r *run) decideThreshold(context.Context) error {
	cfg, p, out := r.cfg, r.p, r.out
	t := cfg.Train.threshold
	if t <= 0 && !cfg.Train.autoThreshold {
		return nil
	}
	if len(p.classes) != 2 {
		return cfg.errAt("train.threshold", "is for binary classification; the data has %d classes", len(p.classes))
	}
	if cfg.Train.autoThreshold {
		tc, err := chooseThreshold(r.net, r.valL, &r.fo)
		if err != nil {
			return cfg.errAt("train.threshold", "%v", err)
		}
		t = tc.Threshold
		if tc.Positives == 0 {
			fmt.Fprintf(out, "threshold: %.4g on validation, which has no %q samples: F1 is 0 at every threshold, so it is the lowest with no false alarm (%d %q samples)\n", t, p.classes[1], tc.Negatives, p.classes[0])
		} else {
			fmt.Fprintf(out, "threshold: %.4g maximises validation F1 of %q: precision %.4f recall %.4f F1 %.4f (%d of %d positives, %d false alarms)\n", t, p.classes[1], tc.Precision, tc.Recall, tc.F1, tc.TP, tc.Positives, tc.FP)
		}
		r.metrics["val_threshold_f1"] = tc.F1
	}
	r.threshold = &t
	r.metrics["threshold"] = t
	return nil
}

// evaluateTest scores the restored best model on the test split, against
// the baselines the data has, and logs the result.
func (r *run) evaluateTest(context.Context) error {
	if r.testL == nil {
		return nil
	}
	p, out := r.p, r.out
	tfo := r.fo
	tfo.Invert = p.testInvert
	if r.threshold != nil {
		tfo.Threshold = *r.threshold
	}
	ev, err := evaluate(r.net, r.testL, &tfo)
	if err != nil {
		return err
	}
	r.res.Test = ev
	r.metrics["test_loss"] = ev.Loss
	for k, v := range ev.Metrics {
		r.metrics["test_"+k] = v
	}
	if p.unigram > 0 {
		r.metrics["test_unigram_loss"] = p.unigram
		fmt.Fprintf(out, "test: loss %.4f nats/token (unigram baseline %.4f, %.0f%% lower)\n", ev.Loss, p.unigram, 100*(1-ev.Loss/p.unigram))
	}
	if p.naiveRMSE > 0 || p.seasonalRMSE > 0 {
		r.reportBaselines(ev)
	}
	if r.threshold != nil && ev.Report != nil {
		fmt.Fprintf(out, "test at threshold %.4g: %q precision %.4f recall %.4f F1 %.4f\n", *r.threshold, p.classes[1], ev.Metrics["precision"], ev.Metrics["recall"], ev.Metrics["f1"])
	}
	return r.log.Write(report.Record{Epoch: r.hist.BestEpoch, Step: r.hist.Steps, Split: report.SplitTest, Loss: ev.Loss, Metrics: ev.Metrics, WallSeconds: time.Since(r.started).Seconds()})
}

// reportBaselines prints a forecaster's test RMSE beside the naive and
// seasonal-naive forecasts and records them with its metrics.
func (r *run) reportBaselines(ev *metrics.Evaluation) {
	p, out := r.p, r.out
	fmt.Fprintf(out, "test: rmse %.4g", ev.Metrics["rmse"])
	if p.naiveRMSE > 0 {
		r.metrics["test_naive_rmse"] = p.naiveRMSE
		ev.Metrics["naive_rmse"] = p.naiveRMSE
		fmt.Fprintf(out, "; naive last-value forecast %.4g", p.naiveRMSE)
	}
	if p.seasonalRMSE > 0 {
		r.metrics["test_seasonal_naive_rmse"] = p.seasonalRMSE
		ev.Metrics["seasonal_naive_rmse"] = p.seasonalRMSE
		fmt.Fprintf(out, "; seasonal naive (%d rows back) %.4g", r.cfg.Data.Window.Season, p.seasonalRMSE)
		if p.seasonalN < p.testN {
			fmt.Fprintf(out, " on the %d of %d windows with a value a season back", p.seasonalN, p.testN)
		}
	}
	fmt.Fprintln(out)
}

// saveArtifact writes the model directory: spec, weights and profile.
func (r *run) saveArtifact(context.Context) error {
	cfg, p := r.cfg, r.p
	nn.Train(r.net, false)
	arch := r.arch
	spec := model.Spec{
		Name: cfg.Name, Task: cfg.Task, Architecture: arch, Signature: model.DefaultSignature(arch),
		Preprocessing: p.pipe, Window: p.window, Vocab: p.vocab, Image: p.image, Threshold: r.threshold,
		Training: model.Training{
			Seed: r.seed, ConfigHash: r.configHash, DataHash: p.dataHash, Epochs: len(r.hist.Epochs),
			Samples: p.trainN, Metrics: r.metrics, Started: r.started.UTC(), Finished: time.Now().UTC(),
			Precision: cfg.Train.precision.String(),
		},
	}
	if cfg.Task == Classification {
		spec.Labels = p.classes
	}
	if cfg.Tabular() {
		spec.Target = cfg.Data.Target
	}
	if cfg.Task == LanguageModel {
		spec.Signature = model.Signature{
			Inputs:  []model.Tensor{{Name: "input_ids", Datatype: "INT64", Shape: []int{-1, -1}}},
			Outputs: []model.Tensor{{Name: "logits", Datatype: "FP32", Shape: []int{-1, -1, arch.Outputs}}},
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
	m := &model.Model{Spec: spec, Net: r.net, Profile: p.profile}
	if err := m.Save(r.res.ModelDir); err != nil {
		return err
	}
	r.res.Model = m
	return nil
}

// writeTestPredictions writes predictions_test.csv: each test row of a
// table as read (inputs and the true label), the saved artifact's
// prediction and, for a classifier, every class's probability, so the
// test results can be checked in any tool.
func (r *run) writeTestPredictions(context.Context) error {
	rows := r.p.testRows
	if rows == nil || rows.NumRows() == 0 {
		return nil
	}
	pr, err := predict.New(r.res.Model)
	if err != nil {
		return err
	}
	target := r.cfg.Data.Target
	res, err := pr.Frame(rows.Drop(target), "")
	if err != nil {
		return fmt.Errorf("train: predicting the test split: %w", err)
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	head := append(rows.Drop(target).Names(), target, "prediction")
	for _, c := range res.Classes {
		head = append(head, "p_"+c)
	}
	w.Write(head)
	inputs := rows.Drop(target)
	for i := range res.N {
		rec := make([]string, 0, len(head))
		for _, c := range inputs.Columns {
			rec = append(rec, c.Value(i))
		}
		truth := rows.Col(target).Value(i)
		if k, err := strconv.Atoi(truth); err == nil && res.Classes != nil && !slices.Contains(res.Classes, truth) && k >= 0 && k < len(res.Classes) {
			truth = res.Classes[k] // scikit-learn files hold class indices
		}
		rec = append(rec, truth)
		if res.Classes != nil {
			rec = append(rec, res.Label(i))
			for _, p := range res.Probs[i*len(res.Classes) : (i+1)*len(res.Classes)] {
				rec = append(rec, strconv.FormatFloat(float64(p), 'g', 6, 32))
			}
		} else {
			rec = append(rec, strconv.FormatFloat(float64(res.Values[i*res.Outputs]), 'g', 7, 32))
		}
		w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return safeio.WriteFileAtomic(filepath.Join(r.dir, TestPredictionsFile), b.Bytes(), 0o644)
}

// writeReport renders report.html and its charts from the run log.
func (r *run) writeReport(context.Context) error {
	cfg, p := r.cfg, r.p
	recs, err := ReadRunLog(filepath.Join(r.dir, RunLogFile))
	if err != nil {
		return err
	}
	rs := report.RunSummary{
		Title:   "Training report: " + cfg.Name,
		Records: recs, Started: r.started, TrainingTime: time.Since(r.started), Dataset: r.res.Sizes,
		Config: map[string]string{
			"config": cfg.File, "config_sha256": r.configHash[:16], "data": cfg.Data.Path, "data_sha256": p.dataHash[:min(16, len(p.dataHash))],
			"model": r.arch.Kind, "parameters": strconv.Itoa(nn.NumParameters(r.net)),
			"optimizer": cfg.Train.Optimizer.Name, "lr": strconv.FormatFloat(cfg.Train.Optimizer.LR, 'g', -1, 64),
			"batch_size": strconv.Itoa(cfg.Train.BatchSize), "epochs": strconv.Itoa(cfg.Train.Epochs), "seed": strconv.FormatUint(r.seed, 10),
			"schedule": cfg.Train.Schedule.Name,
		},
	}
	if cfg.Task == Regression {
		rs.Metric = "r2"
	}
	if r.res.Test != nil {
		rs.EvalSplit = report.SplitTest
		rs.Classification, rs.Regression = r.res.Test.Report, r.res.Test.Regression
	} else if r.hist.LastValReport != nil {
		rs.Classification = r.hist.LastValReport
	}
	return report.WriteReport(r.dir, rs)
}
