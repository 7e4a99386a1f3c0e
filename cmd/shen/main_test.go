package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
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
