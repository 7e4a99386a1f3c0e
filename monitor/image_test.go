package monitor

import (
	"log/slog"
	"math/rand/v2"
	"testing"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/model"
)

// images draws n 1×8×8 images: pixel intensities Beta-like around 0.3
// (plus bright), the first class more likely when dark.
func images(rng *rand.Rand, n int, bright float64) []float32 {
	x := make([]float32, n*64)
	for i := range n {
		base := 0.2 + 0.2*rng.Float64() + bright
		for j := range 64 {
			x[i*64+j] = float32(min(max(base+0.1*rng.NormFloat64(), 0), 1))
		}
	}
	return x
}

func imageArtifact(t *testing.T) (model.Spec, *data.Profile, *data.ImageNormalize) {
	rng := rand.New(rand.NewPCG(9, 9))
	x := images(rng, 2000, 0)
	labels := make([]int64, 2000)
	for i := range labels {
		labels[i] = int64(rng.IntN(4) / 3) // 75% "zero", 25% "one"
	}
	prof, err := data.NewImageProfile(x, 1, 8, 8, nil, labels, []string{"zero", "one"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	norm, err := data.FitImageNormalize(x, 1, 8, 8)
	if err != nil {
		t.Fatal(err)
	}
	spec := model.Spec{Name: "img", Task: "classification", Labels: []string{"zero", "one"},
		Image: &model.ImageInput{Channels: 1, Height: 8, Width: 8, Normalize: norm}}
	return spec, prof, norm
}

func TestImageDriftPerChannelAndPredictions(t *testing.T) {
	spec, prof, norm := imageArtifact(t)
	ref, err := NewReference(spec, prof)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 3))
	prepare := func(x []float32) []float32 { // the artifact's normalisation, as serving applies it
		if err := norm.Apply(x, 8, 8); err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, c := range []struct {
		bright float64
		want   bool
	}{{0, false}, {0.25, true}} {
		cmp, err := ref.CompareImages(prepare(images(rng, 200, c.bright)), 200, DefaultConfig().Drift)
		if err != nil {
			t.Fatal(err)
		}
		got := drifted(cmp.Features)
		if got["pixel_c0"] != c.want || got["pixel_mean_c0"] != c.want {
			t.Errorf("brightness +%v: drifted %v, want %v%s", c.bright, got, c.want, describe(cmp.Features))
		}
		if f := cmp.Features[0]; c.bright == 0 && (f.Mean < 0.25 || f.Mean > 0.35 || f.Std < 0.05) {
			t.Errorf("pixel mean %v std %v: the normalisation was not undone", f.Mean, f.Std)
		}
	}
	// Predictions against the profile's label distribution (75/25).
	m, err := NewModel("img", "1", spec, prof, testConfig(""), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, share := range []float64{0.25, 0.9} {
		for range 300 {
			class := 0
			if rng.Float64() < share {
				class = 1
			}
			m.Observe(Observation{Rows: 1, Inputs: prepare(images(rng, 1, 0)), Class: []int{class}})
		}
		m.Flush()
		p := m.Snapshot().Prediction
		if p == nil || p.Drifted != (share > 0.5) {
			t.Errorf("%.0f%% predicted one: prediction drift %+v", 100*share, p)
		}
	}
	if _, err := ref.CompareImages(make([]float32, 10), 1, DefaultConfig().Drift); err == nil {
		t.Error("wrong image size: no error")
	}
}
