package onnx

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	osexec "os/exec"
	"path/filepath"
	"testing"

	"github.com/shenml/shen/tensor"
	"google.golang.org/protobuf/proto"
)

// ortScript drives ONNX Runtime (npm onnxruntime-node) from node.
const ortScript = "../testdata/onnx/ort_run.js"

// ortNodePath returns the node_modules folder holding onnxruntime-node,
// from SHEN_ORT_NODE_PATH (.ci/run installs it there), or skips.
func ortNodePath(t testing.TB) string {
	dir := os.Getenv("SHEN_ORT_NODE_PATH")
	if dir == "" {
		t.Skip("ONNX Runtime not available: set SHEN_ORT_NODE_PATH to a node_modules folder with onnxruntime-node@1.30.0 (.ci/run installs it with npm)")
	}
	if _, err := osexec.LookPath("node"); err != nil {
		t.Skip("ONNX Runtime not available: node is not installed")
	}
	if _, err := os.Stat(filepath.Join(dir, "onnxruntime-node")); err != nil {
		t.Skipf("ONNX Runtime not available: %s has no onnxruntime-node", dir)
	}
	return dir
}

type ortTensor struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Dims []int  `json:"dims"`
	File string `json:"file"`
}

// writeOrtRequest stores inputs as raw files and returns the request path.
func writeOrtRequest(t testing.TB, dir string, names []string, ins []*Tensor, threads int) string {
	t.Helper()
	req := struct {
		Threads int         `json:"threads"`
		Inputs  []ortTensor `json:"inputs"`
	}{Threads: threads}
	for i, in := range ins {
		var raw []byte
		typ := "float32"
		switch {
		case in.DType == String:
			typ = "string"
			raw, _ = json.Marshal(in.S)
		case in.DType.isFloat():
			raw = make([]byte, 4*len(in.F))
			for j, v := range in.F {
				binary.LittleEndian.PutUint32(raw[4*j:], math.Float32bits(v))
			}
		default:
			typ = "int64"
			raw = make([]byte, 8*len(in.I))
			for j, v := range in.I {
				binary.LittleEndian.PutUint64(raw[8*j:], uint64(v))
			}
		}
		file := filepath.Join(dir, names[i]+".bin")
		if err := os.WriteFile(file, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		req.Inputs = append(req.Inputs, ortTensor{Name: names[i], Type: typ, Dims: in.Shape, File: file})
	}
	b, _ := json.Marshal(req)
	path := filepath.Join(dir, "request.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// ortRun runs the model file in ONNX Runtime and returns its float outputs.
func ortRun(t testing.TB, nodePath, modelFile string, names []string, ins []*Tensor) []*Tensor {
	t.Helper()
	dir := t.TempDir()
	req := writeOrtRequest(t, dir, names, ins, 1)
	cmd := osexec.Command("node", ortScript, "run", modelFile, req, dir)
	cmd.Env = append(os.Environ(), "NODE_PATH="+nodePath)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("onnxruntime: %v\n%s", err, out)
	}
	var resp struct{ Outputs []ortTensor }
	b, err := os.ReadFile(filepath.Join(dir, "response.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		t.Fatal(err)
	}
	var outs []*Tensor
	for _, o := range resp.Outputs {
		raw, err := os.ReadFile(o.File)
		if err != nil {
			t.Fatal(err)
		}
		if o.Type != "float32" {
			t.Fatalf("output %s is %s", o.Name, o.Type)
		}
		f := make([]float32, len(raw)/4)
		for i := range f {
			f[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		outs = append(outs, NewFloat(f, o.Dims...))
	}
	return outs
}

// Exported Shen models load in ONNX Runtime 1.30 and match Shen's own
// outputs within 1e-5, at both opsets.
func TestExportONNXRuntime(t *testing.T) {
	nodePath := ortNodePath(t)
	for name, arch := range exportArchs() {
		for _, opset := range []int{14, 17} {
			t.Run(name+map[int]string{14: "_opset14", 17: "_opset17"}[opset], func(t *testing.T) {
				m := newExportModel(t, name, arch)
				mp, err := Export(m, ExportOptions{Opset: opset})
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := proto.Marshal(mp)
				file := filepath.Join(t.TempDir(), "model.onnx")
				if err := os.WriteFile(file, raw, 0o644); err != nil {
					t.Fatal(err)
				}
				x := sampleInput(arch, 3, rand.New(rand.NewPCG(2, uint64(opset))))
				want := m.Predict(x)
				in := NewFloat(x.Data(), x.Shape()...)
				if mp.Graph.Input[0].GetType().GetTensorType().GetElemType() == 7 {
					in = NewInt64(make([]int64, len(in.F)), in.Shape...)
					for i, v := range x.Data() {
						in.I[i] = int64(v)
					}
				}
				got := ortRun(t, nodePath, file, []string{mp.Graph.Input[0].GetName()}, []*Tensor{in})[0]
				var c OutputCheck
				compare(&c, got, NewFloat(want.Data(), want.Shape()...), Tolerance{Atol: 1e-5})
				t.Logf("max abs difference to Shen %.3g", c.MaxAbs)
				if !c.Pass {
					t.Fatalf("ONNX Runtime differs from Shen: max abs %.3g %s", c.MaxAbs, c.Problem)
				}
			})
		}
	}
}

// The exported graph with table preprocessing (numeric steps and the
// ai.onnx.ml one-hot and ordinal encoders) runs in ONNX Runtime on raw
// columns and matches Shen's pipeline and network.
func TestExportPreprocessingONNXRuntime(t *testing.T) {
	nodePath := ortNodePath(t)
	m, rows := prepModel(t)
	feats, width, err := m.Spec.Preprocessing.TransformRows(rows)
	if err != nil {
		t.Fatal(err)
	}
	want := m.Predict(tensor.FromSlice(feats, len(feats)/width, width))
	mp, err := Export(m, ExportOptions{Opset: 17, Preprocessing: true})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := proto.Marshal(mp)
	file := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	names, ins := rowInputs(m.Spec.Preprocessing, rows)
	got := ortRun(t, nodePath, file, names, ins)[0]
	assertClose(t, got, NewFloat(want.Data(), want.Shape()...), 1e-5)
}
