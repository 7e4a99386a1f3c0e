package train

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shenml/shen/model"
	"github.com/shenml/shen/tensor"
)

// TestRunCharLM trains a tiny character language model from a config and
// checks that the artifact carries the vocabulary and generates text.
func TestRunCharLM(t *testing.T) {
	dir := t.TempDir()
	text := strings.Repeat("call me ishmael. some years ago. ", 60)
	if err := os.WriteFile(filepath.Join(dir, "t.txt"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(filepath.Join(dir, "c.yaml"), []byte(`data:
  path: t.txt
  text: {level: char, seq: 16}
  split: {val: 0.1, test: 0.1}
model: {kind: transformer, causal: true, d_model: 16, heads: 2, dropout: 0.1}
train: {epochs: 2, batch_size: 16, optimizer: {lr: 0.01}}
`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), cfg, filepath.Join(dir, "run"), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Test == nil || res.Test.Loss >= res.Model.Spec.Training.Metrics["test_unigram_loss"] {
		t.Errorf("test loss %+v does not beat the unigram baseline %v", res.Test, res.Model.Spec.Training.Metrics)
	}
	m, err := model.Load(res.ModelDir)
	if err != nil {
		t.Fatal(err)
	}
	lm, ok := m.Net.(*model.LanguageModel)
	if !ok || m.Spec.Vocab == nil || m.Spec.Task != LanguageModel {
		t.Fatalf("artifact net %T, vocab %v", m.Net, m.Spec.Vocab)
	}
	out := lm.Generate(m.Spec.Vocab.Encode("call"), 20, 0.8, tensor.NewRNG(1))
	if len(out) != 20 {
		t.Fatalf("generated %d tokens", len(out))
	}
}

// A gzipped corpus (*.txt.gz) trains on its text, not on the compressed
// bytes: the vocabulary is the text's characters.
func TestRunCharLMGzip(t *testing.T) {
	dir := t.TempDir()
	text := strings.Repeat("call me ishmael. some years ago. ", 60)
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(text))
	w.Close()
	if err := os.WriteFile(filepath.Join(dir, "t.txt.gz"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(filepath.Join(dir, "c.yaml"), []byte(`data:
  path: t.txt.gz
  text: {level: char, seq: 16}
model: {kind: transformer, causal: true, d_model: 8, heads: 2}
train: {epochs: 1, batch_size: 16}
`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), cfg, filepath.Join(dir, "run"), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	chars := map[rune]bool{}
	for _, r := range text {
		chars[r] = true
	}
	if v := res.Model.Spec.Vocab; v == nil || v.Len() > len(chars)+2 {
		t.Errorf("vocabulary of %d tokens for a text of %d distinct characters: trained on the compressed bytes?", v.Len(), len(chars))
	}
}
