package train

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/internal/safeio"
	"github.com/shenml/shen/metrics"
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
	// TestPredictionsFile holds the test split's rows, truth and
	// predictions (tables).
	TestPredictionsFile = "predictions_test.csv"
)

// RunOptions are the knobs of Run that are not part of the config.
type RunOptions struct {
	// Out receives progress and summaries (nil: io.Discard).
	Out io.Writer
	// OnEpoch is FitOptions.OnEpoch: called after every epoch; an error
	// stops the run with that error.
	OnEpoch func(EpochResult) error
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
	return safeio.WriteFileAtomic(p, []byte(hash+"\n"), 0o644)
}

// fileHash returns the hex sha256 of the files' bytes, in order.
func fileHash(paths ...string) (string, error) {
	h := sha256.New()
	for _, p := range paths {
		f, err := safeio.Open(p)
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
