package train

import (
	"fmt"
	"io"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
)

// prepareText reads a text file for a language model: it builds the
// vocabulary, splits the token stream by position (the first part
// trains, the next validates, the last tests), and cuts training windows
// of data.text.seq tokens every stride tokens and evaluation windows
// without overlap.
func prepareText(cfg *Config, p *prepared, out io.Writer) (*prepared, error) {
	d := cfg.Data
	// ReadText reads a .gz corpus decompressed (under a cap), and refuses
	// special files and invalid UTF-8 naming the line.
	text, err := data.ReadText(cfg.DataPath(d.Path), 0)
	if err != nil {
		return nil, err
	}
	if d.Limit > 0 && d.Limit < len(text) {
		text = text[:d.Limit]
	}
	level := data.Chars
	if d.Text.Level == "word" {
		level = data.Words
	}
	v, err := data.BuildVocab(text, data.VocabOptions{Level: level})
	if err != nil {
		return nil, cfg.errAt("data.path", "%v", err)
	}
	ids := v.Encode(text)
	n := len(ids)
	nTrain := int(float64(n) * (1 - *d.Split.Val - *d.Split.Test))
	nVal := int(float64(n) * *d.Split.Val)
	seq := d.Text.Seq
	if nTrain <= seq {
		return nil, cfg.errAt("data.text.seq", "%d tokens per window, but the training part has only %d tokens", seq, nTrain)
	}
	p.vocab = v
	p.input = []int{seq}
	train, val, test := ids[:nTrain], ids[nTrain:nTrain+nVal], ids[nTrain+nVal:]
	p.unigram = data.UnigramLoss(train, val, v.Len())
	if len(val) == 0 {
		p.unigram = data.UnigramLoss(train, test, v.Len())
	}
	mk := func(part []int64, stride int) (data.Dataset, int, error) {
		if len(part) <= seq {
			return emptyText{seq}, 0, nil
		}
		w, err := data.NewTokenWindows(part, seq, stride)
		if err != nil {
			return nil, 0, err
		}
		return w, w.Len(), nil
	}
	if p.trainDS, p.trainN, err = mk(train, d.Text.Stride); err != nil {
		return nil, err
	}
	if p.valDS, p.valN, err = mk(val, seq); err != nil {
		return nil, err
	}
	if p.testDS, p.testN, err = mk(test, seq); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "text: %d tokens (%s level): %d train, %d val, %d test\n", n, d.Text.Level, len(train), len(val), len(test))
	return p, nil
}

// emptyText is a split with no windows.
type emptyText struct{ seq int }

func (emptyText) Len() int                   { return 0 }
func (e emptyText) Spec() data.Spec          { return data.Spec{XIntShape: []int{e.seq}, YLen: e.seq} }
func (emptyText) Get(int, data.Sample) error { return fmt.Errorf("no samples") }

// lmInput passes a batch of token ids as float32 values [B, T] (see
// model.LanguageModel.Forward).
func lmInput(b *data.Batch) *tensor.Tensor {
	x := make([]float32, len(b.XInt))
	for i, v := range b.XInt {
		x[i] = float32(v)
	}
	return tensor.FromSlice(x, b.Size, len(b.XInt)/b.Size)
}

// lmLoss is the mean next-token cross-entropy of logits [B, T, V].
func lmLoss(out *tensor.Tensor, b *data.Batch) *tensor.Tensor {
	bt := out.Size(0) * out.Size(1)
	return nn.CrossEntropy(out.Reshape(bt, -1), tensor.IntFromSlice(b.Y, bt))
}
