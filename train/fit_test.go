package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/optim"
	"github.com/shenml/shen/report"
)

// blobs returns n samples of d features in k Gaussian clusters.
func blobs(n, d, k int, seed uint64) *data.ArrayDataset {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, n*d)
	y := make([]int64, n)
	for i := range n {
		c := r.IntN(k)
		y[i] = int64(c)
		for j := range d {
			x[i*d+j] = float32(c*2-k) + float32(r.NormFloat64())
		}
	}
	ds, err := data.NewArrayDataset(x, []int{d}, y)
	if err != nil {
		panic(err)
	}
	return ds
}

// setup builds a fresh model, optimizer, schedule and loaders; initSeed
// changes the initial weights (a resumed run must not depend on them).
func setup(t *testing.T, initSeed uint64, dir string) FitOptions {
	return setupNet(t, initSeed, dir, false)
}

// setupNet is setup with, when dropout, a Dropout layer in the model.
func setupNet(t *testing.T, initSeed uint64, dir string, dropout bool) FitOptions {
	t.Helper()
	nn.SetSeed(initSeed)
	net := nn.NewSequential(nn.NewLinear(4, 16), nn.ReLU{}, nn.NewLinear(16, 3))
	if dropout {
		net = nn.NewSequential(nn.NewLinear(4, 16), nn.ReLU{}, nn.NewDropout(0.3), nn.NewLinear(16, 3))
	}
	opt, err := optim.NewAdam(nn.Parameters(net), optim.AdamConfig{LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	if err != nil {
		t.Fatal(err)
	}
	sch, err := optim.NewStepLR(opt, 2, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := data.NewLoader(blobs(200, 4, 3, 1), data.LoaderOptions{BatchSize: 16, Shuffle: true, Seed: 42, Prefetch: 2})
	if err != nil {
		t.Fatal(err)
	}
	va, err := data.NewLoader(blobs(60, 4, 3, 2), data.LoaderOptions{BatchSize: 32})
	if err != nil {
		t.Fatal(err)
	}
	return FitOptions{Model: net, Optimizer: opt, Scheduler: sch, Train: tr, Val: va, Epochs: 5, ClipNorm: 1,
		Classes: []string{"a", "b", "c"}, CheckpointDir: dir, CheckpointEvery: 5}
}

func weights(m nn.Module) map[string][]float32 { return copyState(m) }

func sameBits(t *testing.T, a, b map[string][]float32) {
	t.Helper()
	for k, va := range a {
		vb := b[k]
		if len(va) != len(vb) {
			t.Fatalf("%s: %d vs %d values", k, len(va), len(vb))
		}
		for i := range va {
			if math.Float32bits(va[i]) != math.Float32bits(vb[i]) {
				t.Fatalf("%s[%d]: %v (uninterrupted) vs %v (resumed)", k, i, va[i], vb[i])
			}
		}
	}
}

func TestFitLearns(t *testing.T) {
	o := setup(t, 1, "")
	h, err := Fit(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Epochs) != 5 || h.Steps != 5*13 {
		t.Fatalf("epochs %d steps %d", len(h.Epochs), h.Steps)
	}
	last := h.Epochs[len(h.Epochs)-1]
	if last.Val["accuracy"] < 0.9 {
		t.Errorf("val accuracy %.3f, want >= 0.9", last.Val["accuracy"])
	}
	if h.BestEpoch == 0 || last.LR != 0.01*0.5*0.5 {
		t.Errorf("best epoch %d, final lr %g", h.BestEpoch, last.LR)
	}
}

// TestResumeBitExact abandons runs right after a step (as kill -9 would:
// nothing more is written) and resumes them in fresh state from the
// checkpoint directory; the final weights must equal those of an
// uninterrupted run bit for bit.
func TestResumeBitExact(t *testing.T) {
	t.Run("plain", func(t *testing.T) { testResumeBitExact(t, false) })
	t.Run("dropout", func(t *testing.T) { testResumeBitExact(t, true) })
}

func testResumeBitExact(t *testing.T, dropout bool) {
	setup := func(t *testing.T, initSeed uint64, dir string) FitOptions { return setupNet(t, initSeed, dir, dropout) }
	ref := setup(t, 1, t.TempDir())
	hRef, err := Fit(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	want := weights(ref.Model)
	// 13 steps per epoch, checkpoints every 5 steps and at epoch ends.
	for _, crashAt := range []int64{3, 7, 13, 14, 27, 40, 64} {
		dir := t.TempDir()
		o := setup(t, 1, dir)
		ctx, cancel := context.WithCancel(context.Background())
		o.OnStep = func(_, _ int, step int64) {
			if step == crashAt {
				cancel()
			}
		}
		if _, err := Fit(ctx, o); !errors.Is(err, context.Canceled) {
			t.Fatalf("crash at %d: err %v", crashAt, err)
		}
		cancel()
		// Once a checkpoint exists, start from other initial weights: all
		// must come from the checkpoint. Before, the rerun starts over as
		// the same command would.
		initSeed := uint64(99)
		if crashAt < 5 {
			initSeed = 1
		}
		r := setup(t, initSeed, dir)
		h, err := Fit(context.Background(), r)
		if err != nil {
			t.Fatalf("resume after %d: %v", crashAt, err)
		}
		if crashAt >= 5 && h.ResumedFrom == 0 {
			t.Errorf("crash at %d: did not resume", crashAt)
		}
		sameBits(t, want, weights(r.Model))
		if h.BestEpoch != hRef.BestEpoch || len(h.Epochs) != len(hRef.Epochs) {
			t.Errorf("crash at %d: best epoch %d of %d, want %d of %d", crashAt, h.BestEpoch, len(h.Epochs), hRef.BestEpoch, len(hRef.Epochs))
		}
		for i := range h.Epochs {
			if h.Epochs[i].TrainLoss != hRef.Epochs[i].TrainLoss || h.Epochs[i].ValLoss != hRef.Epochs[i].ValLoss {
				t.Errorf("crash at %d: epoch %d losses %v/%v, want %v/%v", crashAt, i+1, h.Epochs[i].TrainLoss, h.Epochs[i].ValLoss, hRef.Epochs[i].TrainLoss, hRef.Epochs[i].ValLoss)
			}
		}
	}
}

func TestEarlyStoppingRestoresBest(t *testing.T) {
	o := setup(t, 1, "")
	o.Epochs = 60
	o.Scheduler = nil
	o.EarlyStopping = EarlyStopping{Patience: 2, Monitor: "val_accuracy", MinDelta: 0.5}
	h, err := Fit(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !h.StoppedEarly || len(h.Epochs) != 3 || h.BestEpoch != 1 {
		t.Fatalf("stopped %v after %d epochs, best %d; want stopped after 3, best 1", h.StoppedEarly, len(h.Epochs), h.BestEpoch)
	}
	ev, err := Evaluate(o.Model, o.Val, Classification, o.Classes, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Loss != h.Epochs[0].ValLoss {
		t.Errorf("restored model has val loss %v, best epoch had %v", ev.Loss, h.Epochs[0].ValLoss)
	}
}

func TestFitRejectsBadOptions(t *testing.T) {
	o := setup(t, 1, "")
	o.Epochs = 0
	if _, err := Fit(context.Background(), o); err == nil {
		t.Error("epochs 0 accepted")
	}
	o = setup(t, 1, "")
	o.EarlyStopping.Monitor = "val_nope"
	if _, err := Fit(context.Background(), o); err == nil {
		t.Error("unknown monitor accepted")
	}
}

// A run killed after it logged an epoch but before it checkpointed it
// redoes that epoch on resume: the run log must hold each epoch once, and
// no test record of the earlier attempt.
func TestResumeRewindsRunLog(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, RunLogFile)
	fit := func(epochs int) {
		o := setup(t, 1, filepath.Join(dir, "ck"))
		o.Epochs = epochs
		l, err := OpenRunLog(logPath)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		o.Log = l
		if _, err := Fit(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	fit(2)
	// What the killed attempt left: epoch 3 logged, a test record, and a
	// checkpoint still at epoch 2.
	l, err := OpenRunLog(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []report.Record{{Epoch: 3, Split: report.SplitTrain, Loss: 9}, {Epoch: 3, Split: report.SplitVal, Loss: 9}, {Epoch: 2, Split: report.SplitTest, Loss: 9}} {
		if err := l.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	fit(3)
	recs, err := ReadRunLog(logPath)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		k := fmt.Sprint(r.Epoch, r.Split)
		if seen[k] || r.Loss == 9 {
			t.Errorf("run log after resume: %s duplicated or left from the killed attempt (%+v)", k, r)
		}
		seen[k] = true
	}
	if len(recs) != 6 {
		t.Errorf("%d records, want train and val for 3 epochs", len(recs))
	}
}

// A tampered checkpoint is refused, never trusted.
func TestTamperedCheckpoint(t *testing.T) {
	dir := t.TempDir()
	o := setup(t, 1, dir)
	o.Epochs = 1
	if _, err := Fit(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, CheckpointFile)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ from, to, want string }{
		{`"epoch":1`, `"epoch":-3`, "epoch -3"},
		{`"epoch":1`, `"epoch":99999`, "epoch 99999"},
		{`"batch":0`, `"batch":-1`, "batch -1"},
		{`"best_epoch":1`, `"best_epoch":7`, "best epoch 7"},
		{`"weights":"`, `"weights":"../`, "not a file name"},
	} {
		bad := strings.Replace(string(orig), tc.from, tc.to, 1)
		if bad == string(orig) {
			t.Fatalf("checkpoint has no %s: %s", tc.from, orig)
		}
		if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		o := setup(t, 1, dir)
		o.Epochs = 2
		_, err := Fit(context.Background(), o)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), CheckpointFile) {
			t.Errorf("%s -> %s: error %v, want one naming the checkpoint and %q", tc.from, tc.to, err, tc.want)
		}
	}
}
