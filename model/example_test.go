package model_test

import (
	"fmt"
	"os"

	"github.com/shenml/shen/model"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
)

// Save a model artifact and load it back for prediction, as a program
// serving the model would.
func Example() {
	nn.SetSeed(1)
	m, err := model.New(model.Spec{
		Name: "tiny", Task: "classification", Labels: []string{"no", "yes"},
		Architecture: model.Architecture{Kind: "mlp", Input: []int{4}, Outputs: 2, Hidden: []int{8}},
	})
	if err != nil {
		panic(err)
	}
	dir, _ := os.MkdirTemp("", "shen-example")
	defer os.RemoveAll(dir)
	if err := m.Save(dir); err != nil { // model.json + weights.safetensors
		panic(err)
	}

	loaded, err := model.Load(dir) // checks every tensor's name and shape
	if err != nil {
		panic(err)
	}
	x := tensor.FromSlice([]float32{0.1, 0.2, 0.3, 0.4, 1, 2, 3, 4}, 2, 4)
	probs := tensor.Softmax(loaded.Predict(x), 1) // evaluation mode, no gradients
	pred := tensor.Argmax(probs, 1, false).Data()
	fmt.Println(len(pred), loaded.Spec.Signature.Inputs[0].Shape, loaded.Spec.Labels)
	// Output: 2 [-1 4] [no yes]
}
