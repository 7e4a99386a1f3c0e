package quant

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/shenml/shen/nn"
)

// TestTimeLayers times every layer the spec lists, in network order, on
// the input each sees, and refuses what Apply refuses.
func TestTimeLayers(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	net := nn.NewSequential(nn.NewConv2D(1, 4, 3), nn.ReLU{}, nn.NewFlatten(),
		nn.NewSequential(nn.NewLinear(4*6*6, 8), nn.ReLU{}), nn.NewLinear(8, 3))
	x := randTensor(r, 1, 16, 1, 8, 8)
	spec, err := Calibrate(net, x, 16)
	if err != nil {
		t.Fatal(err)
	}
	times, err := TimeLayers(net, spec, x)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, lt := range times {
		names = append(names, lt.Name)
		if lt.Float <= 0 || lt.Int8 <= 0 {
			t.Errorf("layer %s: float32 %v, int8 %v", lt.Name, lt.Float, lt.Int8)
		}
	}
	if got := strings.Join(names, " "); got != "0 3.0 4" {
		t.Errorf("timed layers %q, want \"0 3.0 4\"", got)
	}
	if _, err := TimeLayers(nn.NewLinear(2, 2), spec, x); err == nil || !strings.Contains(err.Error(), "only Sequential") {
		t.Errorf("a bare Linear: %v", err)
	}
}
