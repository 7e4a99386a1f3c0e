package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// run runs the CLI in process with args and returns what it printed.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return runArgs(args...)
}

func TestBadInputFails(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("data:\n  path: x.csv\n  colour: red\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := [][]string{
		{"train"},
		{"train", "--config", "/does/not/exist.yaml"},
		{"train", "--config", bad},
		{"evaluate", "--model", "/nope"},
		{"predict", "--model", "/nope", "--input", "x.csv"},
		{"inspect", "--model", "/nope"},
		{"inspect", "extra-arg"},
		{"nosuchcommand"},
	}
	for _, c := range cases {
		if _, err := run(t, c...); err == nil {
			t.Errorf("shen %s: no error", strings.Join(c, " "))
		}
	}
	_, err := run(t, "train", "--config", bad)
	if err == nil || !strings.Contains(err.Error(), "bad.yaml:3: data.colour: unknown key") {
		t.Errorf("bad config error: %v", err)
	}
}

// TestQuickstart runs the whole lifecycle (about two seconds), then the
// other commands on its artifact.
func TestQuickstart(t *testing.T) {
	dir := t.TempDir()
	out, err := run(t, "quickstart", "--dir", dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "4. evaluate on 359 held-out test digits: accuracy 0.9") {
		t.Errorf("output:\n%s", out)
	}
	md := filepath.Join(dir, "model")
	if out, err = run(t, "inspect", "--model", md); err != nil || !strings.Contains(out, "parameters   6090") {
		t.Errorf("inspect: %v\n%s", err, out)
	}
	// Predict one all-zero image given as named pixel columns.
	csv := filepath.Join(dir, "rows.csv")
	var b strings.Builder
	for i := range 64 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("c" + string(rune('0'+i/10)) + string(rune('0'+i%10)))
	}
	b.WriteString("\n")
	b.WriteString(strings.Repeat("0,", 63) + "0\n")
	hdr := strings.ReplaceAll(b.String(), "c0", "c") // c00..c09 -> c0..c9
	if err := os.WriteFile(csv, []byte(hdr), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err = run(t, "predict", "--model", md, "--input", csv); err != nil || !strings.HasPrefix(out, "prediction,p_0,p_1") {
		t.Errorf("predict: %v\n%s", err, out)
	}
}

// TestImageCommands trains on the committed PNG folder with normalised
// pixels, then evaluates and predicts on the folder, one PNG, and IDX
// files written here.
func TestImageCommands(t *testing.T) {
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
	md := filepath.Join(dir, "stripes", "model")
	out, err := run(t, "evaluate", "--model", md, "--data", root)
	if err != nil || !strings.Contains(out, "(8 images)") || !strings.Contains(out, "accuracy") {
		t.Errorf("evaluate on the folder: %v\n%s", err, out)
	}
	png := filepath.Join(root, "vertical", "1.png")
	out, err = run(t, "predict", "--model", md, "--input", png)
	if err != nil || !strings.HasPrefix(out, "input,prediction,p_horizontal,p_vertical\n"+png+",") {
		t.Errorf("predict one PNG: %v\n%s", err, out)
	}
	if out, err = run(t, "inspect", "--model", md); err != nil || !strings.Contains(out, "image input  1x8x8") || !strings.Contains(out, "normalised with mean") {
		t.Errorf("inspect: %v\n%s", err, out)
	}

	// IDX: four 8x8 images (rows for horizontal, 0; columns for vertical, 1).
	img := []byte{0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 8, 0, 0, 0, 8}
	for i := range 4 {
		for y := range 8 {
			for x := range 8 {
				on := (i%2 == 0 && y%2 == 0) || (i%2 == 1 && x%2 == 0)
				img = append(img, map[bool]byte{true: 230, false: 30}[on])
			}
		}
	}
	lab := []byte{0, 0, 8, 1, 0, 0, 0, 4, 0, 1, 0, 1}
	idir := t.TempDir()
	ip, lp := filepath.Join(idir, "stripes-images-idx3-ubyte"), filepath.Join(idir, "stripes-labels-idx1-ubyte")
	os.WriteFile(ip, img, 0o644)
	os.WriteFile(lp, lab, 0o644)
	for _, args := range [][]string{{"--data", ip}, {"--data", ip, "--labels", lp}} {
		out, err := run(t, append([]string{"evaluate", "--model", md}, args...)...)
		if err != nil || !strings.Contains(out, "(4 images)") {
			t.Errorf("evaluate %v: %v\n%s", args, err, out)
		}
	}
	out, err = run(t, "predict", "--model", md, "--input", ip, "--output", filepath.Join(idir, "p.jsonl"))
	if err != nil {
		t.Errorf("predict IDX: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(filepath.Join(idir, "p.jsonl"))
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 4 || !strings.Contains(lines[3], `"input":"`+ip+`[3]"`) || !strings.Contains(lines[0], `"p_horizontal"`) && !strings.Contains(lines[0], `"horizontal":`) {
		t.Errorf("predictions:\n%s", b)
	}
	// Wrong combinations fail with a message.
	for _, args := range [][]string{
		{"evaluate", "--model", md, "--data", png},                         // no labels
		{"evaluate", "--model", md, "--data", root, "--labels", lp},        // labels for a folder
		{"evaluate", "--model", md, "--data", ip, "--target", "y"},         // --target on images
		{"evaluate", "--model", md, "--data", filepath.Join(idir, "nope")}, // missing file
	} {
		if out, err := run(t, args...); err == nil {
			t.Errorf("shen %s: no error\n%s", strings.Join(args, " "), out)
		}
	}
}

// shen config keys prints the reference docs/config.md holds.
func TestConfigKeys(t *testing.T) {
	out, err := run(t, "config", "keys", "--markdown")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "docs", "config.md"))
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Error("shen config keys --markdown differs from docs/config.md")
	}
	out, err = run(t, "config", "keys")
	if err != nil || !strings.Contains(out, "train.optimizer.lr") || !strings.Contains(out, "0.001") {
		t.Errorf("shen config keys: %v\n%s", err, out)
	}
}

// Exit statuses are documented: 1 for a failed command, 2 for a wrong
// command line, 130 for an interrupt. Each usage error is typed where
// cobra reports it (a flag, an argument check, the command lookup), with
// cobra's message unchanged.
func TestExitCodes(t *testing.T) {
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"train"}, exitUsage, "train: --config is required"},
		{[]string{"nosuchcommand"}, exitUsage, `unknown command "nosuchcommand" for "shen"`},
		{[]string{"trian"}, exitUsage, "unknown command \"trian\" for \"shen\"\n\nDid you mean this?\n\ttrain\n"},
		{[]string{"--nosuch"}, exitUsage, "unknown flag: --nosuch"},
		{[]string{"inspect", "--nosuchflag"}, exitUsage, "unknown flag: --nosuchflag"},
		{[]string{"train", "-x"}, exitUsage, "unknown shorthand flag: 'x' in -x"},
		{[]string{"inspect", "--model"}, exitUsage, "flag needs an argument: --model"},
		{[]string{"train", "--katib-metrics=maybe"}, exitUsage, `invalid argument "maybe" for "--katib-metrics" flag`},
		{[]string{"inspect", "extra-arg"}, exitUsage, `unknown command "extra-arg" for "shen inspect"`},
		{[]string{"onnx", "check"}, exitUsage, "accepts 1 arg(s), received 0"},
		{[]string{"config", "keys", "extra"}, exitUsage, `unknown command "extra" for "shen config keys"`},
		{[]string{"completion", "bash", "extra"}, exitUsage, `unknown command "extra" for "shen completion bash"`},
		{[]string{"inspect", "--model", "/does/not/exist"}, exitFailed, "/does/not/exist"},
	}
	for _, c := range cases {
		_, err := run(t, c.args...)
		if err == nil || exitCode(err) != c.code || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("shen %s: error %q, exit %d, want %d and %q", strings.Join(c.args, " "), err, exitCode(err), c.code, c.msg)
		}
	}
	// Help, asked for or for a group that runs nothing, is no error.
	for _, args := range [][]string{nil, {"--help"}, {"onnx"}, {"help", "nosuch"}} {
		if _, err := run(t, args...); err != nil {
			t.Errorf("shen %s: %v", strings.Join(args, " "), err)
		}
	}
	if exitCode(fmt.Errorf("train: %w", context.Canceled)) != exitInterrupted {
		t.Error("an interrupted run does not exit 130")
	}
	if exitCode(errors.New("unknown command, as a message of a failed command")) != exitFailed {
		t.Error("a failed command's message decides its exit status")
	}
}

// Every command's argument check, cobra's help and completion commands
// included, reports a usageError: a command added later cannot forget it.
func TestArgsChecksAreUsageErrors(t *testing.T) {
	var walk func(c *cobra.Command)
	checked := 0
	walk = func(c *cobra.Command) {
		if c.Args != nil {
			if err := c.Args(c, []string{"a", "b", "c"}); err != nil {
				checked++
				if _, ok := errors.AsType[usageError](err); !ok {
					t.Errorf("%s: argument error %v is not a usageError", c.CommandPath(), err)
				}
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot())
	if checked < 10 {
		t.Errorf("only %d commands refuse three arguments", checked)
	}
}

// A finished run is kept unless --force replaces it; --quiet prints
// nothing.
func TestTrainForceAndQuiet(t *testing.T) {
	out := t.TempDir()
	cfg := filepath.Join("..", "..", "testdata", "configs", "iris.yaml")
	if o, err := run(t, "train", "--config", cfg, "--out", out, "--quiet"); err != nil || o != "" {
		t.Fatalf("quiet train: %v, printed %q", err, o)
	}
	_, err := run(t, "train", "--config", cfg, "--out", out)
	if err == nil || !strings.Contains(err.Error(), "already holds a finished run") || !strings.Contains(err.Error(), "--force") {
		t.Errorf("second train without --force: %v", err)
	}
	if _, err := run(t, "train", "--config", cfg, "--out", out, "--force", "--quiet"); err != nil {
		t.Errorf("train --force: %v", err)
	}
	// --force never removes a folder that is not a run.
	notRun := filepath.Join(out, "iris")
	os.Remove(filepath.Join(notRun, "metrics.jsonl"))
	if _, err := run(t, "train", "--config", cfg, "--out", out, "--force"); err == nil || !strings.Contains(err.Error(), "does not look like a run directory") {
		t.Errorf("--force on a folder without a run log: %v", err)
	}
}
