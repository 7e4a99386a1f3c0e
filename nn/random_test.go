package nn

import (
	"slices"
	"testing"

	"github.com/shenml/shen/tensor"
)

// TestDropoutStream checks that the mask of call k depends only on (Seed,
// k): a second layer given the first's state continues its masks exactly.
func TestDropoutStream(t *testing.T) {
	SetSeed(3)
	a := NewDropout(0.5)
	x := tensor.Ones(4, 8)
	a.Forward(x)
	a.Forward(x)
	saved := RandomStates(a)
	want := slices.Clone(a.Forward(x).Data())
	if a.Calls != 3 {
		t.Fatalf("Calls %d after three calls, want 3", a.Calls)
	}
	SetSeed(99)
	b := NewDropout(0.5)
	if b.Seed == a.Seed {
		t.Fatal("two seeds gave the same stream seed")
	}
	if unknown := SetRandomStates(b, saved); len(unknown) != 0 {
		t.Fatalf("unknown %v", unknown)
	}
	if got := b.Forward(x).Data(); !slices.Equal(got, want) {
		t.Fatalf("resumed mask %v, want %v", got, want)
	}
	Train(b, false)
	b.Forward(x)
	if b.Calls != 3 {
		t.Errorf("evaluation mode advanced the stream to %d", b.Calls)
	}
}

// TestRandomStatesNames lists the streams of a stack under their module names.
func TestRandomStatesNames(t *testing.T) {
	SetSeed(1)
	cfg := DefaultTransformerEncoderLayerConfig(8, 2)
	cfg.DimFeedforward = 16
	enc := NewTransformerEncoder(cfg, 1, false)
	s := RandomStates(enc)
	for _, k := range []string{"layers.0.self_attn", "layers.0.dropout", "layers.0.dropout1", "layers.0.dropout2"} {
		if _, ok := s[k]; !ok {
			t.Errorf("no stream %q in %v", k, s)
		}
	}
	lstm := NewLSTM(3, 4, RNNConfig{NumLayers: 2, Dropout: 0.3})
	if _, ok := RandomStates(lstm)[""]; !ok {
		t.Error("LSTM has no stream")
	}
}
