package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shenml/shen/model"
	"github.com/shenml/shen/onnx"
	"google.golang.org/protobuf/proto"
)

const torchCNN = "../../testdata/onnx/torch/cnn_bn"

// copyDir copies the ONNX test-layout folder src to a temp dir.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestONNXCheck(t *testing.T) {
	out, err := run(t, "onnx", "check", torchCNN)
	if err != nil || !strings.Contains(out, `pass  test_data_set_0  output "logprobs"`) || !strings.Contains(out, "1 of 1 outputs pass") {
		t.Fatalf("check of a passing folder: %v\n%s", err, out)
	}
	// A stored output that the model does not give: exit status 1.
	dir := copyDir(t, torchCNN)
	want, err := onnx.ReadTensorFile(filepath.Join(dir, "test_data_set_0", "output_0.pb"), onnx.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want.F[0] += 1
	b, err := protoBytes(want)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "test_data_set_0", "output_0.pb"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, "onnx", "check", dir)
	if err == nil || !strings.Contains(out, "FAIL  test_data_set_0") {
		t.Fatalf("check of a failing folder: %v\n%s", err, out)
	}
}

// import -> inspect -> export gives back the same bytes; inspect of an
// .onnx file names opset and operators.
func TestONNXImportInspectExport(t *testing.T) {
	src := filepath.Join(torchCNN, "model.onnx")
	art := filepath.Join(t.TempDir(), "art")
	if out, err := run(t, "import", "--onnx", src, "--out", art, "--labels", "a,b,c,d,e"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err := run(t, "inspect", "--model", art)
	if err != nil || !strings.Contains(out, `"kind":"onnx"`) {
		t.Fatalf("inspect of the artifact: %v\n%s", err, out)
	}
	back := filepath.Join(t.TempDir(), "back.onnx")
	if out, err := run(t, "export", "--model", art, "--out", back); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	a, _ := os.ReadFile(src)
	b, _ := os.ReadFile(back)
	if !bytes.Equal(a, b) {
		t.Error("an imported model does not export back byte for byte")
	}
	out, err = run(t, "inspect", "--model", src)
	if err != nil || !strings.Contains(out, "opset        14") || !strings.Contains(out, "Conv ") {
		t.Fatalf("inspect of the file: %v\n%s", err, out)
	}
	if _, err := run(t, "export", "--model", art, "--out", back, "--format", "tflite"); err == nil {
		t.Error("--format tflite accepted")
	}
}

// A Shen artifact exports at opset 14 into a file Shen reads back.
func TestONNXExportArtifact(t *testing.T) {
	m, err := model.New(model.Spec{Name: "mlp", Task: model.TaskClassification, Labels: []string{"x", "y"},
		Architecture: model.Architecture{Kind: "mlp", Input: []int{4}, Hidden: []int{8}, Outputs: 2}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "m.onnx")
	out, err := run(t, "export", "--model", dir, "--out", file, "--opset", "14")
	if err != nil || !strings.Contains(out, "opset 14") {
		t.Fatalf("%v\n%s", err, out)
	}
	mp, err := onnx.ReadFile(file, onnx.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := onnx.Compile(mp, onnx.Limits{}); err != nil {
		t.Fatal(err)
	}
}

func protoBytes(t *onnx.Tensor) ([]byte, error) {
	return proto.Marshal(onnx.TensorToProto("output_0", t))
}
