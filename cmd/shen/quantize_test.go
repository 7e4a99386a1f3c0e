package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestQuantize trains the image test model, quantises it on its own
// images and checks the int8 artifact: the report, evaluate and predict on
// it, and the errors for bad use.
func TestQuantize(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", "testdata", "images"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "stripes.yaml")
	yml := "data:\n  path: " + root + "\n  format: images\n  image: {width: 8, height: 8, gray: true}\n  split: {val: 0, test: 0.25}\n" +
		"preprocessing:\n  image: {normalize: true}\nmodel: {kind: cnn, channels: [4], hidden: [8]}\ntrain: {epochs: 10, batch_size: 2, optimizer: {lr: 0.01}}\n"
	if err := os.WriteFile(cfg, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, "train", "--config", cfg, "--out", dir); err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	md, qd := filepath.Join(dir, "stripes", "model"), filepath.Join(dir, "q")
	out, err := run(t, "quantize", "--model", md, "--calibration", root, "--out", qd, "--eval", root)
	if err != nil {
		t.Fatalf("quantize: %v\n%s", err, out)
	}
	for _, want := range []string{"quantised 3 layers", "0          conv2d", "float32  on", "int8     on", "accuracy"} {
		if !strings.Contains(out, want) {
			t.Errorf("quantize report lacks %q:\n%s", want, out)
		}
	}
	spec, err := os.ReadFile(filepath.Join(qd, "model.json"))
	if err != nil || !strings.Contains(string(spec), `"scheme": "int8-symmetric"`) {
		t.Fatalf("model.json of the quantised artifact: %v\n%s", err, spec)
	}
	if out, err := run(t, "evaluate", "--model", qd, "--data", root); err != nil || !strings.Contains(out, "accuracy") {
		t.Errorf("evaluate the int8 model: %v\n%s", err, out)
	}
	png := filepath.Join(root, "vertical", "1.png")
	if out, err := run(t, "predict", "--model", qd, "--input", png); err != nil || !strings.Contains(out, png) {
		t.Errorf("predict with the int8 model: %v\n%s", err, out)
	}
	// --float keeps the convolution in float32.
	fd := filepath.Join(dir, "qf")
	if out, err := run(t, "quantize", "--model", md, "--calibration", root, "--out", fd, "--float", "0"); err != nil || !strings.Contains(out, "quantised 2 layers") || !regexp.MustCompile(`(?m)^  0 +conv2d .* float32 \(--float\)$`).MatchString(out) {
		t.Errorf("quantize --float 0: %v\n%s", err, out)
	}
	// --float auto keeps exactly the layers whose int8 time it lists as
	// slower than their float32 time.
	ad := filepath.Join(dir, "qa")
	out, err = run(t, "quantize", "--model", md, "--calibration", root, "--out", ad, "--float", "auto")
	if err != nil && !strings.Contains(err.Error(), "every layer runs slower in int8") {
		t.Fatalf("quantize --float auto: %v\n%s", err, out)
	}
	rows := regexp.MustCompile(`(?m)^  (\d+) +(linear|conv2d) +\S+ +\S+ +(\S+) +(\S+) +(int8|float32 \(--float\))$`).FindAllStringSubmatch(out, -1)
	if err == nil && len(rows) != 3 {
		t.Fatalf("quantize --float auto lists %d layers, want 3:\n%s", len(rows), out)
	}
	for _, r := range rows {
		f, err1 := time.ParseDuration(r[3])
		q, err2 := time.ParseDuration(r[4])
		if err1 != nil || err2 != nil {
			t.Fatalf("layer %s: times %q and %q: %v %v", r[1], r[3], r[4], err1, err2)
		}
		if slower := q > f; slower != (r[5] != "int8") && q != f {
			t.Errorf("layer %s: float32 %v, int8 %v, runs in %s", r[1], f, q, r[5])
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"quantize", "--model", md, "--calibration", root, "--out", fd, "--float", "9"}, `layer "9" is not a Linear or Conv2D layer of the model (those are 0, `},
		{[]string{"quantize", "--model", md, "--calibration", root, "--out", fd, "--float", "0,4,6"}, "every quantisable layer"},
		{[]string{"quantize", "--model", md}, "are required"},
		{[]string{"quantize", "--model", md, "--calibration", root, "--out", qd, "--samples", "0"}, "--samples must be positive"},
		{[]string{"quantize", "--model", qd, "--calibration", root, "--out", dir}, "already quantised"},
		{[]string{"quantize", "--model", md, "--calibration", "/no/such/file", "--out", dir}, "/no/such/file"},
	} {
		if _, err := run(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("shen %s: %v, want an error with %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}
