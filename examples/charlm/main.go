// Command charlm trains a character-level transformer language model on
// Moby-Dick: token and learned position embeddings, pre-norm transformer
// encoder layers under a causal mask, and a linear head predicting the
// next character. It reports validation loss beside the unigram baseline
// (the loss of predicting each character by its frequency alone) and
// prints text sampled from the model.
//
//	go run ./examples/charlm -steps 600
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/optim"
	"github.com/shenml/shen/tensor"
)

// charLM is the decoder-only transformer of model.LanguageModel (the
// model `shen train` builds for kind transformer with causal: true) with
// the loss of a batch of windows.
type charLM struct{ *model.LanguageModel }

func newCharLM(vocab, seq, d, heads, layers int) *charLM {
	return &charLM{model.NewLanguageModel(model.LMConfig{Vocab: vocab, MaxLen: seq, DModel: d, Heads: heads, Layers: layers, Activation: "gelu"})}
}

// loss is the mean next-character cross-entropy of a batch of windows.
func (m *charLM) loss(ids, next []int64, b, t int) *tensor.Tensor {
	logits := m.ForwardIDs(tensor.IntFromSlice(ids, b, t))
	return nn.CrossEntropy(logits.Reshape(b*t, -1), tensor.IntFromSlice(next, b*t))
}

// config holds the command's flags.
type config struct {
	path                         string
	steps, batch, seq, d, layers int
	heads, sample, threads       int
	lr                           float64
	seed                         uint64
}

// result is what a run measured.
type result struct{ val, baseline float64 }

func main() {
	var c config
	flag.StringVar(&c.path, "data", "../shared/data/text/moby-dick.txt", "plain-text corpus")
	flag.IntVar(&c.steps, "steps", 600, "training steps")
	flag.IntVar(&c.batch, "batch", 32, "windows per batch")
	flag.IntVar(&c.seq, "seq", 128, "characters per window")
	flag.IntVar(&c.d, "d", 128, "model width")
	flag.IntVar(&c.layers, "layers", 3, "transformer layers")
	flag.IntVar(&c.heads, "heads", 4, "attention heads")
	flag.Float64Var(&c.lr, "lr", 2e-3, "peak learning rate (linear warmup, cosine decay)")
	flag.IntVar(&c.sample, "sample", 400, "characters to sample at the end")
	flag.Uint64Var(&c.seed, "seed", 1, "seed")
	flag.IntVar(&c.threads, "threads", 0, "kernel threads (0 = GOMAXPROCS)")
	flag.Parse()
	res, err := run(c)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("RESULT model=charlm val_loss=%.4f unigram=%.4f\n", res.val, res.baseline)
}

// run trains and evaluates the model, printing progress and a sample.
func run(c config) (result, error) {
	kernel.SetThreads(c.threads)
	nn.SetSeed(c.seed)
	raw, err := os.ReadFile(c.path)
	if err != nil {
		return result{}, fmt.Errorf("%w (pass -data with a text file)", err)
	}
	text := string(raw)
	vocab, err := data.BuildVocab(text, data.VocabOptions{Level: data.Chars})
	if err != nil {
		return result{}, err
	}
	ids := vocab.Encode(text)
	split := len(ids) * 9 / 10
	trainIDs, valIDs := ids[:split], ids[split:]
	fmt.Printf("corpus %s: %d characters, vocabulary %d, train %d / validation %d\n", c.path, len(ids), vocab.Len(), len(trainIDs), len(valIDs))

	baseline := data.UnigramLoss(trainIDs, valIDs, vocab.Len())
	fmt.Printf("unigram baseline (character frequencies alone): %.3f nats/char\n", baseline)

	windows, err := data.NewTokenWindows(trainIDs, c.seq, c.seq/2)
	if err != nil {
		return result{}, err
	}
	loader, err := data.NewLoader(windows, data.LoaderOptions{BatchSize: c.batch, Shuffle: true, Seed: c.seed, DropLast: true, Prefetch: 2})
	if err != nil {
		return result{}, err
	}
	m := newCharLM(vocab.Len(), c.seq, c.d, c.heads, c.layers)
	fmt.Printf("model: %d layers, width %d, %d heads, %d parameters\n", c.layers, c.d, c.heads, nn.NumParameters(m))
	params := nn.Parameters(m)
	cfg := optim.DefaultAdamWConfig()
	cfg.LR = c.lr
	opt, err := optim.NewAdamW(params, cfg)
	if err != nil {
		return result{}, err
	}
	sched, err := optim.NewWarmupCosine(opt, optim.WarmupCosine{WarmupSteps: c.steps / 10, TotalSteps: c.steps, MinLR: c.lr / 10})
	if err != nil {
		return result{}, err
	}

	start := time.Now()
	step := 0
	for epoch := 0; step < c.steps; epoch++ {
		for b, err := range loader.Epoch(epoch) {
			if err != nil {
				return result{}, err
			}
			loss := m.loss(b.XInt, b.Y, b.Size, c.seq)
			opt.ZeroGrad()
			loss.Backward()
			optim.ClipGradNorm(params, 1, 2)
			opt.Step()
			sched.Step()
			l := loss.Item()
			loss.FreeGraph()
			step++
			if step%50 == 0 || step == c.steps {
				el := time.Since(start).Seconds()
				fmt.Printf("step %d/%d  train loss %.3f  lr %.2g  %.0f chars/s\n", step, c.steps, l, sched.LR()[0], float64(step*c.batch*c.seq)/el)
			}
			if step == c.steps {
				break
			}
		}
	}
	val := validationLoss(m, valIDs, c.seq, c.batch)
	fmt.Printf("validation loss %.3f nats/char (unigram baseline %.3f, %.0f%% lower) after %d steps in %.0fs\n",
		val, baseline, 100*(1-val/baseline), c.steps, time.Since(start).Seconds())
	fmt.Printf("sample:\n%s\n", generate(m, vocab, "Call me Ishmael. ", c.sample, c.seq, c.seed))
	return result{val: val, baseline: baseline}, nil
}

// validationLoss averages the loss over non-overlapping windows of val.
func validationLoss(m *charLM, val []int64, seq, batch int) float64 {
	nn.Train(m, false)
	defer nn.Train(m, true)
	n := (len(val) - 1) / seq
	var sum float64
	var count int
	nn.NoGrad(m, func() {
		for i := 0; i < n; i += batch {
			b := min(batch, n-i)
			ids := make([]int64, 0, b*seq)
			next := make([]int64, 0, b*seq)
			for w := i; w < i+b; w++ {
				ids = append(ids, val[w*seq:(w+1)*seq]...)
				next = append(next, val[w*seq+1:(w+1)*seq+1]...)
			}
			l := m.loss(ids, next, b, seq)
			sum += float64(l.Item()) * float64(b)
			count += b
		}
	})
	return sum / float64(count)
}

// generate samples n characters after prompt, one at a time, from the
// softmax of the model's last-position logits (temperature 0.8).
func generate(m *charLM, vocab *data.Vocab, prompt string, n, seq int, seed uint64) string {
	nn.Train(m, false)
	defer nn.Train(m, true)
	return prompt + vocab.Decode(m.Generate(vocab.Encode(prompt), n, 0.8, tensor.NewRNG(seed)))
}
