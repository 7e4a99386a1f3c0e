package tune

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/train"
)

// Files and folders of a study directory.
const (
	TrialsDir = "trials" // trials/<n>/: each trial's train run directory
	BestDir   = "best"   // best/model: the best trial's artifact
	StudyHTML = "study.html"
)

// Options configure Run.
type Options struct {
	// ConfigFile is the training config; Spec its search space (checked).
	ConfigFile string
	Spec       *Spec
	// Dir is the study directory.
	Dir string
	// Out receives the progress line and the final table (nil: none).
	Out io.Writer
	// Cores is the number of threads shared among the running trials
	// (0: GOMAXPROCS): each trial's kernels use Cores/Parallel of them.
	// The kernel thread count is process-wide, so one process runs one
	// study at a time.
	Cores int
}

// Study is the outcome of Run.
type Study struct {
	Spec   *Spec
	Dir    string
	Trials []*TrialRecord
	// Best is the best complete trial (nil when none completed).
	Best *TrialRecord
	// Resumed counts the trials found finished in the journal.
	Resumed int
}

// errPruned ends a pruned trial's fit.
var errPruned = errors.New("pruned")

// study is the state shared by the workers of Run.
type study struct {
	opt     Options
	spec    *Spec
	sampler Sampler
	pruner  Pruner
	journal *Journal
	limit   int // most trials (0: none)

	copyMu sync.Mutex // one copy to best/ at a time

	mu       sync.Mutex
	trials   []*TrialRecord // by number
	pending  []*TrialRecord // cut off by a kill: run again first
	best     *TrialRecord
	next     int
	deadline time.Time
	progress *progress
}

// Run runs (or resumes) the study in opt.Dir: trials sampled from the
// space, Parallel at once, each a train.Run in trials/<n>/ with its values
// given as --set overrides, pruned on the per-epoch validation metric,
// every event appended to journal.jsonl. Started again after a crash or a
// kill with the same config and space, it first finishes the trials that
// were cut off (resuming each from its last checkpoint), then samples the
// rest; finished trials are not run again. A trial's failure is recorded
// and the study goes on. At the end best/model holds the best trial's
// artifact and study.html the report.
func Run(ctx context.Context, opt Options) (*Study, error) {
	sp := opt.Spec
	if err := os.MkdirAll(filepath.Join(opt.Dir, TrialsDir), 0o755); err != nil {
		return nil, err
	}
	j, recs, err := OpenJournal(filepath.Join(opt.Dir, JournalFile))
	if err != nil {
		return nil, err
	}
	defer j.Close()
	fp, err := fingerprint(opt.ConfigFile, sp)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		if err := j.Append(Record{Event: EventStudy, Trial: -1, Fingerprint: fp}); err != nil {
			return nil, err
		}
	} else if recs[0].Event != EventStudy || recs[0].Fingerprint != fp {
		return nil, fmt.Errorf("tune: %s %w; use another --out or delete it", opt.Dir, errForeignStudy)
	}
	s := &study{opt: opt, spec: sp, sampler: NewSampler(sp), pruner: NewPruner(sp), journal: j, limit: sp.Trials}
	if g, ok := s.sampler.(*Grid); ok && (s.limit == 0 || s.limit > g.Size()) {
		s.limit = g.Size()
	}
	s.trials = Replay(recs)
	resumed := 0
	for _, t := range s.trials {
		if t.State == Running {
			s.pending = append(s.pending, t)
		} else {
			resumed++
		}
		s.consider(t)
		s.next = max(s.next, t.Number+1)
	}
	if sp.Time > 0 {
		s.deadline = time.Now().Add(sp.Time)
	}
	s.progress = newProgress(opt.Out, sp)
	if resumed > 0 || len(s.pending) > 0 {
		s.progress.note(fmt.Sprintf("resuming %s: %d trials finished, %d cut off and run again", opt.Dir, resumed, len(s.pending)))
	}

	cores := opt.Cores
	if cores <= 0 {
		cores = runtime.GOMAXPROCS(0)
	}
	defer kernel.SetThreads(kernel.SetThreads(max(1, cores/sp.Parallel)))

	var wg sync.WaitGroup
	errc := make(chan error, sp.Parallel)
	for range sp.Parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				t := s.take()
				if t == nil || ctx.Err() != nil {
					return
				}
				if err := s.runTrial(ctx, t); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	s.progress.done()
	close(errc)
	if err := <-errc; err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st := &Study{Spec: sp, Dir: opt.Dir, Trials: s.trials, Best: s.best, Resumed: resumed}
	if st.Best != nil {
		if err := s.copyBest(st.Best); err != nil {
			return nil, err
		}
	}
	if err := WriteReport(filepath.Join(opt.Dir, StudyHTML), st); err != nil {
		return nil, err
	}
	if opt.Out != nil {
		WriteTable(opt.Out, st)
	}
	return st, nil
}

// fingerprint hashes the config file and the search space.
func fingerprint(configFile string, sp *Spec) (string, error) {
	b, err := os.ReadFile(configFile)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(b)
	fmt.Fprintf(h, "\n%s %v %s %s %d %d %d", sp.Metric, sp.Maximize, sp.Sampler, sp.Pruner, sp.Seed, sp.MinResource, sp.ReductionFactor)
	for _, p := range sp.Params {
		fmt.Fprintf(h, "\n%s %s %d %g %g %g %v %q", p.Key, p.Space, p.Kind, p.Low, p.High, p.Step, p.Log, yamlFlow(p.Choices))
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// take returns the next trial to run: a cut-off one first, else a newly
// sampled one (nil when the budget is spent). The values of trial n are
// sampled from the trials known at that moment.
func (s *study) take() *TrialRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) > 0 {
		t := s.pending[0]
		s.pending = s.pending[1:]
		s.progress.update(s.trials, s.best, s.spec)
		return t
	}
	if s.limit > 0 && s.next >= s.limit || !s.deadline.IsZero() && time.Now().After(s.deadline) {
		return nil
	}
	view := make([]*Trial, len(s.trials))
	for i, t := range s.trials {
		c := t.Trial
		c.Steps = slices.Clone(t.Steps)
		view[i] = &c
	}
	n := s.next
	s.next++
	values := s.sampler.Sample(n, view)
	t := &TrialRecord{Trial: Trial{Number: n, State: Running, Values: values}, Params: map[string]any{}, Sets: s.spec.Sets(values), Started: time.Now().UTC()}
	for i := range s.spec.Params {
		t.Params[s.spec.Params[i].Key] = s.spec.Params[i].External(values[i])
	}
	s.trials = append(s.trials, t)
	s.progress.update(s.trials, s.best, s.spec)
	return t
}

// runTrial runs one trial to its end and records it. Only a failure to
// write the journal is returned: a trial's own failure is its state.
func (s *study) runTrial(ctx context.Context, t *TrialRecord) error {
	if !t.announced { // a trial cut off by a kill keeps its first start record
		if err := s.journal.Append(Record{Event: EventStart, Trial: t.Number, Params: t.Params, Values: t.Values, Sets: t.Sets}); err != nil {
			return err
		}
		t.announced = true
	}
	start := time.Now()
	state, value, errMsg, jerr := s.fit(ctx, t)
	if jerr != nil {
		return jerr
	}
	if ctx.Err() != nil && state != Complete {
		return nil // interrupted: left running in the journal, resumed next time
	}
	rec := Record{Event: EventEnd, Trial: t.Number, State: state, Error: errMsg, Seconds: time.Since(start).Seconds()}
	if state == Complete {
		rec.Value = &value
	}
	if err := s.journal.Append(rec); err != nil {
		return err
	}
	s.mu.Lock()
	t.State, t.Value, t.Error, t.Seconds = state, value, errMsg, rec.Seconds
	improved := s.consider(t)
	s.progress.update(s.trials, s.best, s.spec)
	s.mu.Unlock()
	if improved {
		return s.copyBest(t)
	}
	return nil
}

// fit runs train for trial t and returns how it ended.
func (s *study) fit(ctx context.Context, t *TrialRecord) (state State, value float64, errMsg string, journalErr error) {
	dir := filepath.Join(s.opt.Dir, TrialsDir, strconv.Itoa(t.Number))
	defer func() {
		if r := recover(); r != nil {
			state, errMsg = Failed, fmt.Sprintf("panic: %v", r)
		}
	}()
	cfg, err := train.LoadConfigWith(s.opt.ConfigFile, t.Sets)
	if err != nil {
		return Failed, 0, err.Error(), nil
	}
	cfg.Train.Threads = 0 // the study shares the cores (kernel.SetThreads in Run)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Failed, 0, err.Error(), nil
	}
	logf, err := os.OpenFile(filepath.Join(dir, "train.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return Failed, 0, err.Error(), nil
	}
	defer logf.Close()
	onEpoch := func(r train.EpochResult) error {
		v := metricOf(r, s.spec.Metric)
		m := map[string]float64{"val_loss": r.ValLoss, "train_loss": r.TrainLoss}
		for k, x := range r.Val {
			m["val_"+k] = x
		}
		if err := s.journal.Append(Record{Event: EventEpoch, Trial: t.Number, Epoch: r.Epoch, Metrics: m, Value: &v, Seconds: r.Seconds}); err != nil {
			journalErr = err
			return err
		}
		s.mu.Lock()
		i := len(t.Steps)
		for i > 0 && t.Steps[i-1].Epoch >= r.Epoch {
			i--
		}
		t.Steps, t.Metrics = append(t.Steps[:i], Step{Epoch: r.Epoch, Value: v}), append(t.Metrics[:i], m)
		prune := false
		if s.pruner != nil {
			others := make([]*Trial, 0, len(s.trials))
			for _, o := range s.trials {
				if o != t {
					others = append(others, &o.Trial)
				}
			}
			prune = s.pruner.Prune(&t.Trial, others)
		}
		s.progress.update(s.trials, s.best, s.spec)
		s.mu.Unlock()
		if prune {
			return errPruned
		}
		return nil
	}
	res, err := train.Run(ctx, cfg, dir, train.RunOptions{Out: logf, OnEpoch: onEpoch})
	switch {
	case journalErr != nil:
		return Failed, 0, "", journalErr
	case errors.Is(err, errPruned):
		return Pruned, 0, "", nil
	case err != nil:
		fmt.Fprintf(logf, "trial failed: %v\n", err)
		return Failed, 0, err.Error(), nil
	}
	h := res.History
	if h == nil || len(h.Epochs) == 0 {
		return Failed, 0, "no epoch finished", nil
	}
	best := h.Epochs[len(h.Epochs)-1]
	if h.BestEpoch > 0 {
		best = h.Epochs[h.BestEpoch-1]
	}
	v := metricOf(best, s.spec.Metric)
	if math.IsNaN(v) {
		return Failed, 0, fmt.Sprintf("the run reported no %s", s.spec.Metric), nil
	}
	return Complete, v, "", nil
}

// metricOf reads metric ("val_loss", "val_accuracy", ...) from an epoch.
func metricOf(r train.EpochResult, metric string) float64 {
	name := metric[len("val_"):]
	if name == "loss" {
		if r.Val == nil {
			return math.NaN()
		}
		return r.ValLoss
	}
	if v, ok := r.Val[name]; ok {
		return v
	}
	return math.NaN()
}

// consider makes t the best trial if it is complete and better; it
// reports whether it did. Callers hold s.mu (or run alone).
func (s *study) consider(t *TrialRecord) bool {
	if t.State != Complete || math.IsNaN(t.Value) {
		return false
	}
	if s.best == nil || s.spec.Maximize && t.Value > s.best.Value || !s.spec.Maximize && t.Value < s.best.Value {
		s.best = t
		return true
	}
	return false
}

// copyBest copies t's artifact to best/model, replacing the previous one
// only once the copy is whole.
func (s *study) copyBest(t *TrialRecord) error {
	s.copyMu.Lock()
	defer s.copyMu.Unlock()
	s.mu.Lock()
	still := s.best == t
	s.mu.Unlock()
	if !still {
		return nil // a better trial finished meanwhile
	}
	src := filepath.Join(s.opt.Dir, TrialsDir, strconv.Itoa(t.Number), train.ModelDir)
	bestDir := filepath.Join(s.opt.Dir, BestDir)
	tmp := filepath.Join(bestDir, "model.tmp")
	dst := filepath.Join(bestDir, "model")
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := copyTree(src, tmp); err != nil {
		return fmt.Errorf("tune: copying the best model: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "TRIAL"), []byte(strconv.Itoa(t.Number)+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// copyTree copies the regular files under src to dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o644)
	})
}
