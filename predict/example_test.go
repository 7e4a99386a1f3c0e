package predict_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/shenml/shen/predict"
	"github.com/shenml/shen/train"
)

// Train the iris model of testdata/configs, then answer raw records with
// it as a client of the CLI, the Go API or the server would.
func Example() {
	dir, _ := os.MkdirTemp("", "shen-example")
	defer os.RemoveAll(dir)
	cfg, err := train.LoadConfig(filepath.Join("..", "testdata", "configs", "iris.yaml"))
	if err != nil {
		panic(err)
	}
	run, err := train.Run(context.Background(), cfg, filepath.Join(dir, "iris"), train.RunOptions{Out: io.Discard})
	if err != nil {
		panic(err)
	}

	p, err := predict.Load(run.ModelDir) // e.g. "runs/iris/model"
	if err != nil {
		panic(err)
	}
	res, err := p.Records([]map[string]any{
		{"f0": 5.1, "f1": 3.5, "f2": 1.4, "f3": 0.2},
		{"f0": 9.9, "f1": 3.0, "f2": 5.2, "f3": 2.3},
	})
	if err != nil {
		panic(err)
	}
	for i := range res.N {
		fmt.Printf("%s %.3f %v\n", res.Label(i), res.Probs[i*3+res.Class[i]], res.Notes[i])
	}
	// Output:
	// setosa 1.000 []
	// virginica 0.957 [{f0 out_of_range 9.9 is outside the training range [4.4, 7.7]}]
}
