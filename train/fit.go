package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/metrics"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/optim"
	"github.com/shenml/shen/predict"
	"github.com/shenml/shen/report"
	"github.com/shenml/shen/tensor"
)

// Tasks a Fit can run.
const (
	Classification = "classification"
	Regression     = "regression"
	// LanguageModel is next-token prediction on text (config task
	// language_model); Fit treats it as classification over the vocabulary.
	LanguageModel = "language_model"
)

// EarlyStopping stops training when the monitored validation metric has
// not improved by more than MinDelta for Patience epochs in a row.
type EarlyStopping struct {
	// Patience is the number of epochs without improvement tolerated
	// (0 disables early stopping).
	Patience int `json:"patience" yaml:"patience"`
	// Monitor is "val_loss" (the default), "val_accuracy" or any
	// "val_<metric>" of the task (val_macro_f1, val_r2, val_mae, ...).
	// Losses and errors improve downwards, every other metric upwards.
	Monitor string `json:"monitor,omitempty" yaml:"monitor"`
	// MinDelta is the least change that counts as an improvement (>= 0).
	MinDelta float64 `json:"min_delta,omitempty" yaml:"min_delta"`
}

// FitOptions configures Fit. Model, Optimizer, Train and Epochs are
// required; everything else has a default.
type FitOptions struct {
	// Model is the network to train, in place.
	Model nn.Layer
	// Input turns a batch into the model's input; the default is the
	// batch's float features with their shape, without a copy.
	Input func(b *data.Batch) *tensor.Tensor
	// Loss computes the mean loss of a batch from the model's output; the
	// default is cross-entropy against Batch.Y for classification and
	// mean squared error against Batch.YFloat for regression.
	Loss func(out *tensor.Tensor, b *data.Batch) *tensor.Tensor
	// Optimizer updates the parameters of Model.
	Optimizer optim.Optimizer
	// Scheduler, when set, is stepped after every epoch, or after every
	// optimizer step when SchedulePerStep is true.
	Scheduler       optim.Scheduler
	SchedulePerStep bool
	// Plateau, when set, is stepped once per epoch with the monitored
	// metric (the validation loss unless EarlyStopping.Monitor says otherwise).
	Plateau *optim.ReduceLROnPlateau
	// Train and Val are the loaders of the training and validation splits.
	// Train should shuffle with a fixed seed: its order is then a function
	// of (seed, epoch), which is what makes resuming exact. Val may be nil.
	Train, Val *data.Loader
	// Epochs is the number of passes over Train.
	Epochs int
	// ClipNorm, when positive, clips the global L2 norm of the gradients
	// to this value before every step (optim.ClipGradNorm).
	ClipNorm float64
	// EarlyStopping is applied after each epoch when Patience > 0.
	EarlyStopping EarlyStopping
	// KeepLast keeps the weights of the last epoch; by default the weights
	// of the best epoch (by the monitored metric) are restored at the end.
	KeepLast bool
	// CheckpointDir, when set, receives a checkpoint after every epoch
	// (and every CheckpointEvery optimizer steps when positive); a Fit
	// started on a directory holding a checkpoint resumes from it.
	CheckpointDir   string
	CheckpointEvery int
	// Progress receives the progress bar (nil: none).
	Progress io.Writer
	// Log receives one Record per epoch and split (nil: none).
	Log *RunLog
	// Task is Classification (the default) or Regression.
	Task string
	// Classes names the classes of a classification task (needed for
	// validation metrics; at least two).
	Classes []string
	// ClassWeights, when set (classification, one per class), weights
	// each class's term of the default cross-entropy loss (PyTorch's
	// weight argument: the mean is over the summed weights).
	ClassWeights []float32
	// Threshold, when positive, is the binary decision threshold the
	// evaluation metrics use (class 1 when its probability is at least
	// Threshold); 0 takes the argmax.
	Threshold float64
	// Invert, when set (regression), maps the predictions and targets of
	// an evaluated batch in place to the units its metrics are reported
	// in; indices are the samples' dataset indices. The loss stays on the
	// model's scale. Fit applies it to the validation loader.
	Invert func(pred, target []float64, indices []int)
	// OnStep, when set, is called after every optimizer step with the
	// 0-based epoch, the number of batches done in that epoch and the
	// total number of steps. Tests use it to simulate a crash.
	OnStep func(epoch, batch int, step int64)
	// OnEpoch, when set, is called with each finished epoch's results
	// (after logging, before the checkpoint); an error it returns ends Fit
	// at once with that error (shen tune prunes trials this way).
	OnEpoch func(EpochResult) error
	// FeatureNames names the values of one input sample, when they have
	// names (a table's preprocessed features; a window repeats them every
	// step), so that a loss that overflows can name the input at fault.
	FeatureNames []string
}

// EpochResult holds the numbers of one finished epoch.
type EpochResult struct {
	// Epoch is 1-based.
	Epoch int `json:"epoch"`
	// Step is the number of optimizer steps taken at the end of the epoch.
	Step int64 `json:"step"`
	// TrainLoss is the mean training loss over the epoch; TrainAccuracy
	// the training accuracy (classification).
	TrainLoss     float64 `json:"train_loss"`
	TrainAccuracy float64 `json:"train_accuracy,omitempty"`
	// ValLoss is the mean validation loss; Val the validation metrics
	// (accuracy, macro_f1, roc_auc, ... or mae, rmse, r2).
	ValLoss float64            `json:"val_loss,omitempty"`
	Val     map[string]float64 `json:"val,omitempty"`
	// LR is the learning rate of the first group at the end of the epoch.
	LR float64 `json:"lr"`
	// Seconds is the epoch's wall time (training and validation).
	Seconds float64 `json:"seconds"`
}

// History is what Fit did: one entry per epoch and the best epoch.
type History struct {
	Epochs []EpochResult `json:"epochs"`
	// BestEpoch is the 1-based epoch with the best monitored value
	// (0 when no epoch finished); Best is that value and Monitor its name.
	BestEpoch int     `json:"best_epoch"`
	Best      float64 `json:"best"`
	Monitor   string  `json:"monitor"`
	// StoppedEarly says early stopping ended the run.
	StoppedEarly bool `json:"stopped_early,omitempty"`
	// Steps is the total number of optimizer steps.
	Steps int64 `json:"steps"`
	// ResumedFrom is the step of the checkpoint the run resumed from (0:
	// a fresh run).
	ResumedFrom int64 `json:"resumed_from,omitempty"`
	// LastValReport is the full classification report of the best epoch's
	// validation (nil for regression or without validation).
	LastValReport *metrics.ClassificationReport `json:"-"`
}

// lowerIsBetter reports whether a monitored name improves downwards.
func lowerIsBetter(monitor string) bool {
	m := strings.TrimPrefix(strings.TrimPrefix(monitor, "val_"), "train_")
	switch m {
	case "loss", "log_loss", "mae", "mse", "rmse":
		return true
	}
	return false
}

// fitState is everything a checkpoint must carry besides weights,
// optimizer and scheduler state.
type fitState struct {
	Epoch     int           `json:"epoch"` // 0-based epoch in progress
	Batch     int           `json:"batch"` // batches of Epoch already done
	Step      int64         `json:"step"`
	LossSum   float64       `json:"loss_sum"`
	Seen      int64         `json:"seen"`
	Correct   int64         `json:"correct"`
	Best      *float64      `json:"best,omitempty"`
	BestEpoch int           `json:"best_epoch"`
	Bad       int           `json:"bad_epochs"`
	Stopped   bool          `json:"stopped"`
	History   []EpochResult `json:"history"`
}

// Fit trains opts.Model: for each epoch it runs every training batch
// (forward, loss, ZeroGrad, Backward, optional clipping, Step, FreeGraph),
// then validates under nn.NoGrad in evaluation mode, logs, steps the
// schedules, keeps the best weights, checkpoints and checks early
// stopping. A cancelled ctx stops it between batches with ctx.Err(),
// without writing anything more (as a crash would). Memory: one copy of
// the weights for the best epoch, plus the checkpoint buffers while one
// is written.
func Fit(ctx context.Context, opts FitOptions) (*History, error) {
	if err := checkFit(&opts); err != nil {
		return nil, err
	}
	f := &fitter{o: &opts, params: nn.Parameters(opts.Model), st: &fitState{}, hist: &History{Monitor: opts.EarlyStopping.Monitor}}
	if err := f.resume(); err != nil {
		return nil, err
	}
	if opts.Progress != nil {
		f.prog = NewProgress(opts.Progress, opts.Epochs)
		defer f.prog.Close()
	}
	f.start = time.Now()
	for f.st.Epoch < opts.Epochs && !f.st.Stopped {
		epochStart := time.Now()
		if err := f.trainEpoch(ctx); err != nil {
			return f.hist, err
		}
		if err := ctx.Err(); err != nil {
			return f.hist, err
		}
		if err := f.endEpoch(epochStart); err != nil {
			return f.hist, err
		}
	}
	return f.finish()
}

// fitter is the state of one Fit.
type fitter struct {
	o      *FitOptions
	params []*tensor.Tensor
	st     *fitState
	hist   *History
	best   map[string][]float32 // weights of the best epoch
	prog   *Progress
	start  time.Time
}

// resume loads the checkpoint in o.CheckpointDir, if there is one.
func (f *fitter) resume() error {
	o := f.o
	if o.CheckpointDir == "" {
		return nil
	}
	ck, err := loadCheckpoint(o.CheckpointDir, o)
	if err != nil || ck == nil {
		return err
	}
	f.st, f.best = &ck.State, ck.Best
	f.hist.ResumedFrom = f.st.Step
	if o.Log != nil {
		if err := o.Log.Rewind(f.st.Epoch); err != nil {
			return err
		}
	}
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "resuming from %s: epoch %d, batch %d, step %d\n", o.CheckpointDir, f.st.Epoch+1, f.st.Batch, f.st.Step)
	}
	return nil
}

// trainEpoch runs the training batches of the epoch in progress, from
// the batch a resumed checkpoint stopped at.
func (f *fitter) trainEpoch(ctx context.Context) error {
	o, st := f.o, f.st
	epoch := st.Epoch
	nn.Train(o.Model, true)
	if f.prog != nil {
		f.prog.StartEpoch(epoch+1, o.Train.Len())
		if st.Batch > 0 {
			f.prog.Step(int(st.Seen))
		}
	}
	bi := 0
	for b, err := range o.Train.Epoch(epoch) {
		if err != nil {
			return fmt.Errorf("train: epoch %d: %w", epoch+1, err)
		}
		if bi < st.Batch { // done before the checkpoint we resumed from
			bi++
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := f.step(b, epoch, bi); err != nil {
			return err
		}
		bi++
		st.Batch = bi
		if o.CheckpointDir != "" && o.CheckpointEvery > 0 && st.Step%int64(o.CheckpointEvery) == 0 && bi < o.Train.Len() {
			if err := saveCheckpoint(o.CheckpointDir, o, st, f.best); err != nil {
				return err
			}
		}
		if o.OnStep != nil {
			o.OnStep(epoch, bi, st.Step)
		}
	}
	return nil
}

// step is one optimizer step on batch b (batch bi of epoch).
func (f *fitter) step(b *data.Batch, epoch, bi int) error {
	o, st := f.o, f.st
	out := o.Model.Forward(o.Input(b))
	loss := o.Loss(out, b)
	lv := float64(loss.Item())
	if math.IsNaN(lv) || math.IsInf(lv, 0) {
		loss.FreeGraph()
		if culprit := hugeInput(b, o.FeatureNames); culprit != "" {
			return fmt.Errorf("train: epoch %d batch %d: the loss is %v: %s; values this large overflow the network, so clean or rescale that input (data.cleaning.clip, preprocessing)", epoch+1, bi+1, lv, culprit)
		}
		return fmt.Errorf("train: epoch %d batch %d: the loss is %v (lower the learning rate or clip gradients)", epoch+1, bi+1, lv)
	}
	if o.Task == Classification && b.Y != nil {
		st.Correct += int64(correct(out, b.Y))
	}
	o.Optimizer.ZeroGrad()
	loss.Backward()
	if o.ClipNorm > 0 {
		optim.ClipGradNorm(f.params, o.ClipNorm, 2)
	}
	o.Optimizer.Step()
	loss.FreeGraph()
	if o.Scheduler != nil && o.SchedulePerStep {
		o.Scheduler.Step()
	}
	st.LossSum += lv * float64(b.Size)
	st.Seen += int64(b.Size)
	st.Step++
	if f.prog != nil {
		stats := []Stat{{"loss", st.LossSum / float64(st.Seen)}}
		if o.Task == Classification {
			stats = append(stats, Stat{"acc", float64(st.Correct) / float64(st.Seen)})
		}
		f.prog.Step(b.Size, stats...)
	}
	return nil
}

// endEpoch validates, steps the epoch schedules, keeps the best weights,
// checks early stopping, logs and checkpoints the finished epoch.
func (f *fitter) endEpoch(epochStart time.Time) error {
	o, st, hist := f.o, f.st, f.hist
	epoch := st.Epoch
	if st.Seen == 0 {
		return fmt.Errorf("train: epoch %d had no training batches", epoch+1)
	}
	res := EpochResult{Epoch: epoch + 1, Step: st.Step, TrainLoss: st.LossSum / float64(st.Seen)}
	if o.Task == Classification {
		res.TrainAccuracy = float64(st.Correct) / float64(st.Seen)
	}
	monitored := res.TrainLoss
	var report *metrics.ClassificationReport
	if o.Val != nil {
		ev, err := evaluate(o.Model, o.Val, o)
		if err != nil {
			return err
		}
		res.ValLoss, res.Val, report = ev.Loss, ev.Metrics, ev.Report
		if monitored, err = monitorValue(hist.Monitor, res); err != nil {
			return err
		}
	}
	if o.Scheduler != nil && !o.SchedulePerStep {
		o.Scheduler.Step()
	}
	if o.Plateau != nil {
		o.Plateau.StepMetric(monitored)
	}
	res.LR = o.Optimizer.Groups()[0].LR
	res.Seconds = time.Since(epochStart).Seconds()
	f.track(monitored, report)
	st.History = append(st.History, res)
	if err := logEpoch(o.Log, res, o.Task, time.Since(f.start)); err != nil {
		return err
	}
	f.endProgress(res)
	if o.OnEpoch != nil {
		if err := o.OnEpoch(res); err != nil {
			return err
		}
	}
	st.Epoch, st.Batch, st.LossSum, st.Seen, st.Correct = epoch+1, 0, 0, 0, 0
	if o.CheckpointDir != "" {
		if err := saveCheckpoint(o.CheckpointDir, o, st, f.best); err != nil {
			return err
		}
	}
	if st.Stopped && f.prog != nil {
		fmt.Fprintf(o.Progress, "early stopping: %s has not improved for %d epochs (best %.4f at epoch %d)\n",
			hist.Monitor, o.EarlyStopping.Patience, *st.Best, st.BestEpoch)
	}
	return nil
}

// track keeps the best epoch by the monitored value and decides early
// stopping.
func (f *fitter) track(monitored float64, report *metrics.ClassificationReport) {
	o, st := f.o, f.st
	improved := st.Best == nil
	if !improved {
		d := o.EarlyStopping.MinDelta
		if lowerIsBetter(f.hist.Monitor) {
			improved = monitored < *st.Best-d
		} else {
			improved = monitored > *st.Best+d
		}
	}
	if improved {
		v := monitored
		st.Best, st.BestEpoch, st.Bad = &v, st.Epoch+1, 0
		if !o.KeepLast {
			f.best = copyState(o.Model)
		}
		f.hist.LastValReport = report
	} else {
		st.Bad++
	}
	if p := o.EarlyStopping.Patience; p > 0 && st.Bad >= p {
		st.Stopped = true
	}
}

// endProgress closes the epoch's progress line with its results.
func (f *fitter) endProgress(res EpochResult) {
	if f.prog == nil {
		return
	}
	stats := []Stat{{"loss", res.TrainLoss}}
	if f.o.Task == Classification {
		stats = append(stats, Stat{"acc", res.TrainAccuracy})
	}
	if f.o.Val != nil {
		stats = append(stats, Stat{"val_loss", res.ValLoss})
		if v, ok := res.Val["accuracy"]; ok {
			stats = append(stats, Stat{"val_acc", v})
		}
		if v, ok := res.Val["r2"]; ok {
			stats = append(stats, Stat{"val_r2", v})
		}
	}
	f.prog.EndEpoch(stats...)
}

// finish restores the best weights and fills the history.
func (f *fitter) finish() (*History, error) {
	o, st, hist := f.o, f.st, f.hist
	if f.best != nil && !o.KeepLast {
		if err := restoreState(o.Model, f.best); err != nil {
			return hist, err
		}
	}
	hist.Epochs = st.History
	hist.BestEpoch = st.BestEpoch
	if st.Best != nil {
		hist.Best = *st.Best
	}
	hist.StoppedEarly = st.Stopped
	hist.Steps = st.Step
	nn.Train(o.Model, false)
	return hist, nil
}

// checkFit validates opts and fills defaults.
func checkFit(o *FitOptions) error {
	switch {
	case o.Model == nil:
		return errors.New("train: FitOptions.Model is nil")
	case o.Optimizer == nil:
		return errors.New("train: FitOptions.Optimizer is nil")
	case o.Train == nil:
		return errors.New("train: FitOptions.Train is nil")
	case o.Epochs <= 0:
		return fmt.Errorf("train: FitOptions.Epochs must be positive, got %d", o.Epochs)
	case o.ClipNorm < 0:
		return fmt.Errorf("train: FitOptions.ClipNorm must be >= 0, got %g", o.ClipNorm)
	case o.EarlyStopping.Patience < 0 || o.EarlyStopping.MinDelta < 0:
		return errors.New("train: EarlyStopping.Patience and MinDelta must be >= 0")
	case o.CheckpointEvery < 0:
		return fmt.Errorf("train: FitOptions.CheckpointEvery must be >= 0, got %d", o.CheckpointEvery)
	}
	if o.Task == "" {
		o.Task = Classification
	}
	if o.Task != Classification && o.Task != Regression && o.Task != LanguageModel {
		return fmt.Errorf("train: FitOptions.Task is %q, want %q, %q or %q", o.Task, Classification, Regression, LanguageModel)
	}
	if o.Task == LanguageModel && (o.Input == nil || o.Loss == nil) {
		return errors.New("train: a language model needs FitOptions.Input and Loss")
	}
	if o.Task == Classification && o.Val != nil && len(o.Classes) < 2 {
		return fmt.Errorf("train: classification needs at least two Classes, got %d", len(o.Classes))
	}
	if o.EarlyStopping.Monitor == "" {
		o.EarlyStopping.Monitor = "val_loss"
		if o.Val == nil {
			o.EarlyStopping.Monitor = "train_loss"
		}
	}
	if o.Val == nil && o.EarlyStopping.Monitor != "train_loss" {
		return fmt.Errorf("train: EarlyStopping.Monitor %q needs a validation loader", o.EarlyStopping.Monitor)
	}
	if o.Input == nil {
		o.Input = func(b *data.Batch) *tensor.Tensor { return tensor.FromSlice(b.X, b.XShape...) }
	}
	if o.Loss == nil {
		if o.Task == Classification && o.ClassWeights != nil {
			w := tensor.FromSlice(slices.Clone(o.ClassWeights), len(o.ClassWeights))
			o.Loss = func(out *tensor.Tensor, b *data.Batch) *tensor.Tensor {
				return nn.CrossEntropyWith(out, tensor.IntFromSlice(b.Y, b.Size), nn.CrossEntropyOptions{Weight: w})
			}
		} else if o.Task == Classification {
			o.Loss = func(out *tensor.Tensor, b *data.Batch) *tensor.Tensor {
				return nn.CrossEntropy(out, tensor.IntFromSlice(b.Y, b.Size))
			}
		} else {
			o.Loss = func(out *tensor.Tensor, b *data.Batch) *tensor.Tensor {
				return nn.MSELoss(out, tensor.FromSlice(b.YFloat, out.Shape()...), nn.ReduceMean)
			}
		}
	}
	return nil
}

// monitorValue picks the monitored number out of an epoch result.
func monitorValue(monitor string, r EpochResult) (float64, error) {
	switch monitor {
	case "val_loss":
		return r.ValLoss, nil
	case "train_loss":
		return r.TrainLoss, nil
	}
	name := strings.TrimPrefix(monitor, "val_")
	if v, ok := r.Val[name]; ok {
		return v, nil
	}
	keys := make([]string, 0, len(r.Val))
	for k := range r.Val {
		keys = append(keys, "val_"+k)
	}
	slices.Sort(keys)
	return 0, fmt.Errorf("train: cannot monitor %q: validation gives val_loss, %s", monitor, strings.Join(keys, ", "))
}

// correct counts rows of logits whose argmax equals the label.
func correct(logits *tensor.Tensor, y []int64) int {
	n := 0
	tensor.NoGrad([]*tensor.Tensor{logits}, func() {
		for i, p := range tensor.Argmax(logits, 1, false).Data() {
			if p == y[i] {
				n++
			}
		}
	})
	return n
}

// Evaluate runs model over every batch of l in evaluation mode without
// gradients and computes the loss and metrics of task (Classification,
// with classes, or Regression). input and loss may be nil for the
// defaults of FitOptions. The model is left in evaluation mode.
func Evaluate(model nn.Layer, l *data.Loader, task string, classes []string, input func(*data.Batch) *tensor.Tensor, loss func(*tensor.Tensor, *data.Batch) *tensor.Tensor) (*metrics.Evaluation, error) {
	o := FitOptions{Model: model, Optimizer: nopOptimizer{}, Train: l, Val: l, Epochs: 1, Task: task, Classes: classes, Input: input, Loss: loss}
	if err := checkFit(&o); err != nil {
		return nil, err
	}
	return evaluate(model, l, &o)
}

// evaluate scores m on every batch of l through predict's Scorer, the
// one path from a model's outputs to metrics that `shen predict` shares.
func evaluate(m nn.Layer, l *data.Loader, o *FitOptions) (*metrics.Evaluation, error) {
	nn.Train(m, false)
	defer nn.Train(m, true)
	var sc *predict.Scorer
	switch o.Task {
	case Classification:
		sc = predict.NewClassifierScorer(o.Classes, o.Threshold)
	case Regression:
		sc = predict.NewRegressorScorer(o.Invert)
	default:
		sc = predict.NewLanguageModelScorer()
	}
	var ferr error
	for b, err := range l.Epoch(0) {
		if err != nil {
			return nil, err
		}
		nn.NoGrad(o.Model, func() {
			out := o.Model.Forward(o.Input(b))
			loss := o.Loss(out, b)
			sc.AddLoss(float64(loss.Item()), b.Size)
			switch o.Task {
			case Classification:
				ferr = sc.AddClasses(out, b.Y)
			case Regression:
				ferr = sc.AddRegression(out.Data(), b.YFloat, b.Indices)
			}
			loss.Release()
		})
		if ferr != nil {
			return nil, fmt.Errorf("train: evaluation: %w", ferr)
		}
	}
	ev, err := sc.Evaluation()
	if err != nil {
		return nil, fmt.Errorf("train: evaluation: %w", err)
	}
	return ev, nil
}

func toInts(y []int64) []int {
	out := make([]int, len(y))
	for i, v := range y {
		out[i] = int(v)
	}
	return out
}

// logEpoch writes the epoch's train and validation records.
func logEpoch(l *RunLog, r EpochResult, task string, wall time.Duration) error {
	if l == nil {
		return nil
	}
	tr := report.Record{Epoch: r.Epoch, Step: r.Step, Split: report.SplitTrain, Loss: r.TrainLoss, LR: r.LR, WallSeconds: wall.Seconds()}
	if task == Classification {
		tr.Metrics = map[string]float64{"accuracy": r.TrainAccuracy}
	}
	if err := l.Write(tr); err != nil {
		return err
	}
	if r.Val == nil {
		return nil
	}
	return l.Write(report.Record{Epoch: r.Epoch, Step: r.Step, Split: report.SplitVal, Loss: r.ValLoss, Metrics: r.Val, LR: r.LR, WallSeconds: wall.Seconds()})
}

// copyState copies every parameter and buffer of m.
func copyState(m nn.Module) map[string][]float32 {
	out := map[string][]float32{}
	for _, e := range nn.StateDict(m) {
		out[e.Name] = slices.Clone(e.Value.Data())
	}
	return out
}

// restoreState writes a copy made by copyState back into m.
func restoreState(m nn.Module, s map[string][]float32) error {
	for _, e := range nn.StateDict(m) {
		v, ok := s[e.Name]
		if !ok || len(v) != len(e.Value.Data()) {
			return fmt.Errorf("train: saved state has no tensor %q of %d values", e.Name, len(e.Value.Data()))
		}
		copy(e.Value.Data(), v)
	}
	return nil
}

// nopOptimizer lets Evaluate reuse checkFit.
type nopOptimizer struct{}

func (nopOptimizer) Step()                             {}
func (nopOptimizer) ZeroGrad()                         {}
func (nopOptimizer) Groups() []*optim.Group            { return nil }
func (nopOptimizer) StateDict() optim.State            { return optim.State{} }
func (nopOptimizer) LoadStateDict(s optim.State) error { return nil }

// hugeInputLimit is the magnitude above which an input value, after the
// preprocessing, is taken to be the cause of an overflowing loss.
const hugeInputLimit = 1e6

// hugeInput describes the largest input value of the batch when it is not
// finite or beyond hugeInputLimit, naming its feature, or returns "".
func hugeInput(b *data.Batch, names []string) string {
	width := 1
	for _, d := range b.XShape[1:] {
		width *= d
	}
	worst, at := 0.0, -1
	for i, v := range b.X {
		a := math.Abs(float64(v))
		if math.IsNaN(a) {
			a = math.Inf(1)
		}
		if a > worst {
			worst, at = a, i
		}
	}
	if at < 0 || worst <= hugeInputLimit {
		return ""
	}
	feature := fmt.Sprintf("input value %d", at%width)
	if len(names) > 0 {
		feature = fmt.Sprintf("input %q", names[at%width%len(names)])
	}
	return fmt.Sprintf("%s holds %v in sample %d of the batch", feature, b.X[at], at/width+1)
}
