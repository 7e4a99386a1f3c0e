package predict_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shenml/shen/model"
)

// A process serves one model while it trains another: training must
// record every gradient (its weights are bit-identical to a run alone)
// and every answer must equal the sequential one. Run it under -race.
func TestPredictWhileTraining(t *testing.T) {
	alone := trainFruit(t, "mean")
	p := load(t, alone)
	rows := []map[string]any{
		{"size": 3.0, "color": "green", "weight": 120.0},
		{"size": 9.5, "color": "blue", "weight": 101.0},
		{"size": 5.0, "color": "red", "weight": 140.0},
	}
	want, err := p.Records(rows)
	if err != nil {
		t.Fatal(err)
	}

	var stop atomic.Bool
	var wg sync.WaitGroup
	var answered atomic.Int64
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				got, err := p.Records(rows)
				if err != nil {
					errs <- err
					return
				}
				for i := range want.Probs {
					if got.Probs[i] != want.Probs[i] {
						t.Errorf("concurrent answer %d: %v, alone %v", i, got.Probs[i], want.Probs[i])
						return
					}
				}
				answered.Add(1)
			}
		}()
	}
	during := trainFruit(t, "mean")
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if answered.Load() == 0 {
		t.Fatal("no prediction ran during training")
	}
	a, err := os.ReadFile(filepath.Join(alone, model.WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(during, model.WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("weights trained beside a serving predictor differ from weights trained alone")
	}
	t.Logf("%d predictions during training", answered.Load())
}
