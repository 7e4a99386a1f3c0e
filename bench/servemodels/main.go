// Command servemodels writes the model repository bench/serve.sh serves:
// the MNIST MLP (784-512-256-10, as examples/mlp) and LeNet-5 (as
// configs/mnist_lenet.yaml) with seeded weights, each twice: "<name>" with
// dynamic batching and "<name>_nobatch" without. Serving speed depends on
// the shapes, not the weights; the PyTorch server loads the same
// weights.safetensors.
//
//	go run ./bench/servemodels -out DIR
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/shenml/shen/model"
	"github.com/shenml/shen/nn"
)

func main() {
	out := flag.String("out", "", "repository folder to write")
	delay := flag.Int("delay-us", 200, "max_queue_delay_microseconds of the batched models")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "servemodels: -out is required")
		os.Exit(2)
	}
	archs := map[string]model.Architecture{
		"mlp": {Kind: "mlp", Input: []int{784}, Outputs: 10, Hidden: []int{512, 256}},
		"lenet": {Kind: "layers", Input: []int{1, 28, 28}, Outputs: 10, Layers: []model.LayerSpec{
			{Type: "conv2d", Out: 6, Kernel: 5, Padding: 2}, {Type: "relu"}, {Type: "maxpool2d", Kernel: 2},
			{Type: "conv2d", Out: 16, Kernel: 5}, {Type: "relu"}, {Type: "maxpool2d", Kernel: 2},
			{Type: "flatten"}, {Type: "linear", Out: 120}, {Type: "relu"}, {Type: "linear", Out: 84}, {Type: "relu"}, {Type: "linear", Out: 10}}},
	}
	configs := map[string]string{
		"":         fmt.Sprintf("max_batch_size: 64\ndynamic_batching: {max_queue_delay_microseconds: %d, max_queue_size: 4096}\n", *delay),
		"_nobatch": "max_batch_size: 64\n",
	}
	for name, a := range archs {
		nn.SetSeed(1)
		m, err := model.New(model.Spec{Name: name, Task: "classification", Architecture: a, Labels: strings.Split("0 1 2 3 4 5 6 7 8 9", " ")})
		check(err)
		for suffix, cfg := range configs {
			dir := filepath.Join(*out, name+suffix)
			check(m.Save(filepath.Join(dir, "1")))
			check(os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o644))
		}
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "servemodels:", err)
		os.Exit(1)
	}
}
