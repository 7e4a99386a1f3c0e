package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/model/safetensors"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/optim"
)

// CheckpointFile is the name of the file that commits a checkpoint inside a
// checkpoint directory. The weight files it names are written first, so the
// rename of CheckpointFile is the moment a checkpoint exists: a crash at any
// point leaves the previous checkpoint or the new one, complete.
const CheckpointFile = "checkpoint.json"

// checkpointVersion is the format of checkpoint.json.
const checkpointVersion = 1

// checkpoint is the content of checkpoint.json.
type checkpoint struct {
	Version int `json:"version"`
	// Weights and BestWeights name safetensors files in the same directory.
	Weights     string `json:"weights"`
	BestWeights string `json:"best_weights,omitempty"`
	// Params is the number of scalar parameters, a cheap check that the
	// checkpoint belongs to this model.
	Params    int                   `json:"params"`
	Epochs    int                   `json:"epochs"`
	Optimizer optim.State           `json:"optimizer"`
	Scheduler *optim.SchedulerState `json:"scheduler,omitempty"`
	Plateau   *optim.SchedulerState `json:"plateau,omitempty"`
	State     fitState              `json:"state"`
	// Random holds the position of every random stream of the model
	// (dropout masks), by module name, so a resumed run draws the masks
	// the uninterrupted run would have drawn.
	Random map[string]nn.RandomState `json:"random,omitempty"`

	// Best holds the best weights once loaded (not serialised here).
	Best map[string][]float32 `json:"-"`
}

// saveCheckpoint writes the model's weights, the best weights, the
// optimizer and scheduler states and the loop position, then removes the
// files of older checkpoints. Each file is written atomically.
func saveCheckpoint(dir string, o *FitOptions, st *fitState, best map[string][]float32) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	ck := checkpoint{
		Version:   checkpointVersion,
		Weights:   fmt.Sprintf("weights-%09d.safetensors", st.Step),
		Params:    nn.NumParameters(o.Model),
		Epochs:    o.Epochs,
		Optimizer: o.Optimizer.StateDict(),
		State:     *st,
		Random:    nn.RandomStates(o.Model),
	}
	if o.Scheduler != nil {
		s := o.Scheduler.StateDict()
		ck.Scheduler = &s
	}
	if o.Plateau != nil {
		s := o.Plateau.StateDict()
		ck.Plateau = &s
	}
	if err := writeWeights(filepath.Join(dir, ck.Weights), copyState(o.Model)); err != nil {
		return err
	}
	if best != nil {
		// The best weights change only at epoch ends; name them by the
		// best epoch so that an unchanged best is not rewritten.
		ck.BestWeights = fmt.Sprintf("best-epoch%04d.safetensors", st.BestEpoch)
		p := filepath.Join(dir, ck.BestWeights)
		if _, err := os.Stat(p); err != nil {
			if err := writeWeights(p, best); err != nil {
				return err
			}
		}
	}
	b, err := json.Marshal(ck)
	if err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	if err := data.WriteFileAtomic(filepath.Join(dir, CheckpointFile), b); err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	// Old weight files are garbage now; failing to remove one is harmless.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		n := e.Name()
		if strings.HasSuffix(n, ".safetensors") && (strings.HasPrefix(n, "weights-") || strings.HasPrefix(n, "best-")) && n != ck.Weights && n != ck.BestWeights {
			os.Remove(filepath.Join(dir, n))
		}
	}
	return nil
}

// writeWeights writes a state copy as safetensors.
func writeWeights(path string, s map[string][]float32) error {
	var f safetensors.File
	for name, v := range s {
		if err := f.AddFloat32(name, []int{len(v)}, v); err != nil {
			return fmt.Errorf("train: checkpoint %s: %w", path, err)
		}
	}
	if err := safetensors.WriteFile(path, &f); err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	return nil
}

// readWeights reads a file written by writeWeights.
func readWeights(path string) (map[string][]float32, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("train: checkpoint: %w", err)
	}
	out := map[string][]float32{}
	for _, n := range f.Names() {
		v, _, err := f.Float32(n)
		if err != nil {
			return nil, fmt.Errorf("train: checkpoint %s: %w", path, err)
		}
		out[n] = slices.Clone(v)
	}
	return out, nil
}

// loadCheckpoint restores the checkpoint in dir into the model, optimizer
// and schedulers of o. It returns nil, nil when dir holds no checkpoint.
func loadCheckpoint(dir string, o *FitOptions) (*checkpoint, error) {
	path := filepath.Join(dir, CheckpointFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("train: checkpoint: %w", err)
	}
	var ck checkpoint
	if err := json.Unmarshal(raw, &ck); err != nil {
		return nil, fmt.Errorf("train: checkpoint %s: %w", path, err)
	}
	if ck.Version != checkpointVersion {
		return nil, fmt.Errorf("train: checkpoint %s: version %d, this Shen reads %d", path, ck.Version, checkpointVersion)
	}
	if err := checkState(&ck, o); err != nil {
		return nil, fmt.Errorf("train: checkpoint %s: %w (delete the directory to start over)", path, err)
	}
	if n := nn.NumParameters(o.Model); ck.Params != n {
		return nil, fmt.Errorf("train: checkpoint %s: holds a model of %d parameters, this one has %d (delete the directory to start over)", path, ck.Params, n)
	}
	if (ck.Scheduler != nil) != (o.Scheduler != nil) || (ck.Plateau != nil) != (o.Plateau != nil) {
		return nil, fmt.Errorf("train: checkpoint %s: was written with a different learning-rate schedule", path)
	}
	w, err := readWeights(filepath.Join(dir, ck.Weights))
	if err != nil {
		return nil, err
	}
	if err := restoreState(o.Model, w); err != nil {
		return nil, fmt.Errorf("train: checkpoint %s: %w", path, err)
	}
	if unknown := nn.SetRandomStates(o.Model, ck.Random); len(unknown) > 0 {
		return nil, fmt.Errorf("train: checkpoint %s: random streams %v are not part of this model", path, unknown)
	}
	if ck.BestWeights != "" {
		if ck.Best, err = readWeights(filepath.Join(dir, ck.BestWeights)); err != nil {
			return nil, err
		}
	}
	if err := o.Optimizer.LoadStateDict(ck.Optimizer); err != nil {
		return nil, fmt.Errorf("train: checkpoint %s: optimizer: %w", path, err)
	}
	if ck.Scheduler != nil {
		if err := o.Scheduler.LoadStateDict(*ck.Scheduler); err != nil {
			return nil, fmt.Errorf("train: checkpoint %s: scheduler: %w", path, err)
		}
	}
	if ck.Plateau != nil {
		if err := o.Plateau.LoadStateDict(*ck.Plateau); err != nil {
			return nil, fmt.Errorf("train: checkpoint %s: plateau: %w", path, err)
		}
	}
	return &ck, nil
}

// checkState refuses a checkpoint whose progress cannot belong to this
// run (a tampered or foreign file): positions outside the run, counts that
// contradict each other, weight files outside the checkpoint directory.
func checkState(ck *checkpoint, o *FitOptions) error {
	st := &ck.State
	for _, name := range []string{ck.Weights, ck.BestWeights} {
		if name != "" && (name != filepath.Base(name) || name == "." || name == "..") {
			return fmt.Errorf("weights file %q is not a file name inside the checkpoint directory", name)
		}
	}
	if ck.Weights == "" {
		return errors.New("names no weights file")
	}
	batches := o.Train.Len()
	switch {
	case st.Epoch < 0 || st.Epoch > o.Epochs:
		return fmt.Errorf("epoch %d is outside the run's %d epochs", st.Epoch, o.Epochs)
	case st.Batch < 0 || st.Batch > batches || (st.Epoch == o.Epochs && st.Batch != 0):
		return fmt.Errorf("batch %d is outside the epoch's %d batches", st.Batch, batches)
	case st.Step < 0 || st.Seen < 0 || st.Correct < 0 || st.Correct > st.Seen || st.Bad < 0:
		return fmt.Errorf("counts step %d, seen %d, correct %d, bad epochs %d are impossible", st.Step, st.Seen, st.Correct, st.Bad)
	case math.IsNaN(st.LossSum) || math.IsInf(st.LossSum, 0) || st.LossSum < 0:
		return fmt.Errorf("loss sum %v is not a finite non-negative number", st.LossSum)
	case len(st.History) != st.Epoch:
		return fmt.Errorf("holds %d epoch results for %d finished epochs", len(st.History), st.Epoch)
	case st.BestEpoch < 0 || st.BestEpoch > st.Epoch:
		return fmt.Errorf("best epoch %d is not one of the %d finished epochs", st.BestEpoch, st.Epoch)
	}
	for i, h := range st.History {
		if h.Epoch != i+1 || h.TrainAccuracy < 0 || h.TrainAccuracy > 1 {
			return fmt.Errorf("epoch result %d (epoch %d, training accuracy %v) is inconsistent", i+1, h.Epoch, h.TrainAccuracy)
		}
	}
	return nil
}
