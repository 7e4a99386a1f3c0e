package nn

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shenml/shen/internal/golden"
	"github.com/shenml/shen/model/safetensors"
	"github.com/shenml/shen/tensor"
)

var updateStateDict = flag.Bool("update", false, "rewrite testdata/torch/statedict/from_shen.safetensors")

// testNet is the Go twin of Net in testdata/torch/gen_statedict.py.
type testNet struct {
	Scale *tensor.Tensor
	Temp  *tensor.Tensor
	Conv  *Conv2D
	BN    *BatchNorm `nn:"bn"`
	Head  *Linear
}

func newTestNet() *testNet {
	return &testNet{Scale: NewParameter(tensor.Ones(1)), Temp: NewParameter(tensor.Ones(1).Reshape()),
		Conv: NewConv2D(1, 2, 3), BN: NewBatchNorm2D(2), Head: NewLinear(8, 3)}
}

func (n *testNet) Members() Members { return MembersOf(n) }

func (n *testNet) Forward(x *tensor.Tensor) *tensor.Tensor {
	h := tensor.ReLU(n.BN.Forward(n.Conv.Forward(x))).Flatten(1, -1)
	return tensor.Div(tensor.Mul(n.Head.Forward(h), n.Scale), n.Temp)
}

type stateDictFixture struct {
	Input, Output  golden.Tensor
	Keys           []string
	MissingKeys    []string `json:"missing_keys"`
	UnexpectedKeys []string `json:"unexpected_keys"`
}

func statedictPath(name string) string {
	return filepath.Join(filepath.Dir(golden.Path("statedict")), "statedict", name)
}

// TestLoadSafetensorsFromTorch loads a state dict written by PyTorch 1.13
// (num_batches_tracked a 0-d I64, a [1] and a 0-d parameter) and checks
// the eval output against torch's, and that saving it again gives torch's
// bytes exactly.
func TestLoadSafetensorsFromTorch(t *testing.T) {
	var fx stateDictFixture
	if err := golden.LoadInto("statedict", &fx); err != nil {
		t.Fatal(err)
	}
	net := newTestNet()
	var names []string
	for _, e := range StateDict(net) {
		names = append(names, e.Name)
	}
	if !slices.Equal(names, fx.Keys) {
		t.Fatalf("state dict keys %v, torch's %v", names, fx.Keys)
	}
	keys, err := LoadSafetensors(net, statedictPath("model.safetensors"), true)
	if err != nil || len(keys.Missing)+len(keys.Unexpected) > 0 {
		t.Fatalf("strict load: %v, %+v", err, keys)
	}
	if v := net.BN.NumBatchesTracked.Item(); v != 3 {
		t.Fatalf("num_batches_tracked %v, want 3", v)
	}
	Train(net, false)
	out := net.Forward(goldenTensor(fx.Input))
	expectGolden(t, "eval output", out, fx.Output, 1e-5)

	saved := filepath.Join(t.TempDir(), "again.safetensors")
	if err := SaveSafetensors(net, saved); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(saved)
	want, _ := os.ReadFile(statedictPath("model.safetensors"))
	if !bytes.Equal(got, want) {
		t.Fatalf("saved file (%d bytes) differs from torch's (%d bytes)", len(got), len(want))
	}
	f, err := safetensors.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]struct {
		d     safetensors.DType
		shape []int
	}{"bn.num_batches_tracked": {safetensors.I64, []int{}}, "temp": {safetensors.F32, []int{}},
		"scale": {safetensors.F32, []int{1}}, "conv.weight": {safetensors.F32, []int{2, 1, 3, 3}}} {
		if g := f.Tensors[name]; g.DType != want.d || !slices.Equal(g.Shape, want.shape) {
			t.Errorf("%s saved as %s %v, torch has %s %v", name, g.DType, g.Shape, want.d, want.shape)
		}
	}
}

// TestStateDictFileWrittenByShen writes a trained-looking model with -update for
// gen_statedict.py to load into torch with strict=True.
func TestStateDictFileWrittenByShen(t *testing.T) {
	net := newTestNet()
	if _, err := LoadSafetensors(net, statedictPath("model.safetensors"), true); err != nil {
		t.Fatal(err)
	}
	path := statedictPath("from_shen.safetensors")
	if *updateStateDict {
		if err := SaveSafetensors(net, path); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Skip("no from_shen.safetensors; run with -update, then gen_statedict.py")
	}
	other := newTestNet()
	if _, err := LoadSafetensors(other, path, true); err != nil {
		t.Fatal(err)
	}
}

// TestLoadSafetensorsNonStrict is torch's load_state_dict(strict=False) on
// an older checkpoint: the same missing and unexpected keys, the present
// entries loaded, the absent ones untouched.
func TestLoadSafetensorsNonStrict(t *testing.T) {
	var fx stateDictFixture
	if err := golden.LoadInto("statedict", &fx); err != nil {
		t.Fatal(err)
	}
	path := statedictPath("partial.safetensors")
	net := newTestNet()
	if _, err := LoadSafetensors(net, path, true); err == nil || !strings.Contains(err.Error(), "missing") || !strings.Contains(err.Error(), "partial.safetensors") {
		t.Fatalf("strict load of a partial file: %v, want an error naming the file and the missing entry", err)
	}
	if net.BN.NumBatchesTracked.Item() != 0 {
		t.Fatal("a failed strict load changed the model")
	}
	keys, err := LoadSafetensors(net, path, false)
	if err != nil {
		t.Fatal(err)
	}
	wantUnexpected := slices.Sorted(slices.Values(fx.UnexpectedKeys))
	if !slices.Equal(keys.Missing, fx.MissingKeys) || !slices.Equal(keys.Unexpected, wantUnexpected) {
		t.Fatalf("missing %v unexpected %v, torch says %v and %v", keys.Missing, keys.Unexpected, fx.MissingKeys, wantUnexpected)
	}
	if net.BN.NumBatchesTracked.Item() != 3 || net.Temp.Item() != 1 {
		t.Fatalf("after a non-strict load: num_batches_tracked %v (want 3), temp %v (want untouched 1)", net.BN.NumBatchesTracked.Item(), net.Temp.Item())
	}
}

// TestLoadSafetensorsScalarVsVector: a 0-d entry and a [1] entry are
// different shapes, as in torch ("size mismatch"), strict or not.
func TestLoadSafetensorsScalarVsVector(t *testing.T) {
	var f safetensors.File
	net := newTestNet()
	for _, e := range StateDict(net) {
		shape := e.Value.Shape()
		if e.Name == "temp" {
			shape = []int{1}
		}
		if err := f.AddFloat32(e.Name, shape, e.Value.Data()); err != nil {
			t.Fatal(err)
		}
	}
	for _, strict := range []bool{true, false} {
		_, err := LoadStateDictFrom(newTestNet(), &f, strict)
		if err == nil || !strings.Contains(err.Error(), `"temp" has shape [1], the model needs []`) || !strings.Contains(err.Error(), "0-d") {
			t.Errorf("strict=%v: %v, want a shape error telling 0-d from [1]", strict, err)
		}
	}
}

// FuzzLoadStateDictFrom: any bytes that parse as safetensors load into a
// module or fail with an error, strict or not, never a panic; a failed
// load leaves the module unchanged.
func FuzzLoadStateDictFrom(f *testing.F) {
	for _, name := range []string{"model.safetensors", "partial.safetensors"} {
		b, err := os.ReadFile(statedictPath(name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, true)
		f.Add(b, false)
	}
	f.Fuzz(func(t *testing.T, b []byte, strict bool) {
		sf, err := safetensors.Read(b)
		if err != nil {
			return
		}
		net := newTestNet()
		before := snapshotValues(net)
		if _, err := LoadStateDictFrom(net, sf, strict); err != nil && !slices.Equal(before, snapshotValues(net)) {
			t.Fatalf("a failed load (%v) changed the module", err)
		}
	})
}

func snapshotValues(m Module) []float32 {
	var out []float32
	for _, e := range StateDict(m) {
		out = append(out, e.Value.Data()...)
	}
	return out
}
